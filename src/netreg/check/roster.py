"""A student roster (.xlsx or .csv with 姓名 and 手机号 columns): the phones that no official
account may be bound to."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import NetregError

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
            name_col = next((ci for ci, c in enumerate(cells) if "姓名" in c or c in ("学生", "名字")), None)
            phone_col = next((ci for ci, c in enumerate(cells) if any(k in c for k in ("手机", "电话", "联系方式"))), None)
            if name_col is None or phone_col is None:
                name_col = phone_col = None
            continue
        if phone_col < len(row):
            parsed = parse_phone(row[phone_col], config.default_area_code)
            if parsed.ok and parsed.value:
                for p in str(parsed.value).split("/"):
                    roster[p] = cells[name_col] if name_col < len(cells) else ""
    if name_col is None:
        first = next((" | ".join(c for c in map(clean_text, r) if c) for r in rows if any(map(clean_text, r))), "")
        raise RosterError(f"学生花名册 {path.name} 中找不到“姓名”列和“手机号”列（第一行是：{first[:80] or '空'}）。"
                          "请确认表头含“姓名”和“手机号”（或“电话”“联系方式”）")
    return roster


class RosterError(NetregError):
    """The roster names no name or phone column: checking without it would pass in silence."""
