"""The workbook of ``netreg diff -o``: 总览 (per unit and form: added, removed, changed; the
named facts), then 新增, 删除, 变化 (one row per changed field) and 仍未更新. Printed like the
summary (A4 landscape, one page wide, repeated header rows); every text through the safe
cell writer, so a group named =HYPERLINK(…) stays text. Phones are kept whole, as in the summary."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..compare import ADDED, CHANGED, REMOVED, Diff, Entry
from ..model import forms as F
from ..render.diff import content, fact_counts
from .cells import fit_row_heights, mark_output, page_setup, write_text
from .cells import styles as _styles

def _put(ws, row: int, col: int, value: object, style: str | None = None):
    """One value: text stays text (never a formula), dates get a date format, booleans 是/否."""
    c = ws.cell(row, col)
    if isinstance(value, bool):
        write_text(c, "是" if value else "否")
    elif isinstance(value, str):
        write_text(c, value)
    elif isinstance(value, date):
        c.value = value
        c.number_format = "yyyy-mm-dd"
    elif value is not None:
        c.value = value
    for key, v in (_styles()[style] if style else {}).items():
        setattr(c, key, v)
    return c


def _table(ws, headers: list[str], widths: list[float], rows: list[list], wrap: tuple[int, ...] = ()) -> None:
    """A header row in row 1 and ``rows`` below it: widths, frozen header, filter, print setup."""
    from openpyxl.utils import get_column_letter

    for i, (name, w) in enumerate(zip(headers, widths), start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
        _put(ws, 1, i, name, "header")
    for r, values in enumerate(rows, start=2):
        for i, v in enumerate(values, start=1):
            _put(ws, r, i, v, "wrap" if i in wrap else "top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(len(rows), 1) + 1}"
    page_setup(ws, title_rows="1:1")
    fit_row_heights(ws, 2)


def _overview(ws, diff: Diff) -> None:
    from openpyxl.utils import get_column_letter

    _put(ws, 1, 1, "网站、新媒体平台、工作群组及“网络大V”登记备案对比", "title")
    _put(ws, 2, 1, f"上次：{diff.old_label}　本次：{diff.new_label}")
    groups = [(f.sheet, f) for f in F.FORMS] + [("合计", None)]
    _put(ws, 3, 1, "单位", "header")
    _put(ws, 4, 1, None, "header")
    ws.merge_cells("A3:A4")
    ws.column_dimensions["A"].width = 20
    for n, (name, _form) in enumerate(groups):
        first = 2 + 3 * n
        _put(ws, 3, first, name, "header")
        for k, what in enumerate(("新增", "删除", "变化")):
            _put(ws, 4, first + k, what, "header")
            if k:
                _put(ws, 3, first + k, None, "header")
            ws.column_dimensions[get_column_letter(first + k)].width = 6
        ws.merge_cells(start_row=3, start_column=first, end_row=3, end_column=first + 2)
    r = 5
    for unit in (*diff.units, None):
        _put(ws, r, 1, unit or "合计", None if unit else "bold")
        for n, (_name, form) in enumerate(groups):
            t = diff.tally(unit, form)
            for k, count in enumerate((t.added, t.removed, t.changed)):
                _put(ws, r, 2 + 3 * n + k, count, None if unit else "bold")
        r += 1
    facts = fact_counts(diff)
    if facts:
        _put(ws, r + 1, 1, "要点", "bold")
        for n, (label, count) in enumerate(facts, start=r + 2):
            _put(ws, n, 1, label)
            _put(ws, n, 2, count)
    ws.freeze_panes = "B5"
    page_setup(ws, title_rows="3:4")


def _facts_for(entry: Entry, key: str | None) -> str:
    return "；".join(f.text for f in entry.facts if f.key == key)


def build_diff_book(diff: Diff):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "总览"
    mark_output(wb, "diff")
    _overview(ws, diff)
    for change, sheet in ((ADDED, "新增"), (REMOVED, "删除")):
        rows = [[n, e.unit, e.form.sheet, e.label, content(e, mask=False), "；".join(f.text for f in e.facts) or None]
                for n, e in enumerate(diff.of(change), start=1)]
        _table(wb.create_sheet(sheet), ["序号", "单位", "登记表", "账号、群组或网站", "内容", "要点"],
               [6, 18, 8, 26, 60, 20], rows, wrap=(4, 5, 6))
    rows = []
    for e in diff.of(CHANGED):
        for k, ch in enumerate(e.fields):
            note = "；".join(x for x in (_facts_for(e, ch.key), _facts_for(e, None) if k == 0 else "") if x)
            rows.append([len(rows) + 1, e.unit, e.form.sheet, e.label, ch.field, ch.old, ch.new, note or None])
    _table(wb.create_sheet("变化"), ["序号", "单位", "登记表", "账号、群组或网站", "栏目", "原值", "新值", "要点"],
           [6, 18, 8, 26, 12, 22, 22, 24], rows, wrap=(4, 6, 7, 8))
    rows = [[n, e.unit, e.form.sheet, e.label, "；".join(f.text for f in e.facts if f.kind == "still-stale")]
            for n, e in enumerate(diff.still_stale, start=1)]
    _table(wb.create_sheet("仍未更新"), ["序号", "单位", "登记表", "网站", "说明"], [6, 18, 8, 30, 40], rows,
           wrap=(4, 5))
    return wb


def write_diff_book(diff: Diff, target: Path) -> None:
    """Write the workbook atomically (an OSError, e.g. the file open in Excel, goes to the caller)."""
    from ..util.atomic import atomic_path

    wb = build_diff_book(diff)
    with atomic_path(Path(target)) as tmp:
        wb.save(tmp)
