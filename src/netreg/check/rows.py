"""The notice's rules on one table: raw rows → normalised records + issues.

Header checks first; then every cell goes through the normaliser of its column's kind
(``forms.Kind``); then the row rules the form declares (``Form.rules``) run on the
normalised values. Rules that span files are in ``cross.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Callable

from ..model import forms as F
from ..model.issues import Issue, columns_missing, make, not_listed
from ..model.records import Record
from ..sources.base import EXCEL_CELL_CHARS, LongText, cut_text
from ..util.cells import col_letter
from .normalize import (
    Parsed,
    choice_parser,
    clean_cell,
    clean_text,
    count_cell,
    date_cell,
    is_placeholder,
    parse_count,
    parse_date,
    parse_phone,
    parse_yesno,
    phone_cell,
    yesno_cell,
    placeholder_text,
)
from .units import exact_unit, match_unit

if TYPE_CHECKING:
    from ..config import Campaign
    from ..scan.tables import Table

Kind = F.Kind


@dataclass
class Context:
    config: Campaign
    as_of: date
    file: str
    unit: str
    parsers: dict[Kind, Callable[[object], Parsed]]
    units: tuple[str, ...] = ()  # the run's unit list: a row naming its own unit is matched to it
    # The same parsers given also the cell's clean_text (check_row has it already).
    cell_parsers: dict[Kind, Callable[[object, str], Parsed]] = field(default_factory=dict)

    @classmethod
    def build(cls, config: Campaign, as_of: date, file: str = "", unit: str = "",
              units: tuple[str, ...] | None = None) -> "Context":
        area = config.default_area_code
        parsers = {
            Kind.PHONE: lambda v: parse_phone(v, area),
            Kind.DATE: parse_date,
            Kind.COUNT: parse_count,
            Kind.YESNO: parse_yesno,
            Kind.PLATFORM: choice_parser(config.platforms),
            Kind.GROUP_TYPE: choice_parser(config.group_types),
        }
        cell_parsers = {
            Kind.PHONE: lambda v, t: phone_cell(v, t, area),
            Kind.DATE: date_cell,
            Kind.COUNT: count_cell,
            Kind.YESNO: yesno_cell,
            Kind.PLATFORM: parsers[Kind.PLATFORM].cell,
            Kind.GROUP_TYPE: parsers[Kind.GROUP_TYPE].cell,
        }
        return cls(config, as_of, file, unit, parsers, tuple(config.units if units is None else units), cell_parsers)

    def at(self, file: str, unit: str) -> "Context":
        return Context(self.config, self.as_of, file, unit, self.parsers, self.units, self.cell_parsers)


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
    split = form.category
    if split is not None and all(k not in table.columns for k in (split.teacher, split.student)):
        missing += [form.column(split.teacher), form.column(split.student)]
    if missing or table.near_miss:
        issues.append(make("header-mismatch", row=table.header_row, **loc, **_mismatch(table, missing)))
    letters = {key: col_letter(ci) for key, ci in table.columns.items()}
    plan = _plan(table, ctx)
    records = []
    flagged_extra: set[int] = set()
    named: dict[str, str] = {}  # a row's own 填报单位 as typed -> the unit
    for raw in table.rows:
        row_ctx = ctx
        typed = clean_text(raw.unit)
        if typed:
            if typed not in named:
                named[typed] = exact_unit(typed, list(ctx.units), ctx.config.school) or typed
                if named[typed] == typed and typed not in ctx.units:
                    issues.append(make("unit-not-listed", row=raw.row, column=col_letter(table.unit_column),
                                       value=typed, **{**loc, "unit": typed}, **not_listed(match_unit(typed, list(ctx.units)))))
            row_ctx = ctx.at(ctx.file, named[typed])
        rec = Record(form, row_ctx.unit, ctx.file, table.sheet, raw.row, {}, letters)
        for ci, value in sorted(raw.extras.items()):
            name = table.extra_headers.get(ci) or f"{col_letter(ci)}列"
            rec.extras[name] = clean_text(value)
            if ci not in flagged_extra and not table.near_miss:  # header-mismatch names them
                flagged_extra.add(ci)
                issues.append(make("extra-column", row=raw.row, column=col_letter(ci), field=name,
                                   value=clean_text(value), **loc))
        for ci, formula in raw.formulas.items():
            rec.issues.append(make("formula-cell", row=raw.row, column=col_letter(ci),
                                   field=_field_at(table, ci), value=formula, **{**loc, "unit": rec.unit}))
        texts = raw.texts
        if any(type(v) is LongText or type(v) is str and len(v) > EXCEL_CELL_CHARS
               for v in (*raw.cells.values(), *raw.extras.values())):
            rec.issues.extend(_too_long(raw, table, {**loc, "unit": rec.unit}))
            texts = None  # values cut here: cleaned again
        check_row(rec, raw.cells, {table.columns[k] for k in raw.cells} & raw.formulas.keys() if raw.formulas else _NONE,
                  table, row_ctx, plan, texts)
        records.append(rec)
    if table.rows:
        issues.extend(_filler(table, ctx, loc))
    return records, issues


def _mismatch(table: Table, missing: list[F.Column]) -> dict[str, str]:
    """header-mismatch's words: the form the table resembles, the columns it lacks, the
    headers it could not place and the netreg.toml [headers] line that would place one."""
    form = table.form
    words = columns_missing(form.id, form.name, [c.label for c in missing]) if missing else \
        {"what": f"像是附件{form.id}《{form.name}》", "missing": ""}
    unplaced = [t for _, t in sorted(table.extra_headers.items()) if t]
    if unplaced:
        words["missing"] += "；无法对应到本表的列：" + "、".join(f"“{t}”" for t in unplaced)
        pairs = _closest(unplaced, missing or list(form.data_columns))
        lines = "，".join(f"\"{t}\" = \"{c}\"" for t, c in pairs)
        words["missing"] += (f"（如果它们就是本表的{'、'.join(f'“{c}”' for _, c in pairs)}，协调人可在 netreg.toml "
                             f"的 [headers] 中写 {lines}，或请单位改用通知的表头）")
    return words


def _closest(typed: list[str], columns: list[F.Column]) -> list[tuple[str, str]]:
    """Each unplaced header with the missing column most alike (粉丝总量 → 粉丝人数), by shared
    characters, most alike first; a column is given to one header only."""
    from difflib import SequenceMatcher

    scored = sorted(((SequenceMatcher(None, t, c.label).ratio(), -i, -j, t, c.label)
                     for i, t in enumerate(typed) for j, c in enumerate(columns)), reverse=True)
    pairs: dict[str, str] = {}
    for ratio, _, _, t, label in scored:
        if ratio > 0 and t not in pairs and label not in pairs.values():
            pairs[t] = label
    pairs = pairs or {typed[0]: columns[0].label}
    return [(t, pairs[t]) for t in typed if t in pairs]


def _too_long(raw, table: Table, loc: dict) -> list[Issue]:
    """cell-too-long for each cell of the row past Excel's 32,767 characters: cut by its reader
    (a LongText), or cut here (a .csv keeps its fields whole), so that the record, the summary
    and every issue hold the first 32,767 only."""
    issues = []
    for where in (raw.cells, raw.extras):
        for key, value in where.items():
            if isinstance(value, str) and len(value) > EXCEL_CELL_CHARS:
                where[key] = value = cut_text(value)
            if type(value) is LongText:
                ci = table.columns.get(key) if where is raw.cells else key
                issues.append(make("cell-too-long", row=raw.row, column=col_letter(ci) if ci is not None else None,
                                   field=_field_at(table, ci) if ci is not None else table.form.column(key).label,
                                   value=clean_text(value[:20]) + "…", n=value.length, **loc))
    return sorted(issues, key=lambda i: (len(i.column or ""), i.column or ""))


def _field_at(table: Table, ci: int) -> str:
    for key, idx in table.columns.items():
        if idx == ci:
            return table.form.column(key).label
    return table.extra_headers.get(ci) or f"{col_letter(ci)}列"




def _filler(table: Table, ctx: Context, loc: dict) -> list[Issue]:
    labels = table.labels
    name = labels.get("填表人") or labels.get("联系人")
    phone = next((labels[k] for k in F.FILLER_PHONE_LABELS if k in labels), None)
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

_NONE: frozenset = frozenset()


def _plan(table: Table, ctx: Context) -> tuple[tuple, ...]:
    """The per-table part of check_row, looked up once instead of on every cell: per data
    column (key, 0-based column or None, kind, required and present, parser of (raw, text) or
    None, the unit its header gives (粉丝数（万）) or None)."""
    plan = []
    for col in table.form.data_columns:
        parser = ctx.cell_parsers.get(col.kind)
        if parser is None and col.kind in ctx.parsers:  # a Context built by hand: parsers of raw only
            parser = (lambda p: lambda raw, _text: p(raw))(ctx.parsers[col.kind])
        plan.append((col.key, table.columns.get(col.key), col.kind, col.required and col.key in table.columns,
                     parser, table.scales.get(col.key)))
    return tuple(plan)


def check_row(rec: Record, cells: dict[str, object], formula_cols: set[int], table: Table,
              ctx: Context, plan: tuple[tuple, ...] | None = None, texts: dict[str, str] | None = None) -> None:
    """``texts``: the cells' texts as scan cleaned them (``RawRow.texts``), where it did."""
    values = rec.values
    texts = texts or {}
    for key, index, kind, required, parser, scale in plan if plan is not None else _plan(table, ctx):
        raw = cells.get(key)
        text = texts.get(key)
        if text is None:
            text = clean_cell(raw)
        if formula_cols and index in formula_cols:
            values[key] = text  # kept as typed, never evaluated
            continue
        # 没有 is a filler elsewhere, but in a 是否 column it answers 否.
        if not text or (placeholder_text(text) and not (kind is Kind.YESNO and yesno_cell(text, text).ok)):
            values[key] = text or None
            if required:
                flag(rec, ctx, "required-missing", key, text)
            continue
        if parser is None:
            values[key] = text
            continue
        parsed = count_cell(raw, text, scale) if scale else parser(raw, text)
        values[key] = parsed.value
        if parsed.code:
            extra = {}
            if parsed.code == "choice-unknown":
                extra["choices"] = _choices(ctx, kind)
            if parsed.code == "number-approximate":
                extra["parsed"] = parsed.value
            if parsed.note:
                extra["why"] = parsed.note
            flag(rec, ctx, parsed.code, key, text, **extra)
        if kind is Kind.DATE and parsed.ok and isinstance(parsed.value, date) and parsed.value > ctx.as_of:
            flag(rec, ctx, "date-in-future", key, parsed.value.isoformat(), as_of=ctx.as_of.isoformat())
    for rule in rec.form.rules:
        check = ROW_RULES.get(type(rule))
        if check is not None:
            check(rule, rec, ctx)


_LABELS: dict[tuple[int, str], str] = {}  # (form, column key) -> its header as one line


def flagged(rec: Record, ctx: Context, code: str, key: str, value: object = None, **extra) -> Issue:
    """The issue ``code`` at column ``key`` of ``rec``."""
    form = rec.form
    label = _LABELS.get((form.id, key))
    if label is None:
        label = _LABELS[form.id, key] = form.column(key).label
    return make(code, file=ctx.file, unit=ctx.unit, form=form.id, sheet=rec.sheet, row=rec.row,
                column=rec.columns.get(key), field=label, value=value, **extra)


def flag(rec: Record, ctx: Context, code: str, key: str, value: object = None, **extra) -> None:
    rec.issues.append(flagged(rec, ctx, code, key, value, **extra))


def _ok(rec: Record, key: str, kind: type) -> bool:
    v = rec.values.get(key)
    return isinstance(v, kind) and not (kind is int and isinstance(v, bool))


def _stale(rule: F.StaleDate, rec: Record, ctx: Context) -> None:
    last = rec.values.get(rule.column)
    if _ok(rec, rule.column, date) and last <= ctx.as_of:
        days = (ctx.as_of - last).days
        if days > ctx.config.stale_days:
            flag(rec, ctx, "website-stale", rule.column, last.isoformat(), days=days,
                  stale_days=ctx.config.stale_days)


CERTIFIED_NEGATIONS = ("未认证", "没有认证", "没认证", "未官方认证", "暂未认证", "尚未认证", "待认证", "未进行认证",
                       "无认证", "认证中", "正在认证", "申请认证", "未完成认证", "认证未通过", "未通过认证", "不认证")


def _certified(rule: F.Certified, rec: Record, ctx: Context) -> None:
    if rec.values.get(rule.choice_column) == rule.choice:
        note = clean_text(rec.values.get(rule.note_column))
        certified = "认证" in note or "蓝v" in note.casefold()  # 官方/机构/企业认证, 已认证, 蓝V
        if not certified or any(n in note for n in CERTIFIED_NEGATIONS):
            flag(rec, ctx, "video-account-uncertified", rule.note_column, note)


def _cleanup(rule: F.Cleanup, rec: Record, ctx: Context) -> None:
    cleaned = rec.values.get(rule.flag)
    if cleaned is True and is_placeholder(rec.values.get(rule.date)):
        flag(rec, ctx, "cleanup-date-missing", rule.date)
    elif cleaned is False:
        flag(rec, ctx, "cleanup-pending", rule.flag, "否")


def _must_be_yes(rule: F.MustBeYes, rec: Record, ctx: Context) -> None:
    if rec.values.get(rule.column) is False:
        flag(rec, ctx, rule.code, rule.column, "否")


def _size_limit(rule: F.SizeLimit, rec: Record, ctx: Context) -> None:
    kind = rec.values.get(rule.type_column)
    limit = next((g.max_members for g in ctx.config.group_types if g.name == kind), None)
    if limit and _ok(rec, rule.count_column, int) and rec.values[rule.count_column] > limit:
        flag(rec, ctx, "group-size-over-limit", rule.count_column, rec.values[rule.count_column],
              group_type=kind, limit=limit)


def _threshold(rule: F.Threshold, rec: Record, ctx: Context) -> None:
    threshold = ctx.config.follower_threshold
    if _ok(rec, rule.column, int) and rec.values[rule.column] < threshold:
        flag(rec, ctx, "below-threshold", rule.column, rec.values[rule.column], threshold=threshold)


def _one_category(rule: F.OneCategory, rec: Record, ctx: Context) -> None:
    split = rec.form.category
    if split.teacher not in rec.columns and split.student not in rec.columns:
        return  # no 类别 columns at all: header-mismatch says it once for the table
    category = category_of(rec.form, rec.values)
    if category is None:
        flag(rec, ctx, "category-missing", split.teacher)
    elif category == "both":
        flag(rec, ctx, "category-ambiguous", split.student, rec.values.get(split.student))


def category_of(form: F.Form, values: dict) -> str | None:
    """``form.category_of(values)`` with the filler test of check_row (``placeholder_text``)."""
    split = form.category
    if split is None:
        return None
    teacher = not placeholder_text(clean_cell(values.get(split.teacher)))
    student = not placeholder_text(clean_cell(values.get(split.student)))
    return "both" if teacher and student else "teacher" if teacher else "student" if student else None


ROW_RULES: dict[type, Callable] = {
    F.StaleDate: _stale, F.Certified: _certified, F.Cleanup: _cleanup, F.MustBeYes: _must_be_yes,
    F.SizeLimit: _size_limit, F.Threshold: _threshold, F.OneCategory: _one_category,
}
