"""The notice's rules: raw rows → normalised records + issues.

Every cell goes through the normaliser of its column's kind (``forms.Kind``); then the
form's row rules run on the normalised values; finally the rules that span files
(student phones, duplicate accounts, groups, influencers) run over every record of the run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from . import forms as F
from .config import Campaign
from .issues import Issue, make
from .normalize import Parsed, clean_text, is_placeholder, nfkc_key, choice_parser, parse_count, \
    parse_date, parse_phone, parse_yesno
from .reader import Table, col_letter

Kind = F.Kind


@dataclass
class Record:
    """One data row of one form: normalised values (or the text as typed where they failed)."""

    form: F.Form
    unit: str
    file: str
    sheet: str
    row: int
    values: dict[str, object]
    columns: dict[str, str]  # column key -> letter in the source sheet
    extras: dict[str, object] = field(default_factory=dict)  # header (or "X列") -> value as typed
    issues: list[Issue] = field(default_factory=list)

    def where(self) -> str:
        """Where a person finds this row: unit, sheet (and its form when named otherwise), row."""
        sheet = self.form.sheet if self.sheet == self.form.sheet else f"{self.sheet}（附件{self.form.id}）"
        return f"{self.unit} {sheet} 第{self.row}行"


@dataclass
class Context:
    config: Campaign
    as_of: date
    file: str
    unit: str
    parsers: dict[Kind, Callable[[object], Parsed]]

    @classmethod
    def build(cls, config: Campaign, as_of: date, file: str = "", unit: str = "") -> "Context":
        area = config.default_area_code
        parsers = {
            Kind.PHONE: lambda v: parse_phone(v, area),
            Kind.DATE: parse_date,
            Kind.COUNT: parse_count,
            Kind.YESNO: parse_yesno,
            Kind.PLATFORM: choice_parser(config.platforms),
            Kind.GROUP_TYPE: choice_parser(config.group_types),
        }
        return cls(config, as_of, file, unit, parsers)

    def at(self, file: str, unit: str) -> "Context":
        return Context(self.config, self.as_of, file, unit, self.parsers)


def _choices(ctx: Context, kind: Kind) -> str:
    items = ctx.config.platforms if kind is Kind.PLATFORM else ctx.config.group_types
    return "、".join(c.name for c in items)


# ---------------------------------------------------------------------------- tables

def check_table(table: Table, ctx: Context) -> tuple[list[Record], list[Issue]]:
    """Header checks first, then every row; returns the records and the table-level issues."""
    form = table.form
    loc = dict(file=ctx.file, unit=ctx.unit, form=form.id, sheet=table.sheet)
    issues: list[Issue] = []
    missing = [c for c in table.missing if c.required]
    if all(k not in table.columns for k in ("title", "major")) and form.id == 5:
        missing.append(form.column("title"))
        missing.append(form.column("major"))
    if missing:
        issues.append(make("header-mismatch", row=table.header_row, **loc,
                           what=f"像是附件{form.id}《{form.name}》",
                           missing="，缺少以下列：" + "、".join(c.label for c in missing)))
    letters = {key: col_letter(ci) for key, ci in table.columns.items()}
    records = []
    flagged_extra: set[int] = set()
    for raw in table.rows:
        rec = Record(form, ctx.unit, ctx.file, table.sheet, raw.row, {}, letters)
        for ci, value in sorted(raw.extras.items()):
            name = table.extra_headers.get(ci) or f"{col_letter(ci)}列"
            rec.extras[name] = clean_text(value)
            if ci not in flagged_extra:
                flagged_extra.add(ci)
                issues.append(make("extra-column", row=raw.row, column=col_letter(ci), field=name,
                                   value=clean_text(value), **loc))
        for ci, formula in raw.formulas.items():
            rec.issues.append(make("formula-cell", row=raw.row, column=col_letter(ci),
                                   field=_field_at(table, ci), value=formula, **loc))
        check_row(rec, raw.cells, {table.columns[k] for k in raw.cells} & set(raw.formulas), table, ctx)
        records.append(rec)
    if table.rows:
        issues.extend(_filler(table, ctx, loc))
    return records, issues


def _field_at(table: Table, ci: int) -> str:
    for key, idx in table.columns.items():
        if idx == ci:
            return table.form.column(key).label
    return table.extra_headers.get(ci) or f"{col_letter(ci)}列"


PHONE_LABELS = ("填表人电话", "填表人联系电话", "联系电话", "联系方式", "手机号码", "手机号", "手机", "电话")


def _filler(table: Table, ctx: Context, loc: dict) -> list[Issue]:
    labels = table.labels
    name = labels.get("填表人") or labels.get("联系人")
    phone = next((labels[k] for k in PHONE_LABELS if k in labels), None)
    problems = []
    if not name or not name[0] or is_placeholder(name[0]):
        problems.append("未填写填表人")
    if not phone or not phone[0] or is_placeholder(phone[0]):
        problems.append(f"未填写{table.form.phone_label}")
    else:
        parsed = ctx.parsers[Kind.PHONE](phone[0])
        if not parsed.ok:
            problems.append(f"{table.form.phone_label}“{phone[0]}”无效")
    if not problems:
        return []
    # Point at the first cell to fix: the name's when it is missing, else the phone's.
    on_name = problems[0] == "未填写填表人" and name is not None or phone is None
    where = name if on_name else phone
    row, column = (where[1], col_letter(where[2])) if where else (None, None)
    value = phone[0] if phone and phone[0] and "无效" in problems[-1] else None
    return [make("filler-missing", row=row, column=column, field="填表人" if on_name else table.form.phone_label,
                 value=value, **loc, what="、".join(problems), phone_label=table.form.phone_label)]


# ---------------------------------------------------------------------------- rows

def check_row(rec: Record, cells: dict[str, object], formula_cols: set[int], table: Table,
              ctx: Context) -> None:
    form = rec.form
    for col in form.data_columns:
        raw = cells.get(col.key)
        ci = table.columns.get(col.key)
        text = clean_text(raw)
        if ci is not None and ci in formula_cols:
            rec.values[col.key] = text  # kept as typed, never evaluated
            continue
        # 没有 is a filler elsewhere, but in a 是否 column it answers 否.
        if not text or (is_placeholder(text) and not (col.kind is Kind.YESNO and parse_yesno(text).ok)):
            rec.values[col.key] = text or None
            if col.required and col.key in table.columns:
                _flag(rec, ctx, "required-missing", col.key, text)
            continue
        parser = ctx.parsers.get(col.kind)
        if parser is None:
            rec.values[col.key] = text
            continue
        parsed = parser(raw)
        rec.values[col.key] = parsed.value
        if parsed.code:
            extra = {}
            if parsed.code == "choice-unknown":
                extra["choices"] = _choices(ctx, col.kind)
            if parsed.code == "number-approximate":
                extra["parsed"] = parsed.value
            _flag(rec, ctx, parsed.code, col.key, text, **extra)
        if col.kind is Kind.DATE and parsed.ok and isinstance(parsed.value, date) and parsed.value > ctx.as_of:
            _flag(rec, ctx, "date-in-future", col.key, parsed.value.isoformat(), as_of=ctx.as_of.isoformat())
    ROW_RULES.get(form.id, _none)(rec, ctx)


def _flag(rec: Record, ctx: Context, code: str, key: str, value: object = None, **extra) -> None:
    col = rec.form.column(key)
    rec.issues.append(make(code, file=ctx.file, unit=ctx.unit, form=rec.form.id, sheet=rec.sheet,
                           row=rec.row, column=rec.columns.get(key), field=col.label,
                           value=value, **extra))


def _none(rec: Record, ctx: Context) -> None:
    pass


def _ok(rec: Record, key: str, kind: type) -> bool:
    v = rec.values.get(key)
    return isinstance(v, kind) and not (kind is int and isinstance(v, bool))


def _websites(rec: Record, ctx: Context) -> None:
    last = rec.values.get("last_update")
    if _ok(rec, "last_update", date) and last <= ctx.as_of:
        days = (ctx.as_of - last).days
        if days > ctx.config.stale_days:
            _flag(rec, ctx, "website-stale", "last_update", last.isoformat(), days=days,
                  stale_days=ctx.config.stale_days)


CERTIFIED_NEGATIONS = ("未认证", "没有认证", "没认证", "未官方认证", "暂未认证", "尚未认证", "待认证", "未进行认证",
                       "无认证", "认证中", "正在认证", "申请认证", "未完成认证", "认证未通过", "未通过认证", "不认证")


def _accounts(rec: Record, ctx: Context) -> None:
    if rec.values.get("platform") == "视频号":
        note = clean_text(rec.values.get("note"))
        if "认证" not in note or any(n in note for n in CERTIFIED_NEGATIONS):
            _flag(rec, ctx, "video-account-uncertified", "note", note)


def _zombies(rec: Record, ctx: Context) -> None:
    cleaned = rec.values.get("cleaned")
    if cleaned is True and is_placeholder(rec.values.get("cleaned_on")):
        _flag(rec, ctx, "cleanup-date-missing", "cleaned_on")
    elif cleaned is False:
        _flag(rec, ctx, "cleanup-pending", "cleaned", "否")


def _groups(rec: Record, ctx: Context) -> None:
    if rec.values.get("real_name") is False:
        _flag(rec, ctx, "real-name-incomplete", "real_name", "否")
    kind = rec.values.get("group_type")
    limit = next((g.max_members for g in ctx.config.group_types if g.name == kind), None)
    if limit and _ok(rec, "members", int) and rec.values["members"] > limit:
        _flag(rec, ctx, "group-size-over-limit", "members", rec.values["members"], group_type=kind, limit=limit)


def _influencers(rec: Record, ctx: Context) -> None:
    threshold = ctx.config.follower_threshold
    if _ok(rec, "followers", int) and rec.values["followers"] < threshold:
        _flag(rec, ctx, "below-threshold", "followers", rec.values["followers"], threshold=threshold)
    title, major = (not is_placeholder(rec.values.get(k)) for k in ("title", "major"))
    if "title" not in rec.columns and "major" not in rec.columns:
        return  # no 类别 columns at all: header-mismatch says it once for the table
    if not title and not major:
        _flag(rec, ctx, "category-missing", "title")
    elif title and major:
        _flag(rec, ctx, "category-ambiguous", "major", rec.values.get("major"))


ROW_RULES = {1: _websites, 2: _accounts, 3: _zombies, 4: _groups, 5: _influencers}


def is_student(rec: Record) -> bool:
    return rec.form.id == 5 and not is_placeholder(rec.values.get("major")) and \
        is_placeholder(rec.values.get("title"))


# ---------------------------------------------------------------------------- across files

def _phones(value: object) -> list[str]:
    return [p for p in str(value or "").split("/") if p]


def cross_checks(records: list[Record], ctx: Context, roster: dict[str, str] | None = None) -> None:
    """Rules over every record of the run; issues are appended to the records concerned."""
    students: dict[str, str] = {p: f"（花名册：{n}）" for p, n in (roster or {}).items()}
    for rec in records:
        if is_student(rec):
            for p in _phones(rec.values.get("phone")):
                students.setdefault(p, f"（{rec.where()} {clean_text(rec.values.get('person'))}）")
    by_key: dict[tuple, list[Record]] = defaultdict(list)
    for rec in records:
        c = ctx.at(rec.file, rec.unit)
        if rec.form.id == 2:
            for p in _phones(rec.values.get("phone")):
                if p in students:
                    _flag(rec, c, "student-phone-binding", "phone", p, who=students[p])
                    break
        if rec.form.id in (2, 5) and not is_placeholder(rec.values.get("account_id")):
            by_key[(rec.form.id, rec.values.get("platform"), nfkc_key(rec.values["account_id"]))].append(rec)
        if rec.form.id == 4 and not is_placeholder(rec.values.get("group_name")):
            # Group names repeat across units (每个学院都有“教职工群”): only within a unit.
            by_key[(4, rec.unit, rec.values.get("group_type"), nfkc_key(rec.values["group_name"]))].append(rec)
    for key, group in by_key.items():
        if len(group) < 2:
            continue
        form_id, kind = key[0], key[-2]
        code, key = {2: ("duplicate-account", "account_id"), 4: ("duplicate-group", "group_name"),
                     5: ("duplicate-influencer", "account_id")}[form_id]
        for rec in group:
            others = "、".join(o.where() for o in group if o is not rec)
            _flag(rec, ctx.at(rec.file, rec.unit), code, key, clean_text(rec.values[key]),
                  platform=kind or "", group_type=kind or "", other=others)
