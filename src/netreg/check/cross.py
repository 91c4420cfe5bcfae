"""Rules over every record of a run, across files and units: accounts bound to a student's
phone, and entries registered twice (by the identity each form declares).

The records may be spilled to disk as they arrive (a province's merge), so ``CrossIndex``
keeps only what the rules need of each record — phone numbers, identity keys, the record's
key in the store — and ``resolve`` reads back just the records it flags."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from ..model import forms as F
from ..model.issues import Issue
from ..model.records import Record
from ..util.memo import Remembered
from ..util.text import clean_text, nfkc_key
from .normalize import placeholder_text
from .rows import category_of, flagged

if TYPE_CHECKING:
    from ..model.store import RecordStore
    from .rows import Context


def _phones(value: object) -> list[str]:
    return [p for p in str(value or "").split("/") if p]


_KEYS = Remembered(nfkc_key)  # text -> nfkc_key(text), for texts that are not plain ASCII (group names repeat)


def _key_of(value: object) -> str:
    """``nfkc_key(value)``: at once for printable ASCII text (NFKC leaves it as it is and
    casefold is lower), remembered for other text (``tests/test_merge_fast.py`` compares)."""
    if type(value) is str:
        if value.isascii() and value.isprintable():
            return "".join(value.split()).lower()
        return _KEYS[value]
    return nfkc_key(value)


def identity(form: F.Form, values: dict) -> tuple[str, ...] | None:
    """``form.identity_parts(values, fallback=False)``, by the shortcuts above (tests compare)."""
    cols = form.identity.columns
    if cols and not placeholder_text(clean_text(values.get(cols[-1]))):
        return tuple(_key_of(values.get(c)) for c in cols)
    return None


def is_student(rec: Record) -> bool:
    return rec.form.category is not None and category_of(rec.form, rec.values) == "student"


def student_phones(records, but: str | None = None) -> dict[str, str]:
    """phone -> who (（医学院 附件5 第6行 李明）) of the students among ``records``, those of unit
    ``but`` left out: what the binding rule of a run over one unit's files needs of the others."""
    out: dict[str, str] = {}
    for rec in records:
        if rec.unit != but and is_student(rec):
            who = f"（{rec.where()} {clean_text(rec.values.get('person'))}）"
            for p in _phones(rec.values.get("phone")):
                out.setdefault(p, who)
    return out


class CrossIndex:
    """What the cross-file rules need of each record, gathered file by file. Records are
    known by their key in the store, which sorts as they were read: the messages come out
    exactly as when every record was at hand in file order."""

    def __init__(self):
        self.students: list[tuple[int, str, str]] = []  # (key, phone, who)
        self.bound: list[tuple[int, tuple[str, ...]]] = []  # (key, phones) of a NoStudentPhone column
        self.by_identity: dict[tuple, list[int]] = defaultdict(list)  # -> keys

    def add(self, records: list[Record], keys: list[int]) -> None:
        rules: dict[int, object] = {}
        for rec, key in zip(records, keys):
            form = rec.form
            if form.category is not None and is_student(rec):
                who = f"（{rec.where()} {clean_text(rec.values.get('person'))}）"
                self.students.extend((key, p, who) for p in _phones(rec.values.get("phone")))
            rule = rules.get(form.id, rules)
            if rule is rules:
                rule = rules[form.id] = form.rule(F.NoStudentPhone)
            if rule is not None:
                phones = _phones(rec.values.get(rule.column))
                if phones:
                    self.bound.append((key, tuple(phones)))
            if form.duplicates is not None:
                found = identity(form, rec.values)
                if found is not None:
                    # Group names repeat across units (每个学院都有“教职工群”): per_unit compares within one.
                    self.by_identity[(form.id, rec.unit if form.duplicates.per_unit else None, found)].append(key)

    def resolve(self, store: RecordStore, ctx: Context, roster: dict[str, str] | None = None,
                others: dict[str, str] | None = None) -> dict[int, list[Issue]]:
        """The issues the rules raise, by record key, in the order they were raised when
        every record was checked in file order (a student's phone first, then a repeat).
        ``roster``: phone -> name of the students' roster; ``others``: phone -> who, of
        students in files not part of this run (other units' 附件5, for a campaign's rounds).
        Records of files the store has dropped count for nothing."""
        live = store.live_key
        students = {p: f"（花名册：{n}）" for p, n in (roster or {}).items()}
        students.update(others or {})
        for key, phone, who in sorted(self.students):
            if live(key):
                students.setdefault(phone, who)
        hits = []  # (key, phone)
        for key, phones in sorted(self.bound):
            if live(key):
                phone = next((p for p in phones if p in students), None)
                if phone is not None:
                    hits.append((key, phone))
        groups = sorted(members for keys in self.by_identity.values()
                        if len(members := sorted(k for k in keys if live(k))) > 1)  # as the first of each was read
        records = store.get([k for k, _ in hits] + [k for g in groups for k in g])
        flags: dict[int, list[Issue]] = defaultdict(list)
        for key, phone in hits:
            rec = records[key]
            rule = rec.form.rule(F.NoStudentPhone)
            flags[key].append(flagged(rec, ctx.at(rec.file, rec.unit), "student-phone-binding", rule.column, phone,
                                      who=students[phone]))
        for group in groups:
            members = [records[k] for k in group]
            form = members[0].form
            columns = form.identity.columns
            for key, rec in zip(group, members):
                kind = rec.values.get(columns[0]) if len(columns) > 1 else None
                others = "、".join(o.where() for o in members if o is not rec)
                flags[key].append(flagged(rec, ctx.at(rec.file, rec.unit), form.duplicates.code, columns[-1],
                                          clean_text(rec.values[columns[-1]]), platform=kind or "",
                                          group_type=kind or "", other=others))
        return flags
