"""Annotated copies: the file the coordinator sends back to each unit (``validate --annotate``).

For every readable file a unit returned, a copy of the workbook with a first sheet 修改意见
listing every issue of the unit in plain Chinese, and every problem cell filled (red error,
amber warning, blue info) and commented. A unit whose files could not be read gets a workbook
with the 修改意见 sheet only. Input files are never modified; outputs are written atomically.
"""

from __future__ import annotations

import math
import re
import sys
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import NetregError
from ..model.issues import SEVERITY_LABEL, Issue, Severity, severity_rank
from ..model.report import FileResult, Report
from ..util.atomic import atomic_path
from ..util.oserror import disk_full, os_reason
from . import cells
from .opinions import FILLS, SHEET, opinion_sheet

if TYPE_CHECKING:
    import openpyxl
    from openpyxl.worksheet.worksheet import Worksheet

    from ..config import Campaign

_clean = cells.clean_cell_text

SUFFIX = "修改意见"
AUTHOR = "netreg"
UNNAMED = cells.UNNAMED
MAX_NAME_CHARS = 80
MAX_NAME_BYTES = 180  # ext4 allows 255 bytes per name: room for "-修改意见-2.xlsx"
MAX_COMMENT_CHARS = 4_000
# openpyxl (not read-only) holds every cell in memory: above this, only the 修改意见 sheet.
# Measured: 11-21x the uncompressed size in RSS (22 MB of dense cells -> 250 MB; 18 MB of
# 200 000 formatted empty rows -> 370 MB, 15 s), so 16 MB keeps a copy under ~350 MB.
MAX_UNCOMPRESSED_BYTES = 16 * 1024 * 1024

PREFIX = {s: f"【{label}】" for s, label in SEVERITY_LABEL.items()}



# --------------------------------------------------------------------------- file names

def safe_name(text: str | None) -> str:
    return cells.safe_name(text, max_chars=MAX_NAME_CHARS, max_bytes=MAX_NAME_BYTES)


# --------------------------------------------------------------------------- planning

# a campaign's own findings: about when and how the forms came, nothing to fix in them
NOT_IN_THE_FORMS = frozenset({"submission-late", "correction-late", "paper-missing", "file-superseded",
                              "unit-missing"})

@dataclass
class _Job:
    unit: str
    source: FileResult | None  # None: 修改意见-only workbook (no readable file)
    issues: list[Issue]  # every issue of the unit
    files: list[FileResult]  # every file of the unit
    target: Path | None = None


def _unit_jobs(report: Report) -> list[_Job]:
    units: dict[str, list[FileResult]] = {}
    for f in report.files:
        if f.status != "skipped":  # a copy of another file, or netreg's own output: nothing to send back
            units.setdefault(f.unit or UNNAMED, []).append(f)
    owner = {f.path: unit for unit, files in units.items() for f in files}
    mine: dict[str, list[Issue]] = {unit: [] for unit in units}
    for i in report.issues:  # one pass, in the report's order (a province has hundreds of thousands)
        unit = owner.get(i.file) if i.file is not None else i.unit
        if unit in mine:
            mine[unit].append(i)
    jobs: list[_Job] = []
    for unit, files in units.items():
        issues = mine[unit]
        to_fix = [i for i in issues if i.severity is not Severity.INFO and i.code not in NOT_IN_THE_FORMS]
        if not to_fix:
            continue  # nothing to fix in what the unit sent: no copy goes back
        readable = [f for f in files if f.status == "ok"]
        # a copy of each file that has something to fix in it (five workbooks sent as one
        # submission, one of them wrong: one copy, not five); a problem of no file's own
        # (a form missing) goes with the first
        wrong = {i.file for i in to_fix}
        chosen = [f for f in readable if f.path in wrong] or readable[:1]
        for f in chosen or [None]:
            jobs.append(_Job(unit, f, issues, files))
    return jobs


def _assign_targets(jobs: list[_Job], out_dir: Path, sources: set[Path]) -> None:
    """``<unit>-修改意见.xlsx`` or, for a unit with several readable files,
    ``<unit>-<file stem>-修改意见.xlsx``; clashes get -2, -3…; never outside ``out_dir``
    and never onto an input file."""
    root = out_dir.resolve()
    per_unit: dict[str, int] = {}
    for job in jobs:
        per_unit[job.unit] = per_unit.get(job.unit, 0) + 1
    used: set[str] = set()
    for job in jobs:
        base = safe_name(job.unit)
        if per_unit[job.unit] > 1 and job.source is not None:
            stem = safe_name(re.sub(r"^#\d+ ", "", Path(job.source.path).stem))  # a campaign's "#12 医学院"
            # 医学院-附件1.xlsx → 医学院-附件1-修改意见.xlsx, not 医学院-医学院-附件1-…
            base = stem if stem.startswith(base) else safe_name(f"{base}-{stem}")
        name, n = base, 1
        while True:
            candidate = out_dir / f"{name}-{SUFFIX}.xlsx"
            key = candidate.name.casefold()
            if key not in used and candidate.resolve() not in sources:
                break
            n += 1
            name = f"{base}-{n}"
        if candidate.resolve().parent != root:  # cannot happen with safe_name; belt and braces
            continue
        used.add(key)
        job.target = candidate


# --------------------------------------------------------------------------- entry point

@dataclass(frozen=True)
class Annotated:
    """What ``write_annotated`` did: the copies written, and each unit it could not write."""

    written: list[Path]
    failed: list[tuple[str, str]]  # (unit, why, in Chinese)
    replaced: list[Path] = ()  # written over a copy of an earlier round with the same name
    stale: list[Path] = ()  # copies netreg wrote in an earlier round, in the folder, not rewritten now
    clean: list[str] = ()  # units with nothing to fix: no copy written


class CopyRefused(NetregError):
    """openpyxl must not load this file (too big, or merged ranges over too many cells)."""


def of_unit(report: Report, unit: str) -> Report:
    """The part of ``report`` that is ``unit``'s: its files, their rows and issues, and the
    unit's issues of no file (what its annotated copies and its letter show)."""
    from dataclasses import replace

    files = tuple(f for f in report.files if f.unit == unit)
    paths = {f.path for f in files}
    return replace(report, files=files, records=tuple(r for r in report.records if r.file in paths),
                   issues=tuple(i for i in report.issues if i.file in paths or (i.file is None and i.unit == unit)))


def write_annotated(report: Report, out_dir: Path, *, config: Campaign | None = None,
                    due: date | None = None) -> Annotated:
    """Write one annotated workbook per readable file of every unit that has something to
    fix (or one 修改意见-only workbook for a unit with nothing readable) into ``out_dir``;
    a unit with no problem gets none.

    ``config`` adds the campaign's school, deadline and addresses to the intro lines; ``due``
    is the 完成日期 they ask for (the letter's), else the configured deadline.
    A problem with one unit never stops the others: that unit is reported in ``failed``.
    """
    if due is not None and config is not None:
        config = config.model_copy(update={"deadline": f"{due.year}年{due.month}月{due.day}日"})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = set()
    for f in report.files:
        try:
            sources.add(Path(f.path).resolve())
        except OSError:
            pass
    jobs = _unit_jobs(report)
    clean = sorted({f.unit or UNNAMED for f in report.files if f.status != "skipped"} - {job.unit for job in jobs})
    _assign_targets(jobs, out_dir, sources)
    jobs = [job for job in jobs if job.target is not None]
    existed = {job.target for job in jobs if job.target.exists()}
    written, failed = [], []
    try:
        outcomes = _run_jobs(jobs, report, config)
    except BaseException:  # Ctrl-C: workers killed mid-write leave their temporary files
        for tmp in out_dir.glob(".netreg-*.tmp"):
            tmp.unlink(missing_ok=True)
        raise
    for job, error in zip(jobs, outcomes):
        if error is None:
            written.append(job.target)
        else:
            if job.target in existed:  # e.g. open in WPS: last round's copy is still there
                error += f"；文件夹中的 {job.target.name} 仍是上一轮的，已过期，请勿发出"
            failed.append((job.unit, error))
    this_round = {job.target for job in jobs}  # a failed one is already said
    stale = sorted(p for p in out_dir.glob("*.xlsx") if p not in this_round and _annotated_copy(p))
    return Annotated(written, failed, [t for t in written if t in existed], stale, clean)


def _annotated_copy(path: Path) -> bool:
    """Whether netreg wrote ``path`` as a 修改意见表 (its custom properties say so)."""
    import zipfile

    from ..model.forms import META_PREFIX

    try:
        with zipfile.ZipFile(path) as z:
            props = z.read("docProps/custom.xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return f'name="{META_PREFIX}kind"'.encode() in props and b">annotated<" in props


PARALLEL_MIN_JOBS = 6  # below this, starting worker processes costs more than it saves


def _run_jobs(jobs: list, report: Report, config: Campaign | None) -> list[str | None]:
    """Write every job (None when written, else why not); on both cores from PARALLEL_MIN_JOBS
    on, as openpyxl's load and save are most of the time (50 files: 11.9 s → 6.9 s)."""
    from functools import partial

    from ..util.parallel import forked_map

    return list(forked_map(partial(_run_job, report=report, config=config), jobs, PARALLEL_MIN_JOBS))


def _run_job(job: _Job, report: Report, config: Campaign | None) -> str | None:
    try:
        _write_job(job, report, config)
    except OSError as exc:  # one unit's problem must not cost the others
        return f"无法写入 {job.target.name}（{os_reason(exc)}）"
    except Exception as exc:
        from ..util.debug import note

        note(exc)
        return "生成时发生意外错误，请把原文件发给技术人员"
    return None


def _write_job(job: _Job, report: Report, config: Campaign | None) -> None:
    failure = None
    if job.source is not None:
        try:
            if job.source.format not in (None, "xlsx"):
                raise CopyRefused("不是 Excel 工作簿")  # a Word table or a csv: list the issues only
            source = Path(job.source.source or job.source.path)
            wb = _load_copy(source)
            _defuse_formulas(wb, source)
            _annotate(wb, job, report, config)
            _save(wb, job.target, _digest(source))
            return
        except Exception as exc:  # calamine read it, openpyxl cannot: list the issues only
            if disk_full(exc):  # not the copy's fault: said as a copy not written (磁盘空间不足)
                raise
            failure = "无法为它生成带批注的副本"
    import openpyxl

    wb = openpyxl.Workbook()
    opinion_sheet(wb, wb.active, job, report, config, copy_failed=failure)
    _save(wb, job.target)


def _digest(source: Path) -> str | None:
    """The source's fingerprint as the readers see it: the copy carries it, so that the copy
    found among the inputs is known for ours until someone edits it."""
    from ..config import Limits
    from ..model.forms import OWN_SHEETS
    from ..sources import open_book

    try:
        return open_book(source, Limits(max_file_mb=1e6, max_uncompressed_mb=1e6)).digest(OWN_SHEETS)
    except Exception:  # noqa: BLE001 - no fingerprint: the copy is then read like a unit's file
        return None


def _save(wb: openpyxl.Workbook, target: Path, digest: str | None = None) -> None:
    cells.mark_output(wb, "annotated", digest=digest)
    with atomic_path(target) as tmp:
        wb.save(tmp)


# openpyxl makes an object for every cell a merged range covers: one range declared over a
# whole column is a million of them, and a file can declare thousands of such ranges.
MAX_MERGED_CELLS = 200_000


def _merged_area(path: Path) -> int:
    """Cells covered by the merged ranges of every sheet (read by calamine, which keeps
    ranges as ranges)."""
    from python_calamine import CalamineWorkbook

    with path.open("rb") as fh:
        book = CalamineWorkbook.from_filelike(fh)
    area = 0
    for name in book.sheet_names:
        for (r0, c0), (r1, c1) in book.get_sheet_by_name(name).merged_cell_ranges or ():
            area += (r1 - r0 + 1) * (c1 - c0 + 1)
    return area


def _load_copy(path: Path) -> openpyxl.Workbook:
    import openpyxl

    with zipfile.ZipFile(path) as z:
        if sum(i.file_size for i in z.infolist()) > MAX_UNCOMPRESSED_BYTES:
            raise CopyRefused("文件过大")
    if _merged_area(path) > MAX_MERGED_CELLS:
        raise CopyRefused("合并区域过大")
    with path.open("rb") as fh, warnings.catch_warnings():  # the source is only ever read
        warnings.simplefilter("ignore")  # "extension not supported" and the like: not the user's concern
        # keep_links=False: no external workbook links, no DDE links (cmd|' /C calc') in the copy
        wb = openpyxl.load_workbook(fh, read_only=False, keep_vba=False, keep_links=False, rich_text=True)
    wb.template = False  # an .xltx source must be saved as a plain workbook
    return wb


# --------------------------------------------------------------------------- formulas

def _defuse_formulas(wb: openpyxl.Workbook, source: Path) -> None:
    """No formula of the unit's stays live in the copy that goes back to it (remind attaches
    it to a letter): ``=cmd|' /C calc'!A0``, ``=HYPERLINK(…)``, ``=WEBSERVICE(…)`` run or call
    out when opened. Each formula cell keeps the value the unit saw (the cached one, as the
    summary shows it), a text as text; one without a cached value shows its formula as text."""
    found: dict[str, dict[tuple[int, int], object]] = {}
    for ws in wb.worksheets:
        for cell in list(getattr(ws, "_cells", {}).values()):  # existing cells only
            if cell.data_type == "f":
                found.setdefault(ws.title, {})[(cell.row, cell.column)] = cell
    if not found:
        return
    cached = _cached_values(source, {title: set(cells) for title, cells in found.items()})
    for title, cells_ in found.items():
        for key, cell in cells_.items():
            value = cached.get((title, key))
            formula = cell.value if isinstance(cell.value, str) else getattr(cell.value, "text", None) or ""
            if value is None or value == "":
                formula = str(formula)
                cells.write_text(cell, formula if formula.startswith("=") or not formula else "=" + formula)
            elif isinstance(value, str):
                cells.write_text(cell, value)
            else:
                cell.value = value  # a number, a date, true/false: inert


def _cached_values(source: Path, wanted: dict[str, set[tuple[int, int]]]) -> dict:
    """The values a workbook's formula cells were last computed to, by (sheet, (row, column)),
    streamed (read-only: memory bounded) from the rows that hold them."""
    import openpyxl

    values: dict = {}
    try:
        with source.open("rb") as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(fh, read_only=True, data_only=True, keep_links=False)
            try:
                for title, coords in wanted.items():
                    if title not in book.sheetnames:
                        continue
                    ws = book[title]
                    if not hasattr(ws, "iter_rows"):
                        continue
                    ws.reset_dimensions()  # WPS declares A1:A1
                    rows = [r for r, _ in coords]
                    for row in ws.iter_rows(min_row=min(rows), max_row=max(rows)):
                        for c in row:
                            key = (getattr(c, "row", None), getattr(c, "column", None))
                            if key in coords:
                                values[(title, key)] = c.value
            finally:
                book.close()
    except Exception:  # noqa: BLE001 - no cached values: every formula is shown as its text
        from ..util.debug import note

        note(sys.exc_info()[1])
    return values


# --------------------------------------------------------------------------- annotating

def _annotate(wb: openpyxl.Workbook, job: _Job, report: Report, config: Campaign | None) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    if SHEET in wb.sheetnames:  # a previous round's copy sent back: replace its 修改意见
        del wb[SHEET]
    _clear_previous_round(wb)
    marks: dict[tuple[str, str], list[Issue]] = {}
    located: dict[int, str] = {}  # id(issue) -> cell actually marked
    for issue in job.issues:
        if issue.file != job.source.path or not issue.sheet or issue.sheet not in wb.sheetnames:
            continue
        ws = wb[issue.sheet]
        if ws.__class__.__name__ != "Worksheet":  # chartsheet
            continue
        coord = _target_cell(ws, issue)
        if coord:
            marks.setdefault((issue.sheet, coord), []).append(issue)
            located[id(issue)] = coord
    for (sheet, coord), issues in marks.items():
        issues = sorted(issues, key=severity_rank)
        cell = wb[sheet][coord]
        worst = issues[0].severity
        cell.fill = PatternFill("solid", fgColor=FILLS[worst])
        lines = []
        for i in issues:
            line = PREFIX[i.severity] + i.message
            if line not in lines:
                lines.append(line)
        text = _clean("\n".join(lines))
        if cell.comment is not None and cell.comment.author != AUTHOR and cell.comment.text:
            text += "\n\n（原批注）" + _clean(cell.comment.text)
        text = text[:MAX_COMMENT_CHARS]
        width, height = _comment_size(text)
        cell.comment = Comment(text, AUTHOR, height=height, width=width)
    for other in wb.worksheets:  # the copy is printed: wrapped text must show whole
        cells.fit_row_heights(other)
    ws = wb.create_sheet(SHEET, 0)
    opinion_sheet(wb, ws, job, report, config, located=located)
    for other in wb._sheets[1:]:  # several selected tabs = grouped sheets in Excel
        views = [other.sheet_view] if hasattr(other, "sheet_view") else \
            list(getattr(getattr(other, "sheetViews", None), "sheetView", None) or [])
        for view in views:
            view.tabSelected = False
    wb.active = 0
    for view in wb.views:
        view.firstSheet = 0  # the tab bar starts at 修改意见


def _clear_previous_round(wb: openpyxl.Workbook) -> None:
    """Remove netreg's comments (and their fills) left in a copy that came back to us."""
    from openpyxl.styles import PatternFill

    ours = {"00" + c for c in FILLS.values()} | {"FF" + c for c in FILLS.values()}
    for ws in wb.worksheets:
        for cell in list(ws._cells.values()):  # existing cells only: iter_rows would create cells
            comment = getattr(cell, "comment", None)
            if comment is None or comment.author != AUTHOR:
                continue
            cell.comment = None
            color = getattr(cell.fill.fgColor, "rgb", None)
            if isinstance(color, str) and color.upper() in ours:
                cell.fill = PatternFill()


def _target_cell(ws: Worksheet, issue: Issue) -> str | None:
    """Cell to mark for ``issue``: its own cell, the first cell of its row when it has no
    column, A1 when it only names the sheet; the top-left cell of a merged range."""
    from openpyxl.utils import column_index_from_string

    try:
        col = column_index_from_string(issue.column) if issue.column else 1
    except ValueError:
        return None
    row = issue.row or 1
    if not (1 <= row <= 1_048_576 and 1 <= col <= 16_384):
        return None
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= row <= rng.max_row and rng.min_col <= col <= rng.max_col:
            row, col = rng.min_row, rng.min_col
            break
    return ws.cell(row, col).coordinate


def _comment_size(text: str) -> tuple[int, int]:
    """(width, height) in pixels for a comment box showing ``text`` without scrolling."""
    width_chars = 26  # CJK characters per line
    lines = 0
    for part in text.split("\n"):
        lines += max(1, math.ceil(cells.text_width(part) / (2 * width_chars)))
    return 14 * width_chars + 16, min(16 * lines + 14, 600)
