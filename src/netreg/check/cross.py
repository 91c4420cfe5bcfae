"""Rules over every record of a run, across files and units: accounts bound to a student's
phone, and entries registered twice (by the identity each form declares)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from ..model import forms as F
from ..model.records import Record
from ..util.text import clean_text
from .rows import category_of, flag

if TYPE_CHECKING:
    from .rows import Context


def _phones(value: object) -> list[str]:
    return [p for p in str(value or "").split("/") if p]


def is_student(rec: Record) -> bool:
    return rec.form.category is not None and category_of(rec.form, rec.values) == "student"


def cross_checks(records: list[Record], ctx: Context, roster: dict[str, str] | None = None) -> None:
    """Rules over every record of the run; issues are appended to the records concerned."""
    students: dict[str, str] = {p: f"（花名册：{n}）" for p, n in (roster or {}).items()}
    for rec in records:
        if is_student(rec):
            for p in _phones(rec.values.get("phone")):
                students.setdefault(p, f"（{rec.where()} {clean_text(rec.values.get('person'))}）")
    by_key: dict[tuple, list[Record]] = defaultdict(list)
    for rec in records:
        form = rec.form
        rule = form.rule(F.NoStudentPhone)
        if rule is not None:
            for p in _phones(rec.values.get(rule.column)):
                if p in students:
                    flag(rec, ctx.at(rec.file, rec.unit), "student-phone-binding", rule.column, p, who=students[p])
                    break
        if form.duplicates is not None:
            key = form.identity_parts(rec.values, fallback=False)
            if key is not None:
                # Group names repeat across units (每个学院都有“教职工群”): per_unit compares within one.
                by_key[(form.id, rec.unit if form.duplicates.per_unit else None, key)].append(rec)
    for group in by_key.values():
        if len(group) < 2:
            continue
        form = group[0].form
        columns = form.identity.columns
        for rec in group:
            kind = rec.values.get(columns[0]) if len(columns) > 1 else None
            others = "、".join(o.where() for o in group if o is not rec)
            flag(rec, ctx.at(rec.file, rec.unit), form.duplicates.code, columns[-1], clean_text(rec.values[columns[-1]]),
                 platform=kind or "", group_type=kind or "", other=others)
