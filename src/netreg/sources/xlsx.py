"""Excel workbooks (.xlsx, .xlsm and their templates) → Book.

Values are read with python-calamine (fast); formulas, netreg's metadata and the sheet parts
are read from the zip with ``defusedxml``, so no formula is ever evaluated and no input is
ever written. ``guard.check_zip`` has streamed every part before any parser sees it.
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path, PurePosixPath

from ..model import forms as F
from ..util.text import clean_text
from . import guard
from .base import ZIP_MAGIC, Book, Grid, Reason, Unreadable


class XlsxSource:
    format = "xlsx"

    def accepts(self, head: bytes, path: Path) -> bool:
        if not head.startswith(ZIP_MAGIC):
            return False
        try:
            with zipfile.ZipFile(path) as zf:
                return "xl/workbook.xml" in zf.NameToInfo
        except (zipfile.BadZipFile, OSError, ValueError):
            return False

    def read(self, path: Path, limits) -> Book:
        guard.check_zip(path, limits)
        return read_xlsx(path, limits)


SOURCE = XlsxSource()


def _xml(zf: zipfile.ZipFile, name: str):
    from defusedxml import ElementTree

    try:
        return ElementTree.fromstring(zf.read(name))
    except KeyError:
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → zip part name, from workbook.xml and its relationships."""
    wb = _xml(zf, "xl/workbook.xml")
    rels = _xml(zf, "xl/_rels/workbook.xml.rels")
    if wb is None or rels is None:
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[rel.get("Id")] = path
    parts = {}
    for el in wb.iter():
        if _local(el.tag) == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            if rid in targets:
                parts[el.get("name")] = targets[rid]
    return parts


# In a cell, <f> is the first child (CT_Cell: f, v, is), so a formula cell is an opening tag
# that is not self-closing, directly followed by <f>. Anchoring on that keeps the scan linear
# and never pairs an empty <c r="A5"/> with the next cell's formula.
_FORMULA_CELL = re.compile(
    rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]+)"[^>]*(?<!/)>\s*'
    rb'<(?:\w+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?f>)',
    re.S,
)


def _formulas(zf: zipfile.ZipFile, part: str) -> dict[int, dict[int, str]]:
    """0-based row → {0-based col: formula text}, found by scanning the sheet XML (never evaluated)."""
    try:
        data = zf.read(part)
    except KeyError:
        return {}
    if b"<f" not in data and b":f" not in data:
        return {}
    found = {}
    for m in _FORMULA_CELL.finditer(data):
        letters, row, _attrs, text = m.groups()
        col = 0
        for ch in letters.decode():
            col = col * 26 + ord(ch) - 64
        formula = html.unescape(text.decode("utf-8", "replace")) if text else ""
        found.setdefault(int(row) - 1, {})[col - 1] = "=" + formula if formula else "=（共享公式）"
    return found


def _custom_props(zf: zipfile.ZipFile) -> dict[str, str]:
    root = _xml(zf, "docProps/custom.xml")
    if root is None:
        return {}
    props = {}
    for prop in root:
        name = prop.get("name", "")
        if name.startswith(F.META_PREFIX):
            props[name[len(F.META_PREFIX):]] = "".join(prop.itertext()).strip()
    return props


def read_xlsx(path: Path, limits) -> Book:
    """Read one workbook. Raises ``Unreadable`` with a Chinese reason."""
    from python_calamine import CalamineWorkbook

    try:
        with zipfile.ZipFile(path) as zf:
            parts = _sheet_parts(zf)
            meta = _custom_props(zf)
            formulas = {name: _formulas(zf, part) for name, part in parts.items()}
            struck_styles = _struck_styles(zf)
            struck = {name: _struck_rows(zf, part, struck_styles) for name, part in parts.items()} \
                if struck_styles else {}
            utf16 = _utf16(zf, parts.values())
    except Exception:  # defusedxml refusals, broken XML, broken zip members
        raise Unreadable("文件内部结构损坏或含有不安全内容，请用 Excel 或 WPS 打开后重新保存再发送") from None
    if utf16:  # calamine reads a UTF-16 sheet as empty, without a word: openpyxl reads it
        return read_with_openpyxl(path, limits, meta)
    grids: list[Grid] = []
    try:
        # By content: calamine's from_path picks the format by extension, and an .xlsx saved
        # under an .xls name (the registry has already checked it is a zip) must still be read.
        with path.open("rb") as fh:
            book = CalamineWorkbook.from_filelike(fh)
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            if sheet.height * max(sheet.width, 1) > limits.max_cells:
                raise Unreadable(f"工作表“{name}”过大（{sheet.height} 行 × {sheet.width} 列），请删除多余的空行空列",
                                 Reason.TOO_LARGE)
            cells = sheet.to_python(skip_empty_area=False)
            if name == F.META_SHEET:
                for r in cells:
                    if len(r) >= 2 and r[0]:
                        meta.setdefault(str(r[0]).strip(), clean_text(r[1]))
                continue
            grids.append(Grid(name, cells, _merged(sheet.merged_cell_ranges), formulas.get(name, {}),
                              struck.get(name, frozenset())))
    except Unreadable:
        raise
    except BaseException as exc:
        kind = type(exc).__name__
        if not isinstance(exc, Exception) and kind != "PanicException":  # a Rust panic in calamine
            raise  # is a BaseException (pyo3); KeyboardInterrupt and SystemExit are not ours
        if kind == "PasswordError":
            raise Unreadable("文件设置了打开密码（已加密），请取消密码后重新保存", Reason.ENCRYPTED) from None
        failed = True  # a sound package calamine cannot parse: another reader before giving up
    else:
        failed = False
    if failed:
        return read_with_openpyxl(path, limits, meta)
    return Book(path, "xlsx", tuple(grids), meta, reader="calamine")


def _utf16(zf: zipfile.ZipFile, parts) -> bool:
    """Whether a sheet part is UTF-16 encoded (written by some libraries; Excel reads it)."""
    for part in parts:
        try:
            with zf.open(part) as fh:
                head = fh.read(4)
        except KeyError:
            continue
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head in (b"<\x00?\x00", b"\x00<\x00?"):
            return True
    return False


def read_with_openpyxl(path: Path, limits, meta: dict[str, str]) -> Book:
    """The second reader, for packages calamine refuses or misreads: openpyxl in read-only
    mode (values; no merged ranges there), bounded by the same cell limit while it streams."""
    import warnings

    import openpyxl

    grids: list[Grid] = []
    try:
        with path.open("rb") as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
            for ws in wb.worksheets:
                ws.reset_dimensions()  # WPS may declare A1:A1 for a full sheet
                cells: list[list] = []
                width = 0
                for row in ws.iter_rows(values_only=True):
                    row = list(row)
                    while row and row[-1] is None:
                        row.pop()
                    width = max(width, len(row))
                    cells.append(row)
                    if len(cells) * max(width, 1) > limits.max_cells:
                        raise Unreadable(f"工作表“{ws.title}”过大（超过 {limits.max_cells} 个单元格的上限），"
                                         "请删除多余的空行空列", Reason.TOO_LARGE)
                while cells and not cells[-1]:
                    cells.pop()
                if ws.title == F.META_SHEET:
                    for r in cells:
                        if len(r) >= 2 and r[0]:
                            meta.setdefault(str(r[0]).strip(), clean_text(r[1]))
                    continue
                grids.append(Grid(ws.title, cells))
            wb.close()
    except Unreadable:
        raise
    except Exception:  # noqa: BLE001 - neither reader can: the file is damaged
        raise Unreadable("文件内容损坏，无法解析，请用 Excel 或 WPS 打开后重新保存再发送") from None
    return Book(path, "xlsx", tuple(grids), meta, reader="openpyxl")


def _merged(ranges) -> tuple[tuple[int, int, int, int], ...]:
    """calamine's ((first row, first col), (last row, last col)) ranges, flattened; malformed
    ones dropped."""
    out = []
    for rng in ranges or ():
        try:
            (r0, c0), (r1, c1) = rng
        except (TypeError, ValueError):
            continue
        out.append((r0, c0, r1, c1))
    return tuple(out)


def _struck_styles(zf: zipfile.ZipFile) -> frozenset[int]:
    """Indexes of the cell formats (cellXfs) whose font is struck through."""
    root = _xml(zf, "xl/styles.xml")
    if root is None:
        return frozenset()
    fonts, xfs = [], []
    for el in root:
        if _local(el.tag) == "fonts":
            fonts = [any(_local(c.tag) == "strike" and c.get("val", "1").lower() not in ("0", "false") for c in f)
                     for f in el]
        elif _local(el.tag) == "cellXfs":
            xfs = [int(x.get("fontId", 0) or 0) for x in el]
    return frozenset(i for i, font in enumerate(xfs) if 0 <= font < len(fonts) and fonts[font])


_CELL_TAG = re.compile(rb'<(?:\w+:)?c\b([^>]*)>')
_REF = re.compile(rb'\br="[A-Z]{1,3}([0-9]+)"')
_STYLE = re.compile(rb'\bs="([0-9]+)"')


def _struck_rows(zf: zipfile.ZipFile, part: str, struck: frozenset[int]) -> frozenset[int]:
    """0-based rows whose every cell holding a value has a struck-through format. One linear
    pass over the cell tags (each match is bounded by its own '>'), only for workbooks whose
    styles strike something through."""
    try:
        data = zf.read(part)
    except KeyError:
        return frozenset()
    rows: dict[int, bool] = {}
    for m in _CELL_TAG.finditer(data):
        attrs = m.group(1)
        if attrs.endswith(b"/"):
            continue  # an empty formatted cell
        close = data.find(b"</", m.end(), m.end() + 65536)
        if close < 0 or data.startswith(b"c>", close + 2) and close == m.end():
            continue  # <c …></c>: no value
        ref = _REF.search(attrs)
        if ref is None:
            continue
        row = int(ref.group(1)) - 1
        style = _STYLE.search(attrs)
        rows[row] = rows.get(row, True) and style is not None and int(style.group(1)) in struck
    return frozenset(r for r, all_struck in rows.items() if all_struck)
