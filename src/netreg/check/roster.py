"""A student roster (.xlsx or .csv with 姓名 and 手机号 columns): the phones that no official
account may be bound to."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Campaign


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
