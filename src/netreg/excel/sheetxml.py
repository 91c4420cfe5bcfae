"""The big sheets of the summary written as sheet XML directly.

openpyxl serialises each cell through et_xmlfile (~14 µs a cell): for 附件1…5 and 问题清单
the rows are written as XML, with the same cell types and the style ids openpyxl registered,
while the rest of the workbook (总览, titles, headers, charts) is openpyxl's own
(``tests/test_merge.py`` compares both writers cell by cell).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from .cells import FORMULA_START, clean_cell_text


@dataclass
class Body:
    """The data rows of one big sheet, written after its title and header rows."""

    sheet: str
    first_row: int  # Excel row of the first data row
    rows: list  # lists of plain values (str, int, date, None)



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


def _row_xml(r: int, row: list, letters: list[str], date_style: int, text_style: int) -> str:
    # The hot loop of a merge (a million cells at province scale): exact type tests, and
    # str.replace, which returns the same string when there is nothing to escape.
    rs = str(r)
    out = [f'<row r="{rs}">']
    add = out.append
    for ci, v in enumerate(row):
        if v is None:
            continue
        t = type(v)
        if t is bool:
            v, t = ("是" if v else "否"), str
        elif t is not str and isinstance(v, str):
            v, t = str(v), str
        if t is str:
            if not v.isprintable():  # newlines stay; control characters go
                v = clean_cell_text(v)
            if not v:
                add(f'<c r="{letters[ci]}{rs}" t="inlineStr"/>')
                continue
            style = f' s="{text_style}"' if v.startswith(FORMULA_START) else ""
            space = ' xml:space="preserve"' if v[:1].isspace() or v[-1:].isspace() else ""
            v = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            add(f'<c r="{letters[ci]}{rs}"{style} t="inlineStr"><is><t{space}>{v}</t></is></c>')
        elif isinstance(v, datetime):
            serial = (v - datetime(1899, 12, 30)).total_seconds() / 86400
            add(f'<c r="{letters[ci]}{rs}" s="{date_style}" t="n"><v>{_number(serial)}</v></c>')
        elif isinstance(v, date):
            add(f'<c r="{letters[ci]}{rs}" s="{date_style}" t="n"><v>{(v - _EPOCH).days}</v></c>')
        else:
            add(f'<c r="{letters[ci]}{rs}" t="n"><v>{_number(v)}</v></c>')
    add("</row>")
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
    written: dict[str, int] = {}
    skeleton = target.with_name(target.name + ".skeleton")
    wb.save(skeleton)
    try:
        # One thread compresses while this one builds the next rows' XML: zlib releases the
        # GIL, so the merge's second core does the deflating.
        with zipfile.ZipFile(skeleton) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout, \
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
                width = max((len(r) for r in body.rows), default=0)
                letters = _letters(width)
                with zout.open(item.filename, "w", force_zip64=True) as fh:
                    fh.write(head)
                    pending: deque = deque()
                    for k in range(0, len(body.rows), 2000):
                        chunk = body.rows[k:k + 2000]
                        xml = "".join(_row_xml(body.first_row + k + j, row, letters, date_style, text_style)
                                      for j, row in enumerate(chunk)).encode("utf-8")
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
