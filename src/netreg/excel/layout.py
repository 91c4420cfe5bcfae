"""Where a blank workbook's unit-dependent text goes, and how it looks: shared by the workbook
built with openpyxl (``template``) and the one written from its parts (``blankbook``)."""

from __future__ import annotations

import re
from datetime import datetime

from ..model.forms import Form
from . import cells

INSTRUCTIONS_SHEET = "填表说明"
INSTRUCTIONS_WIDTH = 105  # LibreOffice never shrinks a single column to the page width: within A4 landscape
UNIT_LABEL = "填报单位："


def now_text() -> str:
    """The metadata's ``generated``: now, local time with its offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def instruction_look(row: int, line: str) -> tuple[int, bool, str]:
    """Font size, bold, horizontal alignment of a non-empty line of 填表说明."""
    heading = row == 1 or bool(re.match(r"^[一二三四五六七八九十]+、", line))
    return (16 if row == 1 else 11), heading, ("center" if row == 1 else "left")


def instruction_height(row: int, line: str) -> int:
    """The row height of a non-empty line of 填表说明: room for it wrapped."""
    return 30 if row == 1 else 17 * cells.wrapped_lines(line, INSTRUCTIONS_WIDTH) + 4


def form_widths(form: Form) -> list[float]:
    """The form's column widths, widened where a header line would otherwise break mid-phrase."""
    return [max(c.width, max(cells.text_width(line) for line in c.header.split("\n")) + cells.CELL_PADDING)
            for c in form.columns]


def unit_column(widths: list[float], unit_text: str) -> int:
    """Row 1's 填报单位 cell: the column where it starts, merged from there to the last one
    (it reaches left until the columns are wide enough for the text)."""
    start = len(widths)
    while start > 2 and sum(widths[start - 1:]) < cells.text_width(unit_text) + 2:
        start -= 1
    return start
