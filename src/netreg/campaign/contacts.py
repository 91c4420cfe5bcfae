"""The unit list as a table: 单位, 别名, 联系人, 电话, 邮箱 (.xlsx, .xls, .et, .ods or .csv), the
contacts that intake (a sender's address → its unit) and remind use. A plain list, one name a
line, is a table with only 单位."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..util.oserror import os_reason


class UnitListError(ConfigError):
    """The unit list file cannot be read (one Chinese line)."""

HEADERS = {"unit": ("单位", "单位名称", "单位全称", "部门"), "aliases": ("别名", "简称", "其他名称"),
           "contact": ("联系人", "负责人", "联络人"), "phone": ("电话", "联系电话", "手机", "手机号"),
           "email": ("邮箱", "电子邮箱", "邮件", "email", "e-mail", "邮箱地址")}


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
    rows = [r for r in rows if any(r)]
    columns = {"unit": 0}
    if rows:
        found = {key: n for n, cell in enumerate(rows[0]) for key, names in HEADERS.items()
                 if cell.replace(" ", "").lower() in names}
        if "unit" in found:
            columns, rows = found, rows[1:]
    out: dict[str, Contact] = {}
    for row in rows:
        def get(key: str) -> str:
            n = columns.get(key)
            return " ".join(row[n].split()) if n is not None and n < len(row) else ""

        unit = get("unit")
        if not unit or unit in out:
            continue
        split = lambda text: tuple(p.strip() for p in text.replace("，", ",").replace("；", ",").replace(";", ",")  # noqa: E731
                                   .replace("、", ",").replace(" ", ",").split(",") if p.strip())
        out[unit] = Contact(unit, split(get("aliases")), get("contact"), get("phone"),
                            tuple(e.lower() for e in split(get("email"))))
    if not out:
        raise UnitListError(f"单位名单 {path} 是空的：请每行写一个单位名称，或在表格第一行写“单位”“联系人”“电话”“邮箱”")
    return list(out.values())


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
    from ..check.units import exact_unit, match_unit, unit_key

    found = exact_unit(text, units) or match_unit(text, units)
    if found:
        return found
    key = unit_key(text)
    named = {c.unit for c in contacts for alias in c.aliases if unit_key(alias) == key}
    return named.pop() if len(named) == 1 else None
