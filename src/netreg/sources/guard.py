"""Checks of a zip package (.xlsx, .docx, .ods, .zip) made before any parser opens it.

python-calamine parses the sheets itself (Rust quick-xml, not defusedxml) and lays out a dense
grid up to the farthest cell holding a value: one value at XFD1048576 makes it allocate 512 GB
and abort the whole process, beyond the reach of any ``except``; a value at A99999999 costs
6 GB. So every part of the package is streamed once through ``zipfile`` (which stops at the
size the part declares and checks its CRC, so a part that lies about its size fails here) and:

- no part that is parsed as XML may declare a DOCTYPE or an ENTITY: OOXML never does, and
  that is where billion-laughs and external-entity (XXE) attacks live;
- no text between two tags may run longer than ``MAX_TEXT`` bytes: an Excel cell holds at
  most 32,767 characters (some 200 KB of XML), and a reader holds a text several times over
  (python-calamine about 5.5× its size: a 150 MB cell took 843 MB), so a longer one is
  refused before any reader sees it; a shorter one past Excel's limit is read and cut;
- the text the cells of the sheets expand to from the shared strings must fit in
  ``MAX_EXPANDED``: python-calamine copies a shared string into every cell that refers to
  it (and python-calamine's to_python copies it again), so one 1 MB string referred to by
  12,000 cells (Apache POI's poc-shared-strings.xlsx, 110 KB on disk) took 24 GB;
- in each sheet, the cells that may hold a value (calamine keeps only those) must fit in
  ``max_cells``, counted as calamine lays them out from A1: Excel row × column of the
  farthest value. Rows and cells without an ``r`` attribute are placed as calamine places
  them (after the previous one).

Every pattern here is linear in what it reads, whatever the part holds (a file nobody here
wrote): character classes stop at the tag's own '<' or '>', quantifiers are possessive (no
backtracking between letters, digits and the rest of a reference), and a reference's
letters and digits are bounded before they become numbers.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from operator import itemgetter
from pathlib import Path

from .base import Reason, Unreadable

CHUNK = 1 << 20
MAX_TEXT = 64 << 20  # bytes of text between two tags (see above); a multiple of CHUNK
MAX_TAG = 1 << 16  # a tag longer than this is not waited for across chunks
LONG_STRING = 128  # bytes of a shared string whose references are counted (shorter: max_cells bounds them)
MAX_EXPANDED = 128 << 20  # bytes of long shared strings the cells may expand to
_DECLARATIONS = tuple(d.encode(enc) for d in ("<!DOCTYPE", "<!ENTITY")
                      for enc in ("ascii", "utf-16-le", "utf-16-be"))  # UTF-16 parts exist too
_KEEP = len(max(_DECLARATIONS, key=len)) - 1
_NOT_XML = (".bin", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".emf", ".wmf", ".tif", ".tiff")
_PREFIX = rb"(?:[A-Za-z_][\w.-]*+:)?+"
_TOKEN = re.compile(rb"<" + _PREFIX + rb"(row|c)(?=[\s/>])([^<>]*+)>")
# A cell tag that may hold a value: not self-closing (<c r="A1" s="1"/>) and not closed at once
# (<c r="A1" s="1"></c>, how openpyxl writes a formatted empty cell when lxml is installed).
# A reference of more than 3 letters or 7 digits lands in the third group: read tag by tag.
_CELL = re.compile(rb'<c r="([A-Za-z]{0,3}+)([0-9]{0,7}+)([^"<>]*+)"[^<>]*+(?<!/)>(?!\s*+</' + _PREFIX + rb'c>)')
_CLOSED_AT_ONCE = re.compile(rb"\s*+</" + _PREFIX + rb"c>")
# A cell or row tag without r="…" first, or with a namespace prefix: placed tag by tag.
# So is a cell whose r="…" meets a '<' or '>' before its closing quote.
_ODD = (re.compile(rb'<c(?! r=")[\s/>]'), re.compile(rb'<row(?! r=")[\s/>]'), re.compile(rb':(?:c|row)[\s/>]'),
        re.compile(rb'<c r="[^"<>]*+[<>]'))
_ROW = re.compile(rb'<row r="([0-9]++)"')
_REF = re.compile(rb"""(?:^|\s)r\s*+=\s*+["']\s*+\$?([A-Za-z]*+)\$?([0-9]*+)\s*+["']""")
# A cell referring to a shared string (t="s"), and the index in its <v>.
_SHARED_CELL = re.compile(rb"""t=["']s["'][^<>]*+>\s*+<""" + _PREFIX + rb"v>\s*+([0-9]{1,10}+)")
_FAR = 10 ** 12  # a row or column number past this is past any limit: not computed further


def is_xml(part: str) -> bool:
    """Whether a package part is parsed as XML by some reader (not a picture, an embedded
    object or a binary part)."""
    name = part.lower()
    return not (name.endswith(_NOT_XML) or "/media/" in name or "/embeddings/" in name)


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
    sheets: list[zipfile.ZipInfo] = []  # the parts holding sheetData
    cells = 0  # the most cells they may hold values in
    long: dict[int, int] = {}  # shared string index -> bytes, for the long ones
    for info in zf.infolist():
        if info.is_dir():
            continue
        xml = is_xml(info.filename)
        sheet = _SheetFeed()
        strings = _StringSizes() if info.filename.lower().endswith("sharedstrings.xml") else None
        run = 0  # bytes since the last '<' (runs shorter than a chunk never matter)
        tail = b""  # the end of the previous chunk: a declaration cut in two
        try:
            with zf.open(info) as part:
                for chunk, more in _chunks(part, xml):
                    if not xml:
                        continue
                    first = chunk.find(b"<")
                    if first >= 0 and run + first > MAX_TEXT:
                        raise Refused(_too_long(info.filename))
                    run = run + len(chunk) if first < 0 else len(chunk) - chunk.rfind(b"<") - 1
                    if run > MAX_TEXT:
                        raise Refused(_too_long(info.filename))
                    if any(d in chunk or d in tail + chunk[:_KEEP] for d in _DECLARATIONS):
                        raise Refused("文件含有 XML 实体声明（DOCTYPE/ENTITY），正常的 Excel 文件不会有，疑似恶意文件")
                    tail = chunk[-_KEEP:] if len(chunk) >= _KEEP else (tail + chunk)[-_KEEP:]
                    sheet.feed(chunk, more)
                    if sheet.grid.cells > max_cells:
                        raise Refused(sheet.grid.reason(max_cells))
                    if strings is not None:
                        strings.feed(chunk, more)
        except (zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
            # corrupt stream, unsupported compression method, an encrypted zip member…
            raise zipfile.BadZipFile(str(exc)) from None
        if sheet.in_sheet:
            sheets.append(info)
            cells += sheet.grid.cells
        if strings is not None:
            long.update(strings.long)
    if long and cells * max(long.values()) > MAX_EXPANDED:  # else even every cell at the longest fits
        _check_expansion(zf, sheets, long)


def _check_expansion(zf: zipfile.ZipFile, sheets: list[zipfile.ZipInfo], long: dict[int, int]) -> None:
    """Refuse when the cells referring to long shared strings would expand past MAX_EXPANDED."""
    from collections import Counter

    refs: Counter = Counter()
    wanted = {b"%d" % index for index in long}.__contains__
    for info in sheets:
        tail = b""
        with zf.open(info) as part:
            for chunk, more in _chunks(part):
                data = tail + chunk
                cut = data.rfind(b"<c") if more else len(data)  # a cell waits whole for the next chunk
                if cut < 0 or len(data) - cut > MAX_TAG:
                    cut = len(data)
                refs.update(filter(wanted, _SHARED_CELL.findall(data, 0, cut)))
                tail = data[cut:]
    total = sum(refs.get(b"%d" % index, 0) * size for index, size in long.items())
    if total > MAX_EXPANDED:
        raise Refused(f"表格中的单元格反复引用很长的文字，展开后约 {total >> 20} MB（上限 {MAX_EXPANDED >> 20} MB），"
                      "疑似异常文件，已跳过")


class _StringSizes:
    """Bytes of each shared string (an <si> and what follows it up to the next) longer than
    LONG_STRING, by index; counted on the chunks as they stream past."""

    def __init__(self) -> None:
        self.index, self.size, self.prev = -1, 0, b""
        self.long: dict[int, int] = {}

    def feed(self, chunk: bytes, more: bool) -> None:
        sizes = list(map(len, (self.prev + chunk).split(b"<si")))  # prev: the end of a tag cut in two
        self.size += sizes[0] - len(self.prev)
        if len(sizes) > 1:
            self._close()
            first = self.index + 1
            self.index += len(sizes) - 1
            self.size = sizes[-1] + 3  # the last goes on in the next chunk
            self.long.update((first + k, n + 3) for k, n in enumerate(sizes[1:-1]) if n + 3 > LONG_STRING)
        self.prev = chunk[-2:] if len(chunk) >= 2 else (self.prev + chunk)[-2:]
        if not more:
            self._close()

    def _close(self) -> None:
        if self.index >= 0 and self.size > LONG_STRING:
            self.long[self.index] = self.size


def farthest_row(zf: zipfile.ZipFile, part: str) -> int:
    """Excel row of the farthest cell of sheet ``part`` that may hold a value, counted as
    ``check_package`` counts it (0: none): a reader that fills the rows between need go no
    further."""
    sheet = _SheetFeed()
    with zf.open(part) as fh:
        for chunk, more in _chunks(fh):
            sheet.feed(chunk, more)
    return sheet.grid.max_row


def _chunks(fh, xml: bool = True):
    """(chunk, whether more follows) of a part, a UTF-16 one re-encoded as UTF-8 (some
    libraries write sheets so; Excel and openpyxl read them, and they are counted alike)."""
    utf16 = None
    while True:
        chunk = fh.read(CHUNK)
        more = bool(chunk)
        if xml:
            if utf16 is None:
                utf16 = _utf16_decoder(chunk)
            if utf16:
                chunk = utf16.decode(chunk, final=not more).encode("utf-8")
        yield chunk, more
        if not more:
            return


class _SheetFeed:
    """A part's text handed to a ``_Grid`` from its sheetData on, in pieces that never cut a
    tag in two, nor a cell from the closing tag right after it."""

    def __init__(self) -> None:
        self.grid = _Grid()
        self.tail = b""
        self.in_sheet = False

    def feed(self, chunk: bytes, more: bool) -> None:
        data = self.tail + chunk
        if not self.in_sheet:
            at = data.find(b"sheetData")
            if at < 0:
                self.tail = data[-8:]
                return
            self.in_sheet, data = True, data[at:]
        cut = data.rfind(b"<") if more else len(data)
        # keep <c …> with its </c>, even when closing tags (</c></row>) follow or the chunk
        # ends between the '<' and the '/' of one
        while cut > 0 and (data.startswith(b"</", cut) or cut == len(data) - 1) and len(data) - cut <= MAX_TAG:
            cut = data.rfind(b"<", 0, cut)
        if cut < 0 or len(data) - cut > MAX_TAG:
            cut = len(data)
        self.grid.feed(data[:cut])
        self.tail = data[cut:]


def _utf16_decoder(head: bytes):
    """An incremental UTF-16 decoder for a part that opens as UTF-16 (some libraries write
    sheets so, and Excel and openpyxl read them), else False."""
    import codecs

    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return codecs.getincrementaldecoder("utf-16")("replace")
    if head[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return codecs.getincrementaldecoder("utf-16-le" if head[0] == 0x3C else "utf-16-be")("replace")
    return False


def _too_long(part: str) -> str:
    where = "Word 文档" if part.lower().startswith("word/") else "表格"
    return (f"{where}中有一段文字超过 {MAX_TEXT >> 20} MB（Excel 的一个单元格最多只能有 32767 个字符），"
            "疑似异常文件，已跳过；请删除过长的内容后重新保存")


def _number(digits: bytes) -> int:
    return int(digits) if len(digits) <= 12 else _FAR


def _column(letters: bytes) -> int:
    if len(letters) > 8:
        return _FAR
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

        if self.max_row > 1_048_576 or self.max_col > 16_384:
            where = "超出 Excel 工作表的范围，文件可能已损坏"
        else:
            where = f"延伸到第 {self.max_row} 行、第 {col_letter(self.max_col - 1)} 列"
        return f"表格中有内容的区域过大（{where}，超过 {max_cells} 个单元格的上限），请删除多余的行列后重新保存"

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
                    self.row = _number(row.group(1))
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
                self.row = _number(ref.group(2)) if ref and ref.group(2) else self.row + 1
                self.col = 0
                continue
            if ref and ref.group(2):
                row = _number(ref.group(2))
                self.col = _column(ref.group(1)) if ref.group(1) else self.col + 1
            else:
                row = self.row
                self.col += 1
            if not attrs.endswith(b"/") and not _CLOSED_AT_ONCE.match(data, m.end()):
                self._extend(max(row, 1), self.col)
