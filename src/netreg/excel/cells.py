"""What every workbook netreg writes shares: safe file names and the A4 print setup."""

from __future__ import annotations

import math
import re
import unicodedata

# Only the workbook writers (template, annotate, summary) import this module, never start-up.

UNNAMED = "未命名单位"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)}
                      | {f"LPT{i}" for i in range(1, 10)})


def safe_name(text: str | None, *, max_chars: int = 80, max_bytes: int = 240) -> str:
    """``text`` as one file-name component valid on Windows and Linux: no ``/ \\ : * ? " < > |``
    or control characters, no ``..``, no leading dot or ``~``, no reserved device name,
    at most ``max_chars`` characters and ``max_bytes`` UTF-8 bytes (ext4 allows 255)."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", text or ""))
    name = re.sub(r"\.{2,}", ".", name).strip(" .")
    if name.startswith("~"):  # ~$name.xlsx is an Office lock file, skipped when reading
        name = "_" + name[1:]
    if name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        name = "_" + name
    name = name[:max_chars]
    while len(name.encode("utf-8")) > max_bytes:
        name = name[:-1]
    return name.rstrip(" .") or UNNAMED


def page_setup(ws, *, title_rows: str | None = None) -> None:
    """A4 landscape, one page wide (checked through LibreOffice), repeated title rows,
    centred, 第 N 页 共 M 页. Works on normal and write-only worksheets."""
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.3, footer=0.3)
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    if title_rows:
        ws.print_title_rows = title_rows


def text_width(text: str) -> float:
    """Display width in Excel column units (a CJK character is about two)."""
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in text)


CELL_PADDING = 1.5  # column units lost to cell margins


def wrapped_lines(text: object, width: float) -> int:
    """Lines ``text`` takes when wrapped in a column of ``width`` (an exact fit is one line)."""
    usable = max(width - CELL_PADDING, 1.0)
    return sum(max(1, math.ceil(text_width(part) / usable - 1e-9)) for part in str(text).split("\n"))


def fit_row_heights(ws, first_row: int = 1, line_pt: float = 15.0) -> int:
    """Give every row whose wrapped text needs more lines the height to show it all; a row is
    only ever made taller. Excel and WPS refit a row while someone types in it, but a file
    written by a program (openpyxl, a generator, our copy) prints with each row one line tall
    and the rest of the text cut off. Returns the rows made taller."""
    from openpyxl.utils import get_column_letter

    merged = {(r, c) for rng in ws.merged_cells.ranges
              for r in range(rng.min_row, rng.max_row + 1) for c in range(rng.min_col, rng.max_col + 1)}
    widths: dict[int, float] = {}
    grown = 0
    for row in ws.iter_rows(min_row=first_row):
        lines = 1
        for cell in row:
            value = cell.value
            if not isinstance(value, str) or len(value) < 4 or not cell.alignment.wrap_text \
                    or (cell.row, cell.column) in merged:
                continue
            if cell.column not in widths:
                dim = ws.column_dimensions.get(get_column_letter(cell.column))
                widths[cell.column] = dim.width if dim is not None and dim.width else 8.43
            lines = max(lines, wrapped_lines(value, widths[cell.column]))
        if lines > 1 and row:
            dims = ws.row_dimensions[row[0].row]
            need = line_pt * lines + 3
            if (dims.height or line_pt) < need:
                dims.height = need
                grown += 1
    return grown


FORMULA_START = ("=", "+", "-", "@")  # text starting so is a formula (or DDE) to Excel and CSV


# Every character XML 1.0 forbids: openpyxl's control characters, lone surrogates, U+FFFE, U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_cell_text(value: str) -> str:
    """``value`` without the characters a worksheet (XML 1.0) cannot hold."""
    return _NOT_XML.sub("", value) if _NOT_XML.search(value) else value


EXCEL_CELL_CHARS = 32_767  # Excel refuses a cell holding more (UTF-16 code units)


def excel_text(value: str) -> str:
    """``value`` cut to what an Excel cell holds: 32,767 UTF-16 code units (a character outside
    the BMP, an emoji, takes two). Readers have already cut what they read (``cell-too-long``)."""
    if len(value) > EXCEL_CELL_CHARS:
        value = value[:EXCEL_CELL_CHARS]
    if len(value) * 2 > EXCEL_CELL_CHARS and len(value.encode("utf-16-le")) > 2 * EXCEL_CELL_CHARS:
        value = value.encode("utf-16-le")[:2 * EXCEL_CELL_CHARS].decode("utf-16-le", "ignore")
    return value


def write_text(cell, value: str) -> None:
    """Store ``value`` in an openpyxl cell as text: never a formula, an error value or a number;
    formula-like text also gets Excel's quote prefix, so editing the cell keeps it text."""
    value = clean_cell_text(value)
    if len(value) * 2 > EXCEL_CELL_CHARS:
        value = excel_text(value)
    cell.value = value
    if value:
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True


def mark_output(wb, kind: str, **more: str | None) -> None:
    """Record in the workbook's custom properties that netreg wrote it (``summary``,
    ``annotated``, and e.g. the source's ``digest``), so that it is recognised when it turns
    up among the inputs."""
    from openpyxl.packaging.custom import StringProperty

    from ..model.forms import META_PREFIX

    props = wb.custom_doc_props
    for key, value in {"kind": kind, **more}.items():
        name = META_PREFIX + key
        for prop in [p for p in props if p.name == name]:
            props.props.remove(prop)
        if value is not None:
            props.append(StringProperty(name=name, value=value))


_STYLE: dict = {}


def styles() -> dict:
    """The named cell styles of the summary and the diff workbook (header, bold, title, wrap, top)."""
    if not _STYLE:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="999999")
        _STYLE.update(
            header=dict(font=Font(bold=True), fill=PatternFill("solid", fgColor="DDEBF7"),
                        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
                        border=Border(top=thin, bottom=thin, left=thin, right=thin)),
            bold=dict(font=Font(bold=True)),
            title=dict(font=Font(bold=True, size=14)),
            wrap=dict(alignment=Alignment(vertical="top", wrap_text=True)),
            top=dict(alignment=Alignment(vertical="top")),
        )
    return _STYLE
