"""Which unit a file belongs to: netreg's metadata, else the 填报单位 typed in it, else the
file name, else the folder name, matched against the unit list."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..scan.tables import BookScan


def unit_key(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in s if ch.isalnum() or ch == "/")


def match_unit(text: str | None, units: list[str]) -> str | None:
    """Exact match first, then any part of a joint office (党委办公室/校长办公室),
    then the longest unit name contained in the text (file names like 医学院-登记表)."""
    if not text:
        return None
    key = unit_key(text)
    if not key:
        return None
    parts: list[tuple[str, str]] = []
    for unit in units:
        uk = unit_key(unit)
        if uk == key:
            return unit
        for part in uk.split("/"):
            if part:
                parts.append((part, unit))
    for part, unit in parts:
        if part == key:
            return unit
    contained = [(len(p), u) for p, u in parts if len(p) >= 2 and p in key]
    if contained:
        return max(contained)[1]
    return None


def unit_of(path: Path, scan: BookScan | None, units: list[str]) -> tuple[str, str | None]:
    """(unit, None) when the unit is certain; else (best guess, what the file typed as its
    unit, '' when nothing). Metadata, then 填报单位 text, then file/folder name."""
    candidates = []
    if scan is not None:
        if scan.meta.get("unit"):
            candidates.append(scan.meta["unit"])
        if scan.unit_text:
            candidates.append(scan.unit_text.text)
    candidates += [path.stem, path.parent.name]
    for text in candidates:
        unit = match_unit(text, units)
        if unit:
            return unit, None
    if scan is not None and (scan.meta.get("unit") or scan.unit_text):
        typed = scan.meta.get("unit") or scan.unit_text.text
        return typed, typed
    return path.stem, ""
