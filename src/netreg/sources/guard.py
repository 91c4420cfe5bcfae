"""Checks of a zip package (.xlsx, .docx, .ods, .zip) made before any parser opens it.

python-calamine parses the sheets itself (Rust quick-xml, not defusedxml) and lays out a dense
grid up to the farthest cell holding a value: one value at XFD1048576 makes it allocate 512 GB
and abort the whole process, beyond the reach of any ``except``; a value at A99999999 costs
6 GB. So every part of the package is streamed once through ``zipfile`` (which stops at the
size the part declares and checks its CRC, so a part that lies about its size fails here) and:

- no part that is parsed as XML may declare a DOCTYPE or an ENTITY: OOXML never does, and
  that is where billion-laughs and external-entity (XXE) attacks live;
- in each sheet, the cells that may hold a value (calamine keeps only those) must fit in
  ``max_cells``, counted as calamine lays them out from A1: Excel row × column of the
  farthest value. Rows and cells without an ``r`` attribute are placed as calamine places
  them (after the previous one).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from operator import itemgetter
from pathlib import Path

from .base import Reason, Unreadable

CHUNK = 1 << 20
MAX_TAG = 1 << 16  # a tag longer than this is not waited for across chunks
_DECLARATIONS = tuple(d.encode(enc) for d in ("<!DOCTYPE", "<!ENTITY")
                      for enc in ("ascii", "utf-16-le", "utf-16-be"))  # UTF-16 parts exist too
_KEEP = len(max(_DECLARATIONS, key=len)) - 1
_NOT_XML = (".bin", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".emf", ".wmf", ".tif", ".tiff")
_TOKEN = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^<>]*)>")
# A cell tag that may hold a value: not self-closing (<c r="A1" s="1"/>) and not closed at once
# (<c r="A1" s="1"></c>, how openpyxl writes a formatted empty cell when lxml is installed).
_CELL = re.compile(rb'<c r="([A-Za-z]*)([0-9]*)([^"]*)"[^<>]*(?<!/)>(?!\s*</(?:[A-Za-z_][\w.-]*:)?c>)')
_CLOSED_AT_ONCE = re.compile(rb"\s*</(?:[A-Za-z_][\w.-]*:)?c>")
# A cell or row tag without r="…" first, or with a namespace prefix: placed tag by tag.
_ODD = (re.compile(rb'<c(?! r=")[\s/>]'), re.compile(rb'<row(?! r=")[\s/>]'), re.compile(rb':(?:c|row)[\s/>]'))
_ROW = re.compile(rb'<row r="([0-9]+)"')
_REF = re.compile(rb"""(?:^|\s)r\s*=\s*["']\s*\$?([A-Za-z]*)\$?([0-9]*)\s*["']""")


class Refused(Exception):
    """The package must not be parsed; ``args[0]`` is a one-line Chinese reason."""


def check_zip(path: Path, limits, *, sheets: bool = True) -> None:
    """Sizes first (declared total, compression ratio), then every part streamed once
    (``check_package``). Raises ``Unreadable``; returns quietly for a sound package.
    ``sheets=False`` skips the cell count (a .docx or .zip has no sheetData)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if total > limits.max_uncompressed_mb * 1024 * 1024 or total / packed > limits.max_compression_ratio:
                raise Unreadable(f"文件解压后过大（{total / 1048576:.0f} MB），疑似异常文件，已跳过", Reason.TOO_LARGE)
            check_package(zf, limits.max_cells if sheets else 1 << 62)
    except Refused as exc:
        raise Unreadable(str(exc), Reason.MALICIOUS if "实体" in str(exc) else Reason.TOO_LARGE) from None
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Unreadable("文件已损坏（压缩包内容不完整或校验失败），请重新保存后发送") from None


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
                        if cut > 0 and data.startswith(b"</", cut):  # keep <c …> with its </c>
                            cut = data.rfind(b"<", 0, cut)
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
    """Farthest row and column of the value cells of one sheet, as calamine places them.

    Conservative: an open ``<c …>`` counts as a value (calamine keeps it only when it holds
    one); a formatted empty cell, ``<c …/>`` or ``<c …></c>``, does not."""

    def __init__(self) -> None:
        self.row = self.col = 0  # position of the current row / last cell (1-based)
        self.max_row = self.max_col = 0

    @property
    def cells(self) -> int:
        return self.max_row * self.max_col

    def reason(self, max_cells: int) -> str:
        from ..util.cells import col_letter

        return (f"表格中有内容的区域过大（延伸到第 {self.max_row} 行、第 {col_letter(self.max_col - 1)} 列，"
                f"超过 {max_cells} 个单元格的上限），请删除多余的行列后重新保存")

    def feed(self, data: bytes) -> None:
        # Fast path up to the last <row: when every cell and row tag there opens with r="…",
        # each cell's own reference places it (one regex pass, no Python work per tag); the
        # current row number is taken from the last of those rows and the last row itself is
        # read tag by tag, so the position carried on (to tags without r="…") stays exact.
        last = data.rfind(b"<row")
        if last > 0 and not any(odd.search(data, 0, last) for odd in _ODD):
            found = _CELL.findall(data, 0, last)
            if not any(map(itemgetter(2), found)):  # every reference is plain letters + digits
                self._extend(max(map(int, filter(None, map(itemgetter(1), found))), default=0),
                             max(map(_column, set(map(itemgetter(0), found))), default=0))
                row = _ROW.match(data, max(data.rfind(b'<row r="', 0, last), 0))
                if row:  # the last row before ``last``: a row without r="…" there comes after it
                    self.row = int(row.group(1))
                data = data[last:]
        self._exact(data)

    def _extend(self, row: int, col: int) -> None:
        if row > self.max_row:
            self.max_row = row
        if col > self.max_col:
            self.max_col = col

    def _exact(self, data: bytes) -> None:
        for m in _TOKEN.finditer(data):
            tag, attrs = m.groups()
            ref = _REF.search(attrs)
            if tag == b"row":
                self.row = int(ref.group(2)) if ref and ref.group(2) else self.row + 1
                self.col = 0
                continue
            if ref and ref.group(2):
                row = int(ref.group(2))
                self.col = _column(ref.group(1)) if ref.group(1) else self.col + 1
            else:
                row = self.row
                self.col += 1
            if not attrs.endswith(b"/") and not _CLOSED_AT_ONCE.match(data, m.end()):
                self._extend(max(row, 1), self.col)
