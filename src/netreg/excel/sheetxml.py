"""The big sheets of the summary written as sheet XML directly.

openpyxl serialises each cell through et_xmlfile (~14 µs a cell): for 附件1…5 and 问题清单
the rows are written as XML, with the same cell types and the style ids openpyxl registered,
while the rest of the workbook (总览, titles, headers, charts) is openpyxl's own
(``tests/test_merge.py`` compares both writers cell by cell).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import islice
from datetime import date, datetime
from pathlib import Path
from typing import Iterable

from .cells import EXCEL_CELL_CHARS, FORMULA_START, clean_cell_text, excel_text


@dataclass
class Body:
    """The data rows of one big sheet, written after its title and header rows."""

    sheet: str
    first_row: int  # Excel row of the first data row
    rows: Iterable[list]  # lists of plain values (str, int, date, None), read once, as they are written
    widths: tuple[float, ...] = ()  # each column's width: text wraps in it and its row grows to show it



# ---------------------------------------------------------------------------- direct rows
# openpyxl serialises each cell through et_xmlfile (~14 µs a cell): for the big sheets the
# rows are written as sheet XML directly, with the same cell types and the style ids openpyxl
# registered (a test compares both writers cell by cell).

_EPOCH = date(1899, 12, 30)


def _letters(n: int) -> list[str]:
    from openpyxl.utils import get_column_letter

    return [get_column_letter(i) for i in range(1, n + 1)]


def _number(v) -> str:
    """A number as openpyxl writes it (safe_string): 16 significant digits, NaN/∞ empty."""
    return "%.16g" % v if math.isfinite(v) else ""


LINE_PT = 15  # a line of 11-point text
# zlib level of the summary's parts: 2 deflates the big sheets' XML in 30% of the CPU of the
# default 6, for a file some 20% larger (75 MB of XML at N=300: 0.33 s → 9.1 MB, against 1.13 s
# → 7.6 MB; level 3: 0.44 s → 8.7 MB; level 1 costs as much as 2 for a larger file).
DEFLATE_LEVEL = 2


def _lines(text: str, usable: float) -> int:
    """Lines ``text`` takes wrapped in ``usable`` column units: a CJK character (3 UTF-8 bytes)
    is 2 units, anything else about 1.1 (an estimate; text_width per character costs 20×).
    Only multi-line text comes here: ``_row_xml`` makes the same estimate inline for one line."""
    lines = 0
    for part in text.split("\n"):
        wide = (len(part.encode("utf-8")) - len(part)) // 2
        lines += max(1, math.ceil((2 * wide + 1.1 * (len(part) - wide)) / usable - 1e-9))
    return lines


def _row_xml(r: int, row: list, letters: list[str], date_style: int, text_style: int,
             wrap: tuple | None = None, usable: tuple[float, ...] = ()) -> str:
    # The hot loop of a merge (a million cells at province scale): exact type tests, and one
    # look at all the row's text at once — most rows hold nothing to clean, cut or escape, and
    # then their cells skip those steps. ``wrap``: the (text, formula-like text, date, number)
    # styles that wrap at the top; ``usable``: the columns' text widths.
    rs = str(r)
    out = [f'<row r="{rs}">']
    add = out.append
    lines = 1
    day, number = (date_style, "") if wrap is None else (wrap[2], wrap[3])
    text = "".join([v for v in row if type(v) is str])
    plain = (len(text) * 2 <= EXCEL_CELL_CHARS and text.isprintable()
             and "&" not in text and "<" not in text and ">" not in text)
    n_usable = len(usable)
    for ci, v in enumerate(row):
        if v is None:
            continue
        t = type(v)
        if t is bool:
            v, t = ("是" if v else "否"), str
        elif t is not str and isinstance(v, str):
            v, t = str(v), str
            plain = False  # not in ``text``: look at it cell by cell
        if t is str:
            if not plain:
                if not v.isprintable():  # newlines stay; control characters go
                    v = clean_cell_text(v)
                if len(v) * 2 > EXCEL_CELL_CHARS:  # cut to what a cell holds (rarely here)
                    v = excel_text(v)
            if not v:
                add(f'<c r="{letters[ci]}{rs}" t="inlineStr"/>')
                continue
            if wrap is None:
                style = f' s="{text_style}"' if v.startswith(FORMULA_START) else ""
            else:
                style = wrap[1] if v.startswith(FORMULA_START) else wrap[0]
                if ci < n_usable:
                    n, u = len(v), usable[ci]
                    if "\n" in v:
                        lines = max(lines, _lines(v, u))
                    elif n * 2 > u:  # shorter surely fits; else estimate inline (hot loop)
                        wide = (len(v.encode("utf-8")) - n) >> 1
                        need = (2 * wide + 1.1 * (n - wide)) / u
                        if need > lines:
                            lines = math.ceil(need - 1e-9)
            # str.strip returns the very string when there is nothing to strip
            space = ' xml:space="preserve"' if v.strip() is not v else ""
            if not plain:
                v = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            add(f'<c r="{letters[ci]}{rs}"{style} t="inlineStr"><is><t{space}>{v}</t></is></c>')
        elif t is int and -10**15 < v < 10**15:
            add(f'<c r="{letters[ci]}{rs}"{number} t="n"><v>{v}</v></c>')
        elif isinstance(v, datetime):
            serial = (v - datetime(1899, 12, 30)).total_seconds() / 86400
            add(f'<c r="{letters[ci]}{rs}" s="{day}" t="n"><v>{_number(serial)}</v></c>')
        elif isinstance(v, date):
            add(f'<c r="{letters[ci]}{rs}" s="{day}" t="n"><v>{(v - _EPOCH).days}</v></c>')
        else:
            add(f'<c r="{letters[ci]}{rs}"{number} t="n"><v>{_number(v)}</v></c>')
    add("</row>")
    if lines > 1:  # no program refits the row of a file it only opens: give it its height
        out[0] = f'<row r="{rs}" ht="{LINE_PT * lines}" customHeight="1">'
    return "".join(out)


def _text_tail(v: str, plain_style: str, formula_style: str, usable: float | None) -> tuple[str, int]:
    """What follows ``<c r="A5"`` for the text ``v`` in a column ``usable`` wide (None: no
    wrapping), and the lines it takes: ``_row_xml``'s text branch for one cell."""
    if not v.isprintable():
        v = clean_cell_text(v)
    if len(v) * 2 > EXCEL_CELL_CHARS:
        v = excel_text(v)
    if not v:
        return ' t="inlineStr"/>', 1
    style = formula_style if v.startswith(FORMULA_START) else plain_style
    lines = 1
    if usable is not None:
        n = len(v)
        if "\n" in v:
            lines = _lines(v, usable)
        elif n * 2 > usable:
            wide = (len(v.encode("utf-8")) - n) >> 1
            need = (2 * wide + 1.1 * (n - wide)) / usable
            if need > 1:
                lines = math.ceil(need - 1e-9)
    space = ' xml:space="preserve"' if v.strip() is not v else ""
    v = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'{style} t="inlineStr"><is><t{space}>{v}</t></is></c>', lines


MEMO_AFTER = 512  # texts a column remembers before it is judged: kept while under half its cells are new
MEMO_MAX = 50_000


class ColumnMemo:
    """Per column of one sheet, the XML of the texts seen (unit, file, 级别, 问题, 问题代码… repeat
    on row after row): a text seen before costs one look-up instead of its checks. A column
    whose texts mostly differ (names, phones, messages) stops remembering."""

    def __init__(self, width: int):
        self.seen: list[dict | None] = [{} for _ in range(width)]
        self.cells = [0] * width

    def judge(self) -> None:
        for ci, known in enumerate(self.seen):
            if known is not None and len(known) > MEMO_AFTER and (len(known) * 2 > self.cells[ci]
                                                                 or len(known) > MEMO_MAX):
                self.seen[ci] = None


def _rows_xml(first: int, rows: list[list], letters: list[str], date_style: int, text_style: int,
              wrap: tuple | None, usable: tuple[float, ...], memo: ColumnMemo) -> str:
    """``_row_xml`` of each row (Excel rows from ``first``), the texts of each column
    remembered in ``memo`` (``tests/test_merge_fast.py`` compares it with ``_row_xml``)."""
    plain_style, formula_style = ("", f' s="{text_style}"') if wrap is None else (wrap[0], wrap[1])
    widths = [usable[ci] if wrap is not None and ci < len(usable) else None for ci in range(len(letters))]
    if len(memo.seen) < len(letters):
        memo.seen += [{} for _ in range(len(letters) - len(memo.seen))]
        memo.cells += [0] * (len(letters) - len(memo.cells))
    seen, cells = memo.seen, memo.cells
    day, number = (date_style, "") if wrap is None else (wrap[2], wrap[3])
    out = []
    for k, row in enumerate(rows):
        rs = str(first + k)
        parts = []
        add = parts.append
        lines = 1
        ci = -1
        for v in row:
            ci += 1
            if v is None:
                continue
            t = type(v)
            if t is str:
                known = seen[ci]
                if known is not None:
                    cells[ci] += 1
                    hit = known.get(v)
                    if hit is None:
                        hit = known[v] = _text_tail(v, plain_style, formula_style, widths[ci])
                else:
                    hit = _text_tail(v, plain_style, formula_style, widths[ci])
            elif t is int and -10**15 < v < 10**15:
                add(f'<c r="{letters[ci]}{rs}"{number} t="n"><v>{v}</v></c>')
                continue
            elif t is bool:
                hit = _text_tail("是" if v else "否", plain_style, formula_style, widths[ci])
            elif isinstance(v, str):
                hit = _text_tail(str(v), plain_style, formula_style, widths[ci])
            elif isinstance(v, datetime):
                serial = (v - datetime(1899, 12, 30)).total_seconds() / 86400
                add(f'<c r="{letters[ci]}{rs}" s="{day}" t="n"><v>{_number(serial)}</v></c>')
                continue
            elif isinstance(v, date):
                add(f'<c r="{letters[ci]}{rs}" s="{day}" t="n"><v>{(v - _EPOCH).days}</v></c>')
                continue
            else:
                add(f'<c r="{letters[ci]}{rs}"{number} t="n"><v>{_number(v)}</v></c>')
                continue
            add(f'<c r="{letters[ci]}{rs}"{hit[0]}')
            if hit[1] > lines:
                lines = hit[1]
        if lines > 1:  # no program refits the row of a file it only opens: give it its height
            out.append(f'<row r="{rs}" ht="{LINE_PT * lines}" customHeight="1">' + "".join(parts) + "</row>")
        else:
            out.append(f'<row r="{rs}">' + "".join(parts) + "</row>")
    memo.judge()
    return "".join(out)


def save_direct(wb, bodies: list[Body], target: Path) -> dict[str, int]:
    """Save ``wb`` (skeleton: 总览, titles, headers), then stream each body's rows into its
    sheet part while copying the package. Returns the rows written per sheet."""
    import zipfile
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from openpyxl.cell import WriteOnlyCell

    from ..sources.xlsx import _sheet_parts

    probe = wb.worksheets[0]
    date_cell = WriteOnlyCell(probe, value=date(2000, 1, 1))
    date_cell.number_format = "yyyy-mm-dd"
    text_cell = WriteOnlyCell(probe, value="=")
    text_cell.quotePrefix = True
    date_style, text_style = date_cell.style_id, text_cell.style_id  # registered before saving
    from openpyxl.styles import Alignment

    wrapped = []  # plain text, formula-like text, a date, a number: all at the top of a grown row
    for value, prefix, fmt in (("x", False, None), ("=", True, None), (date(2000, 1, 1), False, "yyyy-mm-dd"),
                               (1, False, None)):
        c = WriteOnlyCell(probe, value=value)
        c.quotePrefix = prefix
        if fmt:
            c.number_format = fmt
        c.alignment = Alignment(wrap_text=True, vertical="top")
        wrapped.append(c.style_id)
    wrap = (f' s="{wrapped[0]}"', f' s="{wrapped[1]}"', wrapped[2], f' s="{wrapped[3]}"')  # formatted once
    written: dict[str, int] = {}
    skeleton = target.with_name(target.name + ".skeleton")
    wb.save(skeleton)
    try:
        # One thread compresses while this one builds the next rows' XML: zlib releases the
        # GIL, so the merge's second core does the deflating.
        with zipfile.ZipFile(skeleton) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL) as zout, \
                ThreadPoolExecutor(1) as deflate:
            parts = {part: body for name, part in _sheet_parts(zin).items()
                     for body in bodies if body.sheet == name}
            for item in zin.infolist():
                data = zin.read(item.filename)
                body = parts.get(item.filename)
                if body is None:
                    zout.writestr(item, data)
                    continue
                head, tail = data.split(b"</sheetData>", 1)
                letters = _letters(len(body.widths))
                usable = tuple(max(w - 1.5, 1.0) for w in body.widths)
                rows = iter(body.rows)
                with zout.open(item.filename, "w", force_zip64=True) as fh:
                    fh.write(head)
                    pending: deque = deque()
                    k = 0
                    memo = ColumnMemo(len(letters))
                    while chunk := list(islice(rows, 2000)):  # rows are made as they are written
                        width = max(map(len, chunk))
                        if width > len(letters):
                            letters = _letters(width)
                        xml = _rows_xml(body.first_row + k, chunk, letters, date_style, text_style,
                                        wrap if usable else None, usable, memo).encode("utf-8")
                        k += len(chunk)
                        pending.append(deflate.submit(fh.write, xml))
                        while len(pending) > 2:  # bounded memory; surfaces a write error early
                            pending.popleft().result()
                        written[body.sheet] = written.get(body.sheet, 0) + len(chunk)
                    while pending:
                        pending.popleft().result()
                    fh.write(b"</sheetData>" + tail)
    finally:
        skeleton.unlink(missing_ok=True)
    return written
