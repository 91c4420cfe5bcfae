"""Days and times the user types on the command line (--as-of, --by, --received): as a date
(2025-11-25, 2025/11/25, 2025年11月25日) or as the notice writes it, 11月25日 (this year).
One that names no day, or a day that does not exist (11月31日), is a ``NetregError``: its
Chinese line ends the command with exit 2 at the CLI's boundary."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from ..errors import NetregError

_MONTH_DAY = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_CLOCK = re.compile(r"(.+?)\s+(\d{1,2}:\d{2}(?::\d{2})?)")
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y/%m/%d")


def typed_day(text: str, what: str = "--as-of") -> date:
    """The day ``text`` names."""
    from ..check.normalize import parse_date

    day = parsed = None
    try:
        day = _month_day(text)
        parsed = parse_date(text) if day is None else None
    except ValueError:  # 11月31日
        pass
    if day is None and (parsed is None or not parsed.ok or parsed.code):
        raise NetregError(f"{what} 的日期“{text}”无法识别或不存在，请写成 2025-11-25 或 11月25日 这样的格式")
    return day or parsed.value


def typed_time(text: str, what: str) -> datetime:
    """A day and perhaps a time: 2025-11-20 14:30, 11月20日 14:30, 11月20日."""
    text = text.strip()
    m = _CLOCK.fullmatch(text)
    try:
        day = _month_day(m[1] if m else text)
        if day is not None:
            clock = m[2] if m else "0:00"
            return datetime.combine(day, datetime.strptime(clock, "%H:%M:%S" if clock.count(":") == 2 else "%H:%M").time())
    except ValueError:
        pass
    else:
        for fmt in _FORMATS:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
    raise NetregError(f"{what}“{text}”无法识别，请写成 2025-11-20 或 2025-11-20 14:30")


def _month_day(text: str) -> date | None:
    """11月25日 as a day of this year; None when not written so; ValueError for 11月31日."""
    m = _MONTH_DAY.fullmatch(unicodedata.normalize("NFKC", text).strip())
    return date(date.today().year, int(m[1]), int(m[2])) if m else None
