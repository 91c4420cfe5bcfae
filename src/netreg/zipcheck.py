"""Checks of an .xlsx package made before any parser opens it (called by ``reader.sniff``).

python-calamine parses the sheets itself (Rust quick-xml, not defusedxml) and lays out a dense
grid up to the farthest cell holding a value: one value at XFD1048576 makes it allocate 512 GB
and abort the whole process, beyond the reach of any ``except``; a value at A99999999 costs
6 GB. So every part of the package is streamed once through ``zipfile`` (which stops at the
size the part declares and checks its CRC, so a part that lies about its size fails here) and:

- no part that is parsed as XML may declare a DOCTYPE or an ENTITY: OOXML never does, and
  that is where billion-laughs and external-entity (XXE) attacks live;
- in each sheet, the cells that hold a value (the only ones calamine keeps) must fit in
  ``max_cells``, counted as calamine lays them out from A1: Excel row × column of the
  farthest value. Rows and cells without an ``r`` attribute are placed as calamine places
  them (after the previous one).
"""

from __future__ import annotations

import re
import zipfile
import zlib

CHUNK = 1 << 20
MAX_TAG = 1 << 16  # a tag longer than this is not waited for across chunks
_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")
_KEEP = len(max(_DECLARATIONS, key=len)) - 1
_NOT_XML = (".bin", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".emf", ".wmf", ".tif", ".tiff")
_TOKEN = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|v|is|f)(?=[\s/>])([^<>]*)>")
_REF = re.compile(rb"""(?:^|\s)r\s*=\s*["']\s*\$?([A-Za-z]*)\$?([0-9]*)\s*["']""")


class Refused(Exception):
    """The package must not be parsed; ``args[0]`` is a one-line Chinese reason."""


def check_package(zf: zipfile.ZipFile, max_cells: int) -> None:
    """Stream every part of ``zf``; raise ``Refused`` or ``zipfile.BadZipFile`` (corrupt)."""
    for info in zf.infolist():
        if info.is_dir():
            continue
        name = info.filename.lower()
        xml = not (name.endswith(_NOT_XML) or "/media/" in name or "/embeddings/" in name)
        grid = _Grid()
        in_sheet = False
        tail = b""  # end of the previous chunk: a declaration or a tag cut in two
        try:
            with zf.open(info) as part:
                while True:
                    chunk = part.read(CHUNK)
                    if not xml:
                        if not chunk:
                            break
                        continue
                    data = tail + chunk
                    if any(d in data for d in _DECLARATIONS):
                        raise Refused("文件含有 XML 实体声明（DOCTYPE/ENTITY），正常的 Excel 文件不会有，疑似恶意文件")
                    if not in_sheet:
                        at = data.find(b"sheetData")
                        in_sheet = at >= 0
                        data = data[at:] if in_sheet else data
                    if in_sheet:
                        cut = data.rfind(b"<") if chunk else len(data)
                        if cut < 0 or len(data) - cut > MAX_TAG:
                            cut = len(data)
                        grid.feed(data[:cut])
                        if grid.cells > max_cells:
                            raise Refused(grid.reason(max_cells))
                        tail = data[cut:]
                    else:
                        tail = data[-_KEEP:]
                    if not chunk:
                        break
        except (zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            # corrupt stream, unsupported compression method, an encrypted zip member…
            raise zipfile.BadZipFile(str(exc)) from None


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


class _Grid:
    """Farthest row and column of the value cells of one sheet, as calamine places them."""

    def __init__(self) -> None:
        self.row = self.col = 0  # position of the current row / last cell (1-based)
        self.pending: tuple[int, int] | None = None  # an open <c> not yet known to hold a value
        self.max_row = self.max_col = 0

    @property
    def cells(self) -> int:
        return self.max_row * self.max_col

    def reason(self, max_cells: int) -> str:
        from .reader import col_letter

        return (f"表格中有内容的区域过大（延伸到第 {self.max_row} 行、第 {col_letter(self.max_col - 1)} 列，"
                f"超过 {max_cells} 个单元格的上限），请删除多余的行列后重新保存")

    def feed(self, data: bytes) -> None:
        for m in _TOKEN.finditer(data):
            tag, attrs = m.groups()
            closed = attrs.endswith(b"/")
            if tag == b"c":
                ref = _REF.search(attrs)
                if ref and ref.group(2):
                    row = int(ref.group(2))
                    self.col = _column(ref.group(1)) if ref.group(1) else self.col + 1
                else:
                    row = self.row
                    self.col += 1
                self.pending = None if closed else (max(row, 1), self.col)
            elif tag == b"row":
                ref = _REF.search(attrs)
                self.row = int(ref.group(2)) if ref and ref.group(2) else self.row + 1
                self.col = 0
                self.pending = None
            elif self.pending is not None and not closed:  # <v>, <is>, <f>: the cell has content
                r, c = self.pending
                self.pending = None
                if r > self.max_row:
                    self.max_row = r
                if c > self.max_col:
                    self.max_col = c
