"""催报名单.xlsx: one row per unit to chase (单位, 联系人, 电话, 邮箱, 状态, 逾期, 纸质版,
需要做什么), for the coordinator who phones round; printed A4 landscape, one page wide."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ..util.atomic import atomic_path

if TYPE_CHECKING:
    from .plan import Letter

NAME = "催报名单.xlsx"
COLUMNS = (("单位", 22), ("联系人", 10), ("电话", 15), ("邮箱", 26), ("状态", 10), ("逾期", 7),
           ("纸质版", 12), ("需要做什么", 48))


def rows_of(letters: list[Letter]) -> list[tuple[str, ...]]:
    out = []
    for letter in letters:
        c = letter.contact
        out.append((letter.unit, c.contact if c else "", c.phone if c else "",
                    "、".join(letter.recipients) or "（无）", letter.state.label, "逾期" if letter.late else "",
                    letter.paper.isoformat() if letter.paper else "未交", "；".join(letter.needs)))
    return out


ROW_PT = 15.0  # one line of 宋体 11 pt


def write_roster(letters: list[Letter], target: Path, *, as_of: date, deadline: date | None) -> Path:
    import openpyxl
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    from ..excel import cells

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "催报名单"
    last = get_column_letter(len(COLUMNS))
    title = f"催报名单（统计日期 {as_of.isoformat()}，截止日期 {deadline.isoformat() if deadline else '未设置'}，" \
            f"共 {len(letters)} 个单位）"
    ws.merge_cells(f"A1:{last}1")
    cells.write_text(ws["A1"], title)
    ws["A1"].font = Font(name="黑体", size=14, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28
    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for c, (name, width) in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(c)].width = width
        cell = ws.cell(2, c)
        cells.write_text(cell, name)
        cell.font = Font(name="宋体", size=11, bold=True)
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = box
    for r, values in enumerate(rows_of(letters), 3):
        for c, value in enumerate(values, 1):
            cell = ws.cell(r, c)
            cells.write_text(cell, value)
            cell.font = Font(name="宋体", size=11, color="C00000" if value in ("逾期", "未交") else None)
            cell.alignment = Alignment(vertical="center", wrap_text=True)
            cell.border = box
    cells.fit_row_heights(ws, first_row=3, line_pt=ROW_PT)
    for r in range(3, len(letters) + 3):  # every row its own height, never left to the program that opens it
        if not ws.row_dimensions[r].height:
            ws.row_dimensions[r].height = ROW_PT + 3
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{last}{max(2, len(letters) + 2)}"
    cells.page_setup(ws, title_rows="2:2")
    cells.mark_output(wb, "remind")
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return target
