"""The pipeline behind ``netreg validate`` and ``netreg merge``: paths → Report.

files → sources (Book) → scan (located tables) → check (normalised records + issues) →
cross-file checks → one frozen Report. One bad file only ever becomes an issue; it never
stops the others.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .check.cross import cross_checks
from .check.roster import read_roster
from .check.rows import Context, check_table
from .check.units import unit_of
from .model import forms as F
from .model.issues import Issue, Severity, form_absent, make, not_a_form, unit_doubt
from .model.records import Record
from .model.report import FileResult, Report
from .sources import open_book
from .sources.base import Reason, Unreadable
from .util.cells import col_letter
from .util.memory import gc_paused

if TYPE_CHECKING:
    from .config import Campaign

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".et", ".ett"}
SKIPPED_SHEETS = ("填表说明", "修改意见", "_")


def collect_paths(paths: list[Path]) -> tuple[list[Path], list[Issue]]:
    """Files to read: given files as they are, folders searched recursively for spreadsheets.
    Office lock files (~$*.xlsx) and hidden files are skipped; a file given twice is read once."""
    found: list[Path] = []
    issues: list[Issue] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            found.append(p)

    for p in paths:
        if p.is_dir():
            for root, dirs, names in os.walk(p, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for n in sorted(names):
                    f = Path(root) / n
                    if n.startswith(("~$", ".")) or f.suffix.lower() not in SPREADSHEET_SUFFIXES:
                        continue
                    if f.is_file():
                        add(f)
                    elif f.is_symlink():  # dangling or looping link: say so, never skip silently
                        issues.append(make("file-unreadable", file=str(f), reason=Reason.MISSING,
                                           problem="文件不存在或无法访问（链接指向的文件不存在）"))
        elif p.name.startswith("~$"):
            continue
        elif p.is_file():
            add(p)
        else:
            issues.append(make("file-unreadable", file=str(p), reason=Reason.MISSING,
                               problem="文件或文件夹不存在，或无法访问", advice="请检查路径是否写对。"))
    return found, issues


PARALLEL_MIN_FILES = 24  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class FileCheck:
    """One file read and checked."""

    result: FileResult
    issues: list[Issue]
    records: list[Record]
    filled: frozenset[int]  # forms filled in, or declared empty (无)
    blank: frozenset[int]  # forms returned with nothing typed in
    sheets: tuple[str, ...]


def check_file(path: Path, config: Campaign, units: list[str], as_of: date) -> FileCheck:
    """Read and check one file. Never raises: a file that cannot be read becomes a file-level issue."""
    from .scan.tables import scan_book

    shown = str(path)
    issues: list[Issue] = []
    try:
        scan = scan_book(open_book(path, config.limits))
    except Exception as exc:  # Unreadable, or a reader bug: it must not cost the other files
        unit, _ = unit_of(path, None, units)
        if isinstance(exc, Unreadable):
            issues.append(make(exc.code, file=shown, unit=unit, reason=exc.reason, problem=exc.text, fmt=exc.kind))
        else:
            issues.append(make("file-unreadable", file=shown, unit=unit, reason=Reason.CORRUPT,
                               problem=f"读取时发生意外错误（{type(exc).__name__}），请把此文件发给技术人员"))
        return FileCheck(FileResult(shown, unit, "unreadable", {}), issues, [], frozenset(), frozenset(), ())
    unit, doubt = unit_of(path, scan, units)
    if doubt is not None:
        where = scan.unit_text
        issues.append(make("unit-unknown", file=shown, unit=unit, **unit_doubt(doubt, path.name),
                           sheet=where.sheet if where else None, row=where.row if where else None,
                           column=col_letter(where.col) if where else None,
                           value=where.text if where else None))
    version = scan.meta.get("format_version", "")
    if version.isdigit() and int(version) < F.FORMAT_VERSION:
        issues.append(make("template-outdated", file=shown, unit=unit, found=version,
                           current=F.FORMAT_VERSION))
    ctx = Context.build(config, as_of, shown, unit)
    forms: dict[int, tuple[str, int]] = {}
    records: list[Record] = []
    filled: set[int] = set()
    blank: set[int] = set()
    for table in scan.tables:
        recs, table_issues = check_table(table, ctx)
        issues.extend(table_issues)
        records.extend(recs)
        sheet, n = forms.get(table.form.id, (table.sheet, 0))
        forms[table.form.id] = (sheet, n + len(recs))
        (filled if recs or table.declared_empty else blank).add(table.form.id)
    for name in scan.unrecognised:
        if not name.startswith(SKIPPED_SHEETS):
            issues.append(make("header-mismatch", file=shown, unit=unit, sheet=name, **not_a_form()))
    return FileCheck(FileResult(shown, unit, "ok", forms, format=scan.format), issues, records,
                     frozenset(filled), frozenset(blank), tuple(scan.sheets))


def _check_all(files: list[Path], config: Campaign, units: list[str], as_of: date):
    """(path, check_file result) in input order; on both cores when there are many files."""
    from .util.parallel import forked_map

    def check(path: Path):
        return check_file(path, config, units, as_of)

    yield from zip(files, forked_map(check, files, PARALLEL_MIN_FILES))


def validate_paths(paths: list[Path], config: Campaign, *, units: list[str] | None = None,
                   as_of: date | None = None, roster: Path | None = None,
                   on_file: Callable[[Path], None] | None = None) -> Report:
    with gc_paused():
        return _validate_paths(paths, config, units=units, as_of=as_of, roster=roster, on_file=on_file)


def _validate_paths(paths: list[Path], config: Campaign, *, units: list[str] | None,
                    as_of: date | None, roster: Path | None, on_file: Callable[[Path], None] | None) -> Report:
    units = list(units if units is not None else config.units)
    as_of = as_of or date.today()
    files, loose = collect_paths(paths)
    base = Context.build(config, as_of)
    results: list[FileResult] = []
    records: list[Record] = []
    file_issues: dict[str, list[Issue]] = {}
    forms_by_unit: dict[str, set[int]] = {}  # forms a unit filled in, or declared empty (无)
    blank_by_unit: dict[str, set[int]] = {}  # forms a unit returned with nothing typed in
    first_file: dict[str, str] = {}
    sheet_rank: dict[tuple[str, str], int] = {}  # issues are listed in workbook sheet order
    for path, checked in _check_all(files, config, units, as_of):
        if on_file:
            on_file(path)
        result = checked.result
        file_issues[result.path] = checked.issues
        results.append(result)
        records.extend(checked.records)
        if not result.ok:
            continue
        sheet_rank.update({(result.path, name): n for n, name in enumerate(checked.sheets)})
        forms_by_unit.setdefault(result.unit, set()).update(checked.filled)
        blank_by_unit.setdefault(result.unit, set()).update(checked.blank)
        first_file.setdefault(result.unit, result.path)
    for unit, found in forms_by_unit.items():
        for form in F.FORMS:
            if form.id not in found:
                # A blank form of our template is no answer: the notice wants 无 written in.
                blank = form.id in blank_by_unit.get(unit, ())
                file_issues[first_file[unit]].append(
                    make("form-not-found", file=first_file[unit], unit=unit, form=form.id, form_name=form.name,
                         **form_absent(blank)))
    student_roster = {}
    for r in ([roster] if roster else []) + [Path(p) for p in config.roster_files]:
        try:
            student_roster.update(read_roster(r, config))
        except Exception as exc:
            loose.append(make("file-unreadable", file=str(r), reason=Reason.CORRUPT,
                              problem=f"学生花名册无法读取（{type(exc).__name__}）"))
    cross_checks(records, base, student_roster)
    for rec in records:
        file_issues.setdefault(rec.file, []).extend(rec.issues)
    order = {r.path: i for i, r in enumerate(results)}
    ordered = sorted((i for lst in file_issues.values() for i in lst),
                     key=lambda i: (order.get(i.file, -1), sheet_rank.get((i.file, i.sheet), -1), i.row or 0,
                                    len(i.column or ""), i.column or ""))
    counted = []
    for res in results:
        mine = file_issues.get(res.path, [])
        counted.append(replace(res, errors=sum(i.severity is Severity.ERROR for i in mine),
                               warnings=sum(i.severity is Severity.WARNING for i in mine),
                               infos=sum(i.severity is Severity.INFO for i in mine)))
    return Report(tuple(counted), tuple(records), tuple(loose + ordered), tuple(units), as_of)
