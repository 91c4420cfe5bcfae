"""Blank workbooks: one per unit, laid out like the notice's attachments, with in-cell checks.

Every sheet is built from ``forms.FORMS``; every campaign-specific value (school, thresholds,
platform lists, blank and validated row counts) comes from the ``Campaign`` config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import combinations
from pathlib import Path

import openpyxl
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..config import Campaign
from ..model.forms import FORMAT_VERSION, FORMS, META_PREFIX, META_SHEET, Form, Kind
from ..util.atomic import atomic_path
from ..util.oserror import os_reason
from ..util.resources import jinja_env
from . import cells
from .layout import (INSTRUCTIONS_SHEET, INSTRUCTIONS_WIDTH, UNIT_LABEL, form_widths, instruction_height,
                     instruction_look, now_text, unit_column)
from .validation import Lists, add_validations

FILLER_LABEL = "填表人："
TITLE_ROW, SIGNATURE_ROW, HEADER_ROW = 2, 3, 4

FONT_NAME = "宋体"
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")

@dataclass(frozen=True)
class Written:
    unit: str
    path: Path
    status: str  # "written", "exists" (present and force=False: left alone) or "failed"
    why: str = ""  # for "failed", in Chinese (a workbook open in Excel/WPS cannot be replaced)


# --------------------------------------------------------------------------- file names

UNNAMED = cells.UNNAMED


def safe_filename(unit: str) -> str:
    """``unit`` as a file name (without extension) valid on Windows and Linux."""
    return cells.safe_name(unit)


def _target_paths(units: list[str], out_dir: Path) -> list[tuple[str, Path]]:
    """One path per distinct unit; names that collide (case-insensitively) get -2, -3…"""
    used: set[str] = set()
    seen: set[str] = set()
    targets: list[tuple[str, Path]] = []
    root = out_dir.resolve()
    for unit in units:
        if unit in seen:
            continue
        seen.add(unit)
        base = safe_filename(unit)
        name, n = base, 1
        while name.casefold() in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name.casefold())
        path = out_dir / f"{name}.xlsx"
        if path.resolve().parent != root:
            raise ValueError(f"单位名称“{unit}”生成的文件路径不在输出目录内：{path}")
        targets.append((unit, path))
    return targets


PARALLEL_MIN_UNITS = 8  # below this, starting worker processes costs more than it saves


def write_templates(config: Campaign, units: list[str], out_dir: Path, *, force: bool = False,
                    on_progress: Callable[[Written], None] | None = None) -> list[Written]:
    """Write ``out_dir/<unit>.xlsx`` for every unit; existing files are kept unless ``force``.
    openpyxl writes one workbook for the campaign; each unit's is that one with its own name
    written in (``blankbook``: 1 ms instead of 110 a unit). Workbooks are written on both
    cores from PARALLEL_MIN_UNITS units on."""
    from .blankbook import BlankBooks

    books = BlankBooks(config, build_workbook)
    return write_each(units, out_dir, partial(_write_one, config=config, books=books), force=force,
                      on_progress=on_progress, before=books.prepare)


def write_each(units: list[str], out_dir: Path, write: Callable[[tuple], str], *, force: bool = False,
               on_progress: Callable[[Written], None] | None = None,
               extra: Callable[[str], tuple] = lambda unit: (),
               before: Callable[[Path, list[str]], None] | None = None) -> list[Written]:
    """``write((unit, path, *extra(unit)))`` for each unit whose file is to be written (a
    module-level function or a partial of one: it may run in a spawned worker), returning ""
    or why not; one Written per unit, in order. ``before(out_dir, units to write)`` runs
    once, in this process, before any is written (and before workers start)."""
    from ..util.parallel import forked_map

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = _target_paths(units, out_dir)
    todo = [(unit, path) for unit, path in targets if force or not path.exists()]
    if before is not None and todo:
        before(out_dir, [unit for unit, _ in todo])
    done = forked_map(write, [(unit, path, *extra(unit)) for unit, path in todo], PARALLEL_MIN_UNITS)
    pending = set(todo)
    results: list[Written] = []
    for unit, path in targets:
        if (unit, path) in pending:
            why = next(done)  # in order: this unit's workbook is now written, or could not be
            result = Written(unit, path, "failed", why) if why else Written(unit, path, "written")
        else:
            result = Written(unit, path, "exists")
        results.append(result)
        if on_progress is not None:
            on_progress(result)
    for _ in done:  # none left: lets the pool shut down and its workers be waited for now
        pass
    return results


def _write_one(item: tuple[str, Path], config: Campaign, books=None) -> str:
    """Write one unit's workbook: "" when written, else why not (in Chinese). With ``books``
    (a prepared ``blankbook.BlankBooks``) a unit it can write is written from its parts."""
    unit, path = item
    try:  # one file open in Excel/WPS must not stop the others
        with atomic_path(path) as tmp:
            if books is not None and books.fits(unit):
                books.write(unit, tmp)
            else:
                build_workbook(config, unit).save(tmp)
    except OSError as exc:
        return os_reason(exc)
    return ""


# --------------------------------------------------------------------------- workbook

def build_workbook(config: Campaign, unit: str, *, generated: str | None = None) -> openpyxl.Workbook:
    """The blank workbook of ``unit``: 填表说明, 附件1…附件5, very-hidden metadata.
    ``generated``: the time recorded in the metadata (now, unless given)."""
    wb = openpyxl.Workbook()
    _instructions_sheet(wb.active, config, unit)
    lists = Lists(wb)
    for form in FORMS:
        _form_sheet(wb.create_sheet(form.sheet), form, config, unit, lists)
    meta = {
        "format_version": str(FORMAT_VERSION),
        "unit": _clean(unit),
        "forms": ",".join(str(f.id) for f in FORMS),
        "school": _clean(config.school),
        "generated": generated or now_text(),
    }
    ws = wb.create_sheet(META_SHEET)
    for row, (key, value) in enumerate(meta.items(), start=1):
        ws.cell(row, 1, key)
        _text(ws.cell(row, 2), value)
        wb.custom_doc_props.append(StringProperty(name=META_PREFIX + key, value=value))
    ws.sheet_state = "veryHidden"
    lists.move_last()
    wb.active = 0
    return wb


_clean = cells.clean_cell_text
_text = cells.write_text


PADDING = cells.CELL_PADDING


_width = cells.text_width


def _font(size: float = 11, bold: bool = False, name: str = FONT_NAME) -> Font:
    return Font(name=name, size=size, bold=bold)


def _page_setup(ws: Worksheet, *, title_rows: str | None) -> None:
    cells.page_setup(ws, title_rows=title_rows)


# --------------------------------------------------------------------------- 填表说明

def _instructions_sheet(ws: Worksheet, config: Campaign, unit: str) -> None:
    ws.title = INSTRUCTIONS_SHEET
    text = jinja_env().get_template("instructions.txt.j2").render(
        school=config.school, department=config.department, office=config.office,
        deadline=config.deadline, email=config.email, follower_threshold=config.follower_threshold,
        stale_days=config.stale_days, platforms=[c.name for c in config.platforms],
        group_types=[c.name for c in config.group_types], unit=unit,
        forms={f.id: f.title(config.school) for f in FORMS},
    )
    ws.column_dimensions["A"].width = INSTRUCTIONS_WIDTH
    for row, line in enumerate(text.rstrip("\n").split("\n"), start=1):
        if not line.strip():
            ws.row_dimensions[row].height = 10
            continue
        cell = ws.cell(row, 1)
        _text(cell, line)
        size, heading, horizontal = instruction_look(row, line)
        cell.font = _font(size, bold=heading)
        cell.alignment = Alignment(horizontal=horizontal, vertical="center", wrap_text=True)
        ws.row_dimensions[row].height = instruction_height(row, line)
    _page_setup(ws, title_rows=None)


# --------------------------------------------------------------------------- 附件 sheets

def _form_sheet(ws: Worksheet, form: Form, config: Campaign, unit: str, lists: Lists) -> None:
    widths = form_widths(form)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    _title_rows(ws, form, config, unit, widths)
    filler_name, filler_phone = _signature_line(ws, form, widths)
    first_data = _header(ws, form, widths)
    _blank_rows(ws, form, first_data, config.blank_rows)
    add_validations(ws, form, config, lists, first_data, filler_name, filler_phone)
    ws.freeze_panes = f"A{first_data}"
    _page_setup(ws, title_rows=f"{HEADER_ROW}:{first_data - 1}")


def _title_rows(ws: Worksheet, form: Form, config: Campaign, unit: str, widths: list[float]) -> None:
    """Row 1: 附件N on the left, 填报单位 on the right; row 2: the title."""
    ncol = len(widths)
    ws["A1"] = form.sheet
    ws["A1"].font = _font(12, bold=True, name="黑体")
    ws["A1"].alignment = Alignment(horizontal="left", vertical="center")
    unit_text = UNIT_LABEL + unit
    start = unit_column(widths, unit_text)
    cell = ws.cell(1, start)
    _text(cell, unit_text)
    cell.font = _font(11)
    cell.alignment = RIGHT
    if start < ncol:
        ws.merge_cells(start_row=1, start_column=start, end_row=1, end_column=ncol)
    ws.row_dimensions[1].height = 20

    title = ws.cell(TITLE_ROW, 1)
    _text(title, form.title(config.school))
    title.font = _font(16, bold=True)
    title.alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=ncol)
    ws.row_dimensions[TITLE_ROW].height = 36


def _header(ws: Worksheet, form: Form, widths: list[float]) -> int:
    """The verbatim header row(s) from row 4; returns the first data row.

    With two header rows (附件5), a column with a ``parent`` has the parent above it, merged
    across its siblings; every other column is merged over both rows."""
    columns, ncol = form.columns, len(form.columns)
    first_data = HEADER_ROW + form.header_rows
    last_header = first_data - 1
    for i, col in enumerate(columns, start=1):
        if col.parent:
            ws.cell(HEADER_ROW, i).value = col.parent
            ws.cell(last_header, i).value = col.header
        else:
            ws.cell(HEADER_ROW, i).value = col.header
            if last_header > HEADER_ROW:
                ws.merge_cells(start_row=HEADER_ROW, start_column=i, end_row=last_header, end_column=i)
    i = 1
    while i <= ncol:
        parent = columns[i - 1].parent
        j = i
        while parent and j < ncol and columns[j].parent == parent:
            j += 1
        if j > i:
            ws.merge_cells(start_row=HEADER_ROW, start_column=i, end_row=HEADER_ROW, end_column=j)
        i = j + 1
    for row in range(HEADER_ROW, first_data):
        for i in range(1, ncol + 1):
            cell = ws.cell(row, i)
            cell.font = _font(11, bold=True)
            cell.alignment = CENTER
            cell.border = BOX
            cell.fill = HEADER_FILL

    lines = [cells.wrapped_lines(c.header, w) for c, w in zip(columns, widths)]
    if form.header_rows == 1:
        ws.row_dimensions[HEADER_ROW].height = max(30, 16 * max(lines) + 8)
    else:
        parent_lines = max(cells.wrapped_lines(c.parent, w) for c, w in zip(columns, widths) if c.parent)
        lower_lines = max(n for c, n in zip(columns, lines) if c.parent)
        whole_lines = max(n for c, n in zip(columns, lines) if not c.parent)
        upper = 16 * parent_lines + 6
        ws.row_dimensions[HEADER_ROW].height = upper
        ws.row_dimensions[last_header].height = max(16 * lower_lines + 8, 16 * whole_lines + 12 - upper)
    return first_data


def _blank_rows(ws: Worksheet, form: Form, first_data: int, count: int) -> None:
    """Bordered rows with 序号 pre-filled, then the form's footnote. No fixed row height: a row
    grows with the text typed into it (a fixed one clips a long 网站栏目 on the printed copy
    that gets signed and stamped)."""
    ncol = len(form.columns)
    for row in range(first_data, first_data + count):
        for i, col in enumerate(form.columns, start=1):
            cell = ws.cell(row, i)
            cell.border = BOX
            cell.font = _font(11)
            cell.alignment = CENTER if col.kind in (Kind.SEQ, Kind.YESNO, Kind.DATE, Kind.COUNT) else LEFT
            if col.kind is Kind.SEQ:
                cell.value = row - first_data + 1
    if form.footnote:
        note = ws.cell(first_data + count, 1)
        _text(note, form.footnote)
        note.font = _font(11)
        note.alignment = Alignment(horizontal="left", vertical="center")
        ws.merge_cells(start_row=note.row, start_column=1, end_row=note.row, end_column=ncol)
        ws.row_dimensions[note.row].height = 22


def _signature_line(ws: Worksheet, form: Form, widths: list[float]) -> tuple[str, str]:
    """Row 3: signer label, signature space, 填表人 label and input, phone label and input.

    Returns the coordinates of the two input cells (filler name, filler phone)."""
    texts = [form.signer_label + "：", None, FILLER_LABEL, None, form.phone_label + "：", None]
    spans = _signature_spans(widths, [_width(t) + PADDING if t else 0 for t in texts])
    col = 1
    coords: list[str] = []
    for k, (text, span) in enumerate(zip(texts, spans)):
        cell = ws.cell(SIGNATURE_ROW, col)
        coords.append(cell.coordinate)
        if text:
            _text(cell, text)
            cell.alignment = Alignment(horizontal="left" if k == 0 else "right", vertical="bottom",
                                       shrink_to_fit=True)
        else:
            cell.alignment = Alignment(horizontal="center", vertical="bottom")
        cell.font = _font(11)
        if span > 1:
            ws.merge_cells(start_row=SIGNATURE_ROW, start_column=col, end_row=SIGNATURE_ROW,
                           end_column=col + span - 1)
        col += span
    ws.row_dimensions[SIGNATURE_ROW].height = 40  # room for a handwritten signature and the stamp
    return coords[3], coords[5]


def _signature_spans(widths: list[float], needed: list[float]) -> list[int]:
    """Split the columns into six consecutive groups: labels wide enough for their text,
    inputs of at least 12 units, then as much room as possible for the signature."""
    n = len(widths)
    minimum = [max(needed[0], 1), 18, needed[2], 12, needed[4], 14]
    best: tuple[float, list[int]] | None = None
    for cuts in combinations(range(1, n), 5):
        bounds = (0, *cuts, n)
        spans = [bounds[k + 1] - bounds[k] for k in range(6)]
        got = [sum(widths[bounds[k]:bounds[k + 1]]) for k in range(6)]
        shortfall = sum(max(0.0, m - g) for m, g in zip(minimum, got))
        # Prefer: no shortfall; a wide signature space; labels not much wider than their text.
        waste = sum(g - m for k, (m, g) in enumerate(zip(minimum, got)) if k in (0, 2, 4) and g > m)
        cost = shortfall * 100 - got[1] * 2 - got[3] - got[5] + waste
        if best is None or cost < best[0]:
            best = (cost, spans)
    assert best is not None, "a form needs at least six columns"
    return best[1]
