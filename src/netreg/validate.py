"""The pipeline behind ``netreg validate`` and ``netreg merge``: paths → Report.

reader (raw located rows) → rules (normalised records + issues) → Report. One bad file only
ever becomes an issue; it never stops the others.
"""

from __future__ import annotations

import csv
import gc
import os
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Callable

from . import forms as F
from .config import Campaign, match_unit
from .issues import FileResult, Issue, Report, Severity, make
from .reader import Unreadable, Workbook, col_letter, read_workbook
from .rules import Context, Record, check_table, cross_checks

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
                        issues.append(make("file-unreadable", file=str(f), reason="文件不存在或无法访问（链接指向的文件不存在）"))
        elif p.name.startswith("~$"):
            continue
        elif p.is_file():
            add(p)
        else:
            issues.append(make("file-unreadable", file=str(p), reason="文件或文件夹不存在，或无法访问",
                               advice="请检查路径是否写对。"))
    return found, issues


def read_roster(path: Path, config: Campaign) -> dict[str, str]:
    """Student roster (.xlsx or .csv with 姓名 and 手机号 columns) → normalised phone → name."""
    from .normalize import clean_text, parse_phone

    if path.suffix.lower() == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            text = path.read_text(encoding="gb18030")
        rows = list(csv.reader(text.splitlines()))
    else:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    roster: dict[str, str] = {}
    name_col = phone_col = None
    for row in rows:
        cells = [clean_text(v) for v in row]
        if name_col is None:
            for ci, c in enumerate(cells):
                if c == "姓名":
                    name_col = ci
                elif any(k in c for k in ("手机", "电话", "联系方式")):
                    phone_col = ci
            if name_col is None or phone_col is None:
                name_col = phone_col = None
            continue
        if phone_col < len(row):
            parsed = parse_phone(row[phone_col], config.default_area_code)
            if parsed.ok and parsed.value:
                for p in str(parsed.value).split("/"):
                    roster[p] = cells[name_col] if name_col < len(cells) else ""
    return roster


def _unit_of(path: Path, book: Workbook | None, units: list[str]) -> tuple[str, str | None]:
    """(unit, why it is uncertain or None). Metadata, then 填报单位 text, then file/folder name."""
    candidates = []
    if book is not None:
        if book.meta.get("unit"):
            candidates.append(book.meta["unit"])
        if book.unit_text:
            candidates.append(book.unit_text[0])
    candidates += [path.stem, path.parent.name]
    for text in candidates:
        unit = match_unit(text, units)
        if unit:
            return unit, None
    if book is not None and (book.meta.get("unit") or book.unit_text):
        typed = book.meta.get("unit") or book.unit_text[0]
        return typed, f"（表中填写的“{typed}”不在单位名单中）"
    return path.stem, f"（表中未填写填报单位，文件名“{path.name}”也无法对应到单位名单）"


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector. A run builds hundreds of thousands of records and
    issues that all live to its end; the collector's repeated passes over them freed nothing
    and cost a sixth of a 300-file merge (6.5 s → 5.4 s), mostly while unpickling the
    workers' results. Worker processes forked inside inherit the pause."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What was built is kept out of later collections (it is freed by reference counting
        # as usual); otherwise re-enabling would start a full pass over all of it at once.
        gc.freeze()
        if was_enabled:
            gc.enable()


PARALLEL_MIN_FILES = 24  # below this, starting worker processes costs more than it saves


def check_file(path: Path, config: Campaign, units: list[str], as_of: date):
    """Read and check one file: (FileResult, issues, records, filled form ids, blank form ids,
    sheet names). Never raises: a file that cannot be read becomes a file-level issue."""
    shown = str(path)
    issues: list[Issue] = []
    try:
        book = read_workbook(path, config)
    except Exception as exc:  # Unreadable, or a reader bug: it must not cost the other files
        unit, _ = _unit_of(path, None, units)
        if isinstance(exc, Unreadable):
            issues.append(make(exc.code, file=shown, unit=unit, reason=exc.reason, fmt=exc.fmt))
        else:
            issues.append(make("file-unreadable", file=shown, unit=unit,
                               reason=f"读取时发生意外错误（{type(exc).__name__}），请把此文件发给技术人员"))
        return FileResult(shown, unit, "unreadable", {}), issues, [], set(), set(), []
    unit, doubt = _unit_of(path, book, units)
    if doubt:
        where = book.unit_text
        issues.append(make("unit-unknown", file=shown, unit=unit, detail=doubt,
                           sheet=where[1] if where else None, row=where[2] if where else None,
                           column=col_letter(where[3]) if where else None,
                           value=where[0] if where else None))
    version = book.meta.get("format_version", "")
    if version.isdigit() and int(version) < F.FORMAT_VERSION:
        issues.append(make("template-outdated", file=shown, unit=unit, found=version,
                           current=F.FORMAT_VERSION))
    ctx = Context.build(config, as_of, shown, unit)
    forms: dict[int, tuple[str, int]] = {}
    records: list[Record] = []
    filled_ids: set[int] = set()
    blank_ids: set[int] = set()
    for table in book.tables:
        recs, table_issues = check_table(table, ctx)
        issues.extend(table_issues)
        records.extend(recs)
        sheet, n = forms.get(table.form.id, (table.sheet, 0))
        forms[table.form.id] = (sheet, n + len(recs))
        (filled_ids if recs or table.declared_empty else blank_ids).add(table.form.id)
    for name in book.unrecognised:
        if not name.startswith(SKIPPED_SHEETS):
            issues.append(make("header-mismatch", file=shown, unit=unit, sheet=name,
                               what="有内容，但表头与通知的五张附件都对不上",
                               missing="，其内容未能读取"))
    return FileResult(shown, unit, "ok", forms), issues, records, filled_ids, blank_ids, list(book.sheets)


def _check_all(files: list[Path], config: Campaign, units: list[str], as_of: date):
    """(path, check_file result) in input order; on both cores when there are many files."""
    from .cores import forked_map

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
        result, issues, recs, filled, blank, sheets = checked
        file_issues[result.path] = issues
        results.append(result)
        records.extend(recs)
        if result.status != "ok":
            continue
        sheet_rank.update({(result.path, name): n for n, name in enumerate(sheets)})
        forms_by_unit.setdefault(result.unit, set()).update(filled)
        blank_by_unit.setdefault(result.unit, set()).update(blank)
        first_file.setdefault(result.unit, result.path)
    for unit, found in forms_by_unit.items():
        for form in F.FORMS:
            if form.id not in found:
                # A blank form of our template is no answer: the notice wants 无 written in.
                state = "未填写" if form.id in blank_by_unit.get(unit, ()) else "未找到"
                file_issues[first_file[unit]].append(
                    make("form-not-found", file=first_file[unit], unit=unit, form=form.id, form_name=form.name,
                         state=state))
    student_roster = {}
    for r in ([roster] if roster else []) + [Path(p) for p in config.roster_files]:
        try:
            student_roster.update(read_roster(r, config))
        except Exception as exc:
            loose.append(make("file-unreadable", file=str(r), reason=f"学生花名册无法读取（{type(exc).__name__}）"))
    cross_checks(records, base, student_roster)
    for rec in records:
        file_issues.setdefault(rec.file, []).extend(rec.issues)
    order = {r.path: i for i, r in enumerate(results)}
    ordered = sorted((i for lst in file_issues.values() for i in lst),
                     key=lambda i: (order.get(i.file, -1), sheet_rank.get((i.file, i.sheet), -1), i.row or 0,
                                    len(i.column or ""), i.column or ""))
    all_issues = loose + ordered
    for res in results:
        mine = [i for i in file_issues.get(res.path, [])]
        res.errors = sum(i.severity is Severity.ERROR for i in mine)
        res.warnings = sum(i.severity is Severity.WARNING for i in mine)
        res.infos = sum(i.severity is Severity.INFO for i in mine)
    return Report(results, records, all_issues, units, as_of)
