"""The unit list as a table: 单位, 别名, 联系人, 电话, 邮箱 (.xlsx, .xls, .et, .ods or .csv), the
contacts that intake (a sender's address → its unit) and remind use. A plain list, one name a
line, is a table with only 单位."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..util.oserror import os_reason


class UnitListError(ConfigError):
    """The unit list file cannot be read (one Chinese line)."""

HEADERS = {"unit": ("单位", "单位名称", "单位全称", "部门"), "aliases": ("别名", "简称", "其他名称"),
           "contact": ("联系人", "负责人", "联络人"), "phone": ("电话", "联系电话", "手机", "手机号"),
           "email": ("邮箱", "电子邮箱", "邮件", "email", "e-mail", "邮箱地址")}


# An address as units' mail systems give them: a local part that begins with a letter or digit
# (a formula begins with = + - or @, never does), a domain of letters, digits and hyphens.
_EMAIL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._%+-]*[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
                    r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Contact:
    unit: str
    aliases: tuple[str, ...] = ()
    contact: str = ""
    phone: str = ""
    emails: tuple[str, ...] = ()


def read_contacts(path: Path) -> list[Contact]:
    """The units of a list file, with whatever contact columns it has."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls", ".et", ".ods"):
            from python_calamine import CalamineWorkbook

            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
            rows = [[_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
        else:
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030", "replace")
            if suffix == ".csv":
                import csv

                rows = [[c.strip() for c in row] for row in csv.reader(text.splitlines())]
            else:
                rows = [[line.split("#", 1)[0].strip()] for line in text.splitlines()]
    except OSError as exc:
        raise UnitListError(f"无法读取单位名单 {path}：{os_reason(exc)}") from None
    except Exception:  # a damaged workbook: say so, in Chinese
        raise UnitListError(f"单位名单 {path} 无法读取（文件已损坏或不是表格）") from None
    numbered = [(n, r) for n, r in enumerate(rows, 1) if any(r)]  # the row numbers the table shows
    columns = {"unit": 0}
    if numbered:
        found = {key: n for n, cell in enumerate(numbered[0][1]) for key, names in HEADERS.items()
                 if cell.replace(" ", "").lower() in names}
        if "unit" in found:
            columns, numbered = found, numbered[1:]
    out: dict[str, Contact] = {}
    for number, row in numbered:
        def get(key: str) -> str:
            n = columns.get(key)
            return " ".join(row[n].split()) if n is not None and n < len(row) else ""

        unit = get("unit")
        if not unit or unit in out:
            continue
        split = lambda text: tuple(p.strip() for p in text.replace("，", ",").replace("；", ",").replace(";", ",")  # noqa: E731
                                   .replace("、", ",").replace(" ", ",").split(",") if p.strip())
        out[unit] = Contact(unit, split(get("aliases")), get("contact"), get("phone"),
                            _emails(split(get("email")), get("email"), path, number))
    if not out:
        raise UnitListError(f"单位名单 {path} 是空的：请每行写一个单位名称，或在表格第一行写“单位”“联系人”“电话”“邮箱”")
    return list(out.values())


def _emails(parts: tuple[str, ...], cell: str, path: Path, number: int) -> tuple[str, ...]:
    """The addresses of one 邮箱 cell, lower-cased; anything that is not one (a formula, a name,
    a phone number) refuses the table with one line naming the row: it never becomes a To:."""
    out = []
    for part in parts:
        address = unicodedata.normalize("NFKC", part).strip("<>")
        address = address[7:] if address.lower().startswith("mailto:") else address
        if not _EMAIL.fullmatch(address) or ".." in address:
            shown = re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group(0)):02x}", cell)
            shown = shown if len(shown) <= 80 else shown[:79] + "…"
            raise UnitListError(f"单位名单 {path} 第 {number} 行的邮箱“{shown}”不是有效的邮箱地址：请改正或删去"
                                "（一个单位有几个邮箱时用顿号或逗号分开）")
        out.append(address.lower())
    return tuple(out)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def unit_of_sender(address: str | None, contacts: list[Contact]) -> str | None:
    """The unit whose 邮箱 is ``address`` (one unit only: an address two units share says nothing)."""
    if not address:
        return None
    units = {c.unit for c in contacts if address.lower() in c.emails}
    return units.pop() if len(units) == 1 else None


def unit_named(text: str, units: list[str], contacts) -> str | None:
    """The listed unit ``text`` names: its own name (as the unit list matches names), or one
    of its 别名 in the unit table."""
    from ..check.units import alias_unit, exact_unit, match_unit

    return exact_unit(text, units) or match_unit(text, units) or alias_unit(text, aliases_of(contacts))


def aliases_of(contacts) -> dict[str, str]:
    """别名 -> 单位 of a unit table (an alias two units share names neither)."""
    out: dict[str, str] = {}
    shared: set[str] = set()
    for c in contacts:
        for alias in c.aliases:
            if out.get(alias, c.unit) != c.unit:
                shared.add(alias)
            out[alias] = c.unit
    return {a: u for a, u in out.items() if a not in shared}
