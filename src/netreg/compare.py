"""What changed between two rounds or two years (``netreg diff``): entries added, removed and
changed per unit and form, matched by each form's identity (``Form.identity_parts``: NFKC,
casefolded, no spaces, so a retyped 账号ID is the same account), and the facts people ask
about: followers grown or fallen, accounts renamed, groups dissolved, entries moved to another
unit, websites whose last update date has not moved.

Pure: two Reports in, one Diff out; reading the inputs and writing the outputs is elsewhere.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

from .model import forms as F
from .model.records import Record
from .model.report import Report
from .util.text import clean_text, is_placeholder, nfkc_key

ADDED, REMOVED, CHANGED, SAME = "added", "removed", "changed", "same"
CHANGE_LABEL = {ADDED: "新增", REMOVED: "删除", CHANGED: "变化", SAME: "未变"}

# Kinds of facts (stable names, JSON) and what people read.
FACT_LABEL = {"grown": "数量增长", "fallen": "数量减少", "renamed": "更名", "dissolved": "群组解散",
              "moved": "转换单位", "still-stale": "网站仍未更新"}
NAME_SUFFIX = "名称"  # a column so labelled, outside the identity, is the entry's display name: a change is a rename
NO_IDENTITY = "（未填写标识）"
UNKNOWN_UNIT = "（未知单位）"


@dataclass(frozen=True)
class FieldChange:
    key: str  # column key
    field: str  # header text as one line (粉丝人数)
    old: object
    new: object


@dataclass(frozen=True)
class Fact:
    kind: str  # grown | fallen | renamed | dissolved | moved | still-stale
    text: str  # one Chinese phrase
    key: str | None = None  # the column it is about


@dataclass(frozen=True)
class Entry:
    """One entry (account, group, website…) of one unit that was added, removed or changed."""

    form: F.Form
    unit: str
    identity: str  # normalised identity text, as matched: 微信公众号/gh_5d46c5522574
    label: str  # the identity as typed (this year's spelling when the entry is in both)
    change: str  # added | removed | changed | same
    fields: tuple[FieldChange, ...] = ()
    facts: tuple[Fact, ...] = ()
    old: Record | None = None
    new: Record | None = None

    @property
    def record(self) -> Record:
        return self.new or self.old

    def fact(self, key: str) -> Fact | None:
        """The fact about column ``key``, if any."""
        return next((f for f in self.facts if f.key == key), None)


@dataclass(frozen=True)
class Tally:
    added: int = 0
    removed: int = 0
    changed: int = 0

    @property
    def total(self) -> int:
        return self.added + self.removed + self.changed

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.added + other.added, self.removed + other.removed, self.changed + other.changed)


@dataclass(frozen=True)
class Diff:
    entries: tuple[Entry, ...]  # added, removed and changed; by unit, form, change, identity
    still_stale: tuple[Entry, ...]  # entries whose stale-date column did not move (changed or same)
    units: tuple[str, ...]  # every unit with rows in either report, in list order
    old_as_of: date
    new_as_of: date
    old_label: str = ""
    new_label: str = ""

    def tally(self, unit: str | None = None, form: F.Form | None = None) -> Tally:
        counts = {ADDED: 0, REMOVED: 0, CHANGED: 0}
        for e in self.entries:
            if (unit is None or e.unit == unit) and (form is None or e.form is form):
                counts[e.change] += 1
        return Tally(counts[ADDED], counts[REMOVED], counts[CHANGED])

    @property
    def total(self) -> Tally:
        return self.tally()

    def of(self, change: str) -> list[Entry]:
        return [e for e in self.entries if e.change == change]

    def with_fact(self, kind: str) -> list[Entry]:
        pool = self.still_stale if kind == "still-stale" else self.entries
        return [e for e in pool if any(f.kind == kind for f in e.facts)]


# ---------------------------------------------------------------------------- values

def comparable(value: object) -> str | None:
    """What two values must share to be the same: blanks and fillers (无, /) are nothing,
    text is compared after NFKC (full-width digits, brackets), numbers and dates as text."""
    if is_placeholder(value):
        return None
    return unicodedata.normalize("NFKC", clean_text(value))


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _identity_columns(form: F.Form, values: dict) -> tuple[str, ...]:
    """The columns ``Form.identity_parts`` used for this row (declared, else the fallback)."""
    for cols in (form.identity.columns, form.identity.fallback):
        if cols and not is_placeholder(values.get(cols[-1])):
            return cols
    return ()


def _key(form: F.Form, values: dict) -> tuple[str, ...]:
    parts = form.identity_parts(values)
    if parts is not None:
        return parts
    # no identity typed: only a row identical in every column is the same entry
    return ("",) + tuple(nfkc_key(values.get(c.key)) for c in form.data_columns)


def _label(form: F.Form, values: dict) -> str:
    cols = _identity_columns(form, values)
    if cols:
        return "/".join(clean_text(values.get(c)) or "？" for c in cols)
    typed = [clean_text(values.get(c.key)) for c in form.data_columns if not is_placeholder(values.get(c.key))]
    return NO_IDENTITY + ("：" + "；".join(typed[:2]) if typed else "")


def _identity_text(form: F.Form, values: dict) -> str:
    return form.identity_text(values) or _label(form, values)


# ---------------------------------------------------------------------------- facts

def _field_facts(form: F.Form, changes: list[FieldChange]) -> list[Fact]:
    identity = set(form.identity.columns)  # the fallback (账号名称) is a name when the ID matched
    facts = []
    for ch in changes:
        col = form.column(ch.key)
        if col.kind is F.Kind.COUNT and _is_count(ch.old) and _is_count(ch.new):
            grown = ch.new > ch.old
            facts.append(Fact("grown" if grown else "fallen",
                              f"{ch.field}{'增加' if grown else '减少'} {abs(ch.new - ch.old)}", ch.key))
        elif col.label.endswith(NAME_SUFFIX) and ch.key not in identity and ch.old is not None and ch.new is not None:
            facts.append(Fact("renamed", f"更名：“{clean_text(ch.old)}”改为“{clean_text(ch.new)}”", ch.key))
    return facts


def _still_stale(form: F.Form, old: Record, new: Record, as_of: date, stale_days: int | None) -> Fact | None:
    rule = form.rule(F.StaleDate)
    if rule is None:
        return None
    before, now = old.values.get(rule.column), new.values.get(rule.column)
    if comparable(before) is None or comparable(before) != comparable(now):
        return None
    if stale_days is not None and isinstance(now, date) and (as_of - now).days <= stale_days:
        return None
    return Fact("still-stale", f"{form.column(rule.column).label}仍为 {clean_text(now)}，未见更新", rule.column)


# ---------------------------------------------------------------------------- matching

def _pair(form: F.Form, old: list[Record], new: list[Record]) -> tuple[list, list[Record], list[Record]]:
    """(old, new) pairs of records with the same identity (in row order), then the new and the
    old records left unmatched."""
    by_key: dict[tuple, list[int]] = defaultdict(list)
    for n, rec in enumerate(old):
        by_key[_key(form, rec.values)].append(n)
    pairs, added, taken = [], [], set()
    for rec in new:
        waiting = by_key.get(_key(form, rec.values))
        if waiting:
            n = waiting.pop(0)
            taken.add(n)
            pairs.append((old[n], rec))
        else:
            added.append(rec)
    return pairs, added, [rec for n, rec in enumerate(old) if n not in taken]


def _pair_by_fallback(form: F.Form, old: list[Record], new: list[Record]) -> tuple[list, list[Record], list[Record]]:
    """Left-overs matched by the fallback identity (平台 + 账号名称) when one side lacks the ID:
    an ID filled in (or lost) this year is the same account, not a new one."""
    cols = form.identity.fallback
    if not cols or not old or not new:
        return [], new, old

    def name(rec: Record) -> tuple | None:
        return None if is_placeholder(rec.values.get(cols[-1])) else tuple(nfkc_key(rec.values.get(c)) for c in cols)

    def lacks_id(rec: Record) -> bool:
        return form.identity_parts(rec.values, fallback=False) is None

    pairs, added, taken = [], [], set()
    for rec in new:
        n = next((n for n, o in enumerate(old) if n not in taken and name(o) is not None
                  and name(o) == name(rec) and (lacks_id(o) or lacks_id(rec))), None)
        if n is None:
            added.append(rec)
        else:
            taken.add(n)
            pairs.append((old[n], rec))
    return pairs, added, [rec for n, rec in enumerate(old) if n not in taken]


def _compare(form: F.Form, unit: str, old: Record, new: Record, as_of: date, stale_days: int | None) -> Entry:
    changes = []
    for col in form.data_columns:
        a, b = old.values.get(col.key), new.values.get(col.key)
        same = nfkc_key(a) == nfkc_key(b) if col.key in form.identity.columns else comparable(a) == comparable(b)
        if not same:
            changes.append(FieldChange(col.key, col.label, None if is_placeholder(a) else a,
                                       None if is_placeholder(b) else b))
    facts = _field_facts(form, changes)
    stale = _still_stale(form, old, new, as_of, stale_days)
    if stale is not None:
        facts.append(stale)
    return Entry(form, unit, _identity_text(form, new.values), _label(form, new.values),
                 CHANGED if changes else SAME, tuple(changes), tuple(facts), old, new)


def _one(unit: str, rec: Record, change: str) -> Entry:
    form = rec.form
    facts = (Fact("dissolved", "群组已解散：本次未再登记"),) if change == REMOVED and form is F.GROUPS else ()
    return Entry(form, unit, _identity_text(form, rec.values), _label(form, rec.values),
                 change, facts=facts, old=rec if change == REMOVED else None, new=rec if change == ADDED else None)


def _moved(entries: list[Entry]) -> list[Entry]:
    """An entry removed from one unit and added to another (same form and identity) says so."""
    gone = {(e.form.id, e.identity): e.unit for e in entries if e.change == REMOVED and not e.label.startswith(NO_IDENTITY)}
    came = {(e.form.id, e.identity): e.unit for e in entries if e.change == ADDED}
    out = []
    for e in entries:
        k = (e.form.id, e.identity)
        if e.change == ADDED and gone.get(k, e.unit) != e.unit:
            e = replace(e, facts=e.facts + (Fact("moved", f"由{gone[k]}转入"),))
        elif e.change == REMOVED and came.get(k, e.unit) != e.unit:
            e = replace(e, facts=e.facts + (Fact("moved", f"转至{came[k]}"),))
        out.append(e)
    return out


def _units(old: Report, new: Report) -> dict[str, str]:
    """Unit key -> name as shown (this year's spelling), in the unit lists' order, then the rest."""
    names: dict[str, str] = {}
    listed = list(new.units) + list(old.units)
    for rec in list(new.records) + list(old.records):
        names.setdefault(nfkc_key(rec.unit), rec.unit or UNKNOWN_UNIT)
    order = {nfkc_key(u): i for i, u in reversed(list(enumerate(listed)))}
    return dict(sorted(names.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[1])))


def diff(old: Report, new: Report, *, old_label: str | None = None, new_label: str | None = None,
         stale_days: int | None = None) -> Diff:
    """What changed from ``old`` to ``new``: per unit and form, entries matched by identity.
    ``stale_days``: a website whose date did not move counts as still stale only when that
    date is also older than this before ``new``'s as-of date (None: whenever it did not move)."""
    units = _units(old, new)
    groups: dict[tuple[str, int], tuple[list[Record], list[Record]]] = defaultdict(lambda: ([], []))
    for side, report in enumerate((old, new)):
        for rec in report.records:
            groups[(nfkc_key(rec.unit), rec.form.id)][side].append(rec)
    rank = {k: i for i, k in enumerate(units)}
    order = {ADDED: 0, REMOVED: 1, CHANGED: 2, SAME: 3}
    entries: list[Entry] = []
    for unit_key, form_id in sorted(groups, key=lambda k: (rank[k[0]], k[1])):
        form, unit = F.FORMS_BY_ID[form_id], units[unit_key]  # shown as spelt this year
        before, after = groups[(unit_key, form_id)]
        pairs, added, removed = _pair(form, before, after)
        more, added, removed = _pair_by_fallback(form, removed, added)
        mine = [_compare(form, unit, a, b, new.as_of, stale_days) for a, b in pairs + more]
        mine += [_one(unit, r, ADDED) for r in added] + [_one(unit, r, REMOVED) for r in removed]
        entries += sorted(mine, key=lambda e: (order[e.change], e.identity))
    entries = _moved(entries)
    return Diff(
        entries=tuple(e for e in entries if e.change != SAME),
        still_stale=tuple(e for e in entries if any(f.kind == "still-stale" for f in e.facts)),
        units=tuple(units.values()), old_as_of=old.as_of, new_as_of=new.as_of,
        old_label=_default_label(old) if old_label is None else old_label,
        new_label=_default_label(new) if new_label is None else new_label,
    )


def _default_label(report: Report) -> str:
    read = [f.path for f in report.files if f.ok]
    return read[0] + (f" 等 {len(read)} 个文件" if len(read) > 1 else "") if read else ""
