"""Pre-filled workbooks (``netreg template --prefill``): each unit's blank workbook with its rows
from last year's summary (or any input the pipeline reads), so that the unit only updates.

The workbook is the blank template (``build_workbook``: same layout, validation, metadata)
with the rows written into its data area: text stays text (phones, IDs with leading zeros),
dates are dates, counts numbers, yes/no 是/否. Written unchanged and read back, it gives the
same normalised values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl.styles import Alignment
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from ..errors import NetregError
from ..model.forms import FORMS_BY_ID, Form, Kind
from ..util.atomic import atomic_path
from ..util.oserror import os_reason
from . import cells
from . import template as blank
from .template import (
    HEADER_ROW,
    INSTRUCTIONS_SHEET,
    Written,
    _blank_rows,
    _font,
    build_workbook,
)
from .validation import _number_format

if TYPE_CHECKING:
    import openpyxl

    from ..config import Campaign
    from ..model.report import Report

Rows = dict[int, list[dict[str, object]]]  # form id -> the rows' values by column key

NOTICE = ("特别提示：本工作簿各表已预填本单位上一年度登记备案的内容，请逐行核对并更新（人员、电话、"
          "粉丝数、更新日期等）；已停用、注销或不再使用的网站、账号和群组，请整行删除。")
YES, NO = "是", "否"


def prefill_rows(report: Report) -> dict[str, Rows]:
    """Each unit's rows, per form, in the order read; rows without a unit are left out."""
    rows: dict[str, Rows] = {}
    for rec in report.records:
        if rec.unit:
            rows.setdefault(rec.unit, {}).setdefault(rec.form.id, []).append(dict(rec.values))
    return rows


def prefill_of(report, path: Path) -> dict[str, Rows]:
    """The rows by unit of ``report``, the run over ``path`` (``app.check.read_prefill``); NetregError
    when it cannot be read or holds no rows."""
    if not any(f.ok for f in report.files):
        why = next((i.message for i in report.issues if i.code == "file-unreadable"), "")
        why = re.split("。|，请", why.removeprefix("无法读取此文件："))[0]  # the problem, not the advice to a unit
        raise NetregError(f"无法读取汇总表 {path}" + (f"：{why}。" if why else "。"))
    rows = prefill_rows(report)
    if not rows:
        raise NetregError(f"汇总表 {path} 中没有找到任何单位的登记数据，请检查是否选错了文件")
    return rows


# --------------------------------------------------------------------------- one workbook

def fill_workbook(wb: openpyxl.Workbook, config: Campaign, rows: Rows) -> None:
    """Write ``rows`` into the blank template ``wb`` (built by ``build_workbook`` with
    ``config``); a form with more rows than the blank ones gets more bordered, checked rows."""
    for form_id, form_rows in rows.items():
        if form_rows:
            _fill_sheet(wb[FORMS_BY_ID[form_id].sheet], FORMS_BY_ID[form_id], config, form_rows)
    if any(rows.values()):
        _add_notice(wb[INSTRUCTIONS_SHEET])


def build_prefilled(config: Campaign, unit: str, rows: Rows, filler: tuple[str, str] | None = None) -> openpyxl.Workbook:
    wb = build_workbook(config, unit)
    fill_workbook(wb, config, rows)
    if filler and all(filler):
        for form_id, form_rows in rows.items():
            if form_rows:
                _fill_filler(wb[FORMS_BY_ID[form_id].sheet], FORMS_BY_ID[form_id], filler)
    return wb


def _fill_filler(ws: Worksheet, form: Form, filler: tuple[str, str]) -> None:
    """The unit table's 联系人 and 电话 as 填表人 and its phone (the unit corrects them if someone
    else fills in this year): last year's summary does not say who filled in."""
    for label, value in zip((blank.FILLER_LABEL, form.phone_label + "："), filler):
        for row in ws.iter_rows(min_row=1, max_row=6):
            cell = next((c for c in row if isinstance(c.value, str) and c.value.strip() == label), None)
            if cell is not None:
                end = max([rng.max_col for rng in ws.merged_cells.ranges if cell.coordinate in rng] or [cell.column])
                cells.write_text(ws.cell(cell.row, end + 1), value)
                break


def _fill_sheet(ws: Worksheet, form: Form, config: Campaign, rows: list[dict[str, object]]) -> None:
    first = HEADER_ROW + form.header_rows
    if len(rows) > config.blank_rows:
        _grow(ws, form, config, first, len(rows))
    for n, values in enumerate(rows):
        for i, col in enumerate(form.columns, start=1):
            cell = ws.cell(first + n, i)
            if col.kind is Kind.SEQ:
                cell.value = n + 1
            else:
                _put(cell, col.kind, values.get(col.key))
    cells.fit_row_heights(ws, first)


def _put(cell, kind: Kind, value: object) -> None:
    """One value as the template expects it: a real date, a number for a count, else text."""
    if value is None or value == "":
        return
    if isinstance(value, bool):
        cells.write_text(cell, YES if value else NO)
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, int | float) and kind is Kind.COUNT:
        cell.value = value
    elif isinstance(value, float) and value.is_integer():  # a phone typed as a number: 13812345678.0
        cells.write_text(cell, str(int(value)))
    else:
        cells.write_text(cell, str(value))


def _grow(ws: Worksheet, form: Form, config: Campaign, first: int, count: int) -> None:
    """Make room for ``count`` rows: the footnote moves below them, every row is bordered and
    numbered like a blank one, and the checks and number formats reach the last row."""
    note_row = first + config.blank_rows
    for rng in [r for r in ws.merged_cells.ranges if r.min_row == note_row]:
        ws.unmerge_cells(rng.coord)
    if form.footnote:
        ws.cell(note_row, 1).value = None
        ws.cell(note_row, 1).alignment = Alignment()
        ws.row_dimensions[note_row].height = None
    _blank_rows(ws, form, first, count)
    last = first + count - 1
    checked_to = first + config.validation_rows - 1
    if last <= checked_to:
        return
    for dv in ws.data_validations.dataValidation:
        ranges = [CellRange(min_col=r.min_col, min_row=r.min_row, max_col=r.max_col, max_row=last)
                  if r.min_row == first and r.max_row == checked_to else r for r in dv.sqref.ranges]
        dv.sqref = MultiCellRange(ranges)
    for i, col in enumerate(form.columns, start=1):
        fmt = _number_format(col)
        if fmt:
            for row in range(checked_to + 1, last + 1):
                ws.cell(row, i).number_format = fmt


def _add_notice(ws: Worksheet) -> None:
    """The line telling the unit what pre-filled means, right under 填报单位 (row 2)."""
    at = 3
    heights = {r: ws.row_dimensions[r].height for r in range(at, ws.max_row + 1)}
    ws.insert_rows(at)  # moves the cells, not the row heights
    for r, h in heights.items():
        ws.row_dimensions[r + 1].height = h
    cell = ws.cell(at, 1)
    cells.write_text(cell, NOTICE)
    cell.font = _font(11, bold=True)
    cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    width = ws.column_dimensions["A"].width
    ws.row_dimensions[at].height = 17 * cells.wrapped_lines(NOTICE, width) + 4


# --------------------------------------------------------------------------- files

def write_prefilled(config: Campaign, units: list[str], rows: dict[str, Rows], out_dir: Path, *,
                    force: bool = False, on_progress: Callable[[Written], None] | None = None,
                    fillers: dict[str, tuple[str, str]] | None = None) -> list[Written]:
    """``write_templates`` with each unit's ``rows`` written in (a unit without rows gets the
    blank workbook, written as ``write_templates`` does); existing files are kept unless ``force``."""
    from .blankbook import BlankBooks

    books = BlankBooks(config, build_workbook)
    return blank.write_each(units, out_dir, partial(_write_one, config=config, books=books), force=force,
                            on_progress=on_progress,
                            extra=lambda unit: (rows.get(unit, {}), (fillers or {}).get(unit)),
                            before=lambda folder, todo: books.prepare(
                                folder, [u for u in todo if not any(rows.get(u, {}).values())]))


def _write_one(item: tuple[str, Path, Rows, tuple[str, str] | None], config: Campaign, books=None) -> str:
    """Write one unit's pre-filled workbook: "" when written, else why not (in Chinese). A unit
    without rows gets the blank workbook, from ``books`` when it can write it."""
    unit, path, rows, filler = item
    try:
        with atomic_path(path) as tmp:
            if books is not None and not any(rows.values()) and books.fits(unit):
                books.write(unit, tmp)  # what build_prefilled makes without rows: the blank workbook
            else:
                build_prefilled(config, unit, rows, filler).save(tmp)
    except OSError as exc:
        return os_reason(exc)
    return ""


def row_count(rows: Rows) -> int:
    return sum(len(r) for r in rows.values())

