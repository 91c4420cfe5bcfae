"""Which unit a file belongs to: netreg's metadata, else the 填报单位 typed in it, else the
file name, else the folder name, matched against the unit list."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
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


def exact_unit(text: str | None, units: list[str], school: str = "") -> str | None:
    """The unit ``text`` names exactly (after NFKC, case and spacing), or by a declared alias:
    a part of a joint office (党委办公室/校长办公室, also written 党委办公室、校长办公室). A leading
    school name (漯河职业技术学院医学院) is not part of the unit's name."""
    if not text:
        return None
    key = unit_key(text)
    school_key = unit_key(school) if school else ""
    if school_key and key.startswith(school_key) and len(key) > len(school_key):
        key = key[len(school_key):]
    if not key:
        return None
    for unit in units:
        uk = unit_key(unit)
        if key in (uk, uk.replace("/", "")) or key in uk.split("/"):
            return unit
    return None


@dataclass(frozen=True)
class Attribution:
    """Which unit a file belongs to and how sure that is."""

    unit: str
    doubt: str | None = None  # None (certain) | "not-listed" | "unknown"
    typed: str | None = None  # the 填报单位 text the doubt is about
    longer_of: str | None = None  # not-listed: the listed unit the typed name merely starts with


def alias_unit(text: str | None, aliases: dict[str, str], school: str = "", *, contained: bool = False) -> str | None:
    """The unit ``text`` names by one of its 别名 (the unit table's): exactly (after NFKC, case,
    spacing and a leading school name), or, for file and folder names, the longest alias
    contained in it (学工处-登记表)."""
    if not text or not aliases:
        return None
    keys = {unit_key(a): u for a, u in aliases.items() if unit_key(a)}
    key = unit_key(text)
    school_key = unit_key(school) if school else ""
    if school_key and key.startswith(school_key) and len(key) > len(school_key):
        key = key[len(school_key):]
    if key in keys:
        return keys[key]
    if contained:
        found = [(len(k), u) for k, u in keys.items() if len(k) >= 2 and k in key]
        if found:
            return max(found)[1]
    return None


def unit_of(path: Path, scan: BookScan | None, units: list[str], school: str = "",
            aliases: dict[str, str] | None = None) -> Attribution:
    """Our metadata's unit (always known), else the 填报单位 typed in the file (exactly a listed
    unit or an alias of one, else it is not listed), else the file name, else the folder name.
    ``aliases``: the unit table's 别名 -> 单位."""
    aliases = aliases or {}
    meta = scan.meta.get("unit") if scan is not None else None
    if meta:
        return Attribution(exact_unit(meta, units, school) or alias_unit(meta, aliases, school) or meta)
    typed = scan.unit_text.text if scan is not None and scan.unit_text else None
    if typed:
        unit = exact_unit(typed, units, school) or alias_unit(typed, aliases, school)
        if unit:
            return Attribution(unit)
        longer = match_unit(typed, units)
        named = (exact_unit(path.stem, units, school) or match_unit(path.stem, units)
                 or alias_unit(path.stem, aliases, school, contained=True))
        if longer is None and named is not None:
            return Attribution(named)  # 填报单位 says something else entirely (a person, 盖章): the file name decides
        return Attribution(typed, "not-listed", typed, longer)
    for text in (path.stem, path.parent.name):
        unit = match_unit(text, units) or alias_unit(text, aliases, school, contained=True)
        if unit:
            return Attribution(unit)
    return Attribution(path.stem, "unknown")
