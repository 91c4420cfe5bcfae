"""Text as people type it: cleaned of invisible characters and runs of spaces; fillers
(无, /, —, 暂无) told apart from values; ids compared by a normalised key. Used by every
stage (scan, check, excel), so it imports nothing of netreg."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time

# Cc and Cf characters (zero-width spaces, BOM, bidi marks, soft hyphen) that WPS and
# copy-paste from web pages leave behind; \t and \n are kept here and handled below.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace but newline, incl. U+3000 and NBSP


def clean_text(raw: object) -> str:
    """The value as text, without invisible characters, blank lines or runs of spaces."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float):
        if math.isfinite(raw) and raw.is_integer():
            raw = int(raw)  # calamine gives 13812345678.0 for a phone typed as a number
        else:
            return format(raw, ".15g")  # Excel's own precision: 2.3, not 2.2999999999999998
    if isinstance(raw, int):
        try:
            return str(raw)
        except ValueError:  # over Python's int-to-str digit limit; no spreadsheet has these
            return "#NUM!"
    if isinstance(raw, datetime):
        day = f"{raw.year:04d}-{raw.month:02d}-{raw.day:02d}"
        return day if raw.time() == time() else f"{day} {raw.hour:02d}:{raw.minute:02d}"
    if isinstance(raw, date):
        return raw.isoformat()
    text = str(raw)
    # The common case, ~10x faster than the regexes: isprintable() is False for every
    # invisible (Cc/Cf) character, tab, newline, NBSP and U+3000, so only runs of ASCII
    # spaces remain to check.
    if text.isprintable() and "  " not in text:
        return text.strip()
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def is_blank(raw: object) -> bool:
    return clean_text(raw) == ""


_PLACEHOLDERS = frozenset("无 暂无 没有 空 / \\ — —— - -- 无。 暂无。 n/a na none null nil".split())
_FILLER_MAX = 2 * max(map(len, _PLACEHOLDERS))
# A line typed through an empty cell: a run of dashes, slashes, underscores or dots (after NFKC).
_RULE_CHARS = "-—–―─━_/\\.·=~～－／＿．＝"
_RULE = re.compile("[" + re.escape(_RULE_CHARS) + r"\s]{2,}")


def is_placeholder(raw: object) -> bool:
    """Blank, or a filler such as 无, /, —, 暂无 meaning "nothing here" (but not 〃 = ditto)."""
    text = clean_text(raw)
    # NFKC and casefold never shorten a text into a filler (they expand, or compose accented
    # letters no filler holds): text much longer than the longest filler is none (margin 2x).
    if len(text) > _FILLER_MAX:
        return not text[0].isalnum() and _RULE.fullmatch(_key(text)) is not None
    key = _key(text)
    return not key or key in _PLACEHOLDERS or _RULE.fullmatch(key) is not None


def _key(raw: object) -> str:
    return unicodedata.normalize("NFKC", clean_text(raw)).strip().casefold()


def nfkc_key(raw: object) -> str:
    """Comparable form of an id (账号ID, 群名称): NFKC, no whitespace at all, casefolded."""
    key = _key(raw)
    for _ in range(3):  # casefold and space removal can un-normalise (A + ´): settle it
        key, before = unicodedata.normalize("NFKC", "".join(key.split())), key
        if key == before:
            break
    return key


def clean_cell(raw: object) -> str:
    """``clean_text(raw)``, answered at once for None and for printable text without runs of
    spaces (most cells; ``tests/test_fast_paths.py`` checks they agree)."""
    cls = raw.__class__
    if cls is str:
        return raw.strip() if raw.isprintable() and "  " not in raw else clean_text(raw)
    if raw is None:
        return ""
    if cls is float and raw.is_integer():  # 13812345678.0, 2300.0 (never inf or nan)
        return str(int(raw))
    if cls is int and -10**18 < raw < 10**18:  # far below the int-to-str digit limit
        return str(raw)
    return clean_text(raw)
