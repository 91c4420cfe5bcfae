"""Other spreadsheet formats — .xls, .et/.ett (WPS 表格), .ods and .xlsb — read with python-calamine.

The allocation trap: calamine lays out a dense grid (32 bytes a cell) between the first and
last cells holding a value, and ``to_python(skip_empty_area=False)`` lays it out again from
A1 to the farthest one. ``sheets_metadata`` gives no sizes; .xls and .ods are parsed whole,
every sheet laid out, when the workbook is opened; .xlsb lays a sheet out at
``get_sheet_by_name``. So each file is scanned here first, cells placed as calamine 0.37
(python-calamine 0.9.1) places them, and refused when Excel row × column of its farthest
value (or formula) exceeds ``max_cells``:

- .xls/.et: the OLE2 container is walked without olefile, every chain calamine follows
  checked for loops; each sheet substream's BIFF cell records give the farthest value; a
  DIMENSIONS record declaring more than the BIFF8 grid is refused (calamine reserves
  rows × columns for it); a FILEPASS record means encrypted (calamine only sees RC4).
- .ods: ``guard.check_zip`` first, then content.xml streamed once through a linear regex over
  table, row and cell tags: ``number-rows-repeated`` and ``number-columns-repeated`` (capped
  as calamine caps them) place cells, and a cell with an ``office:`` value or a formula
  counts. LibreOffice's 1,048,576 formatted-but-empty repeated rows hold none: not refused.
- .xlsb: ``guard.check_zip`` first, then each sheet part's BIFF12 records. calamine reads a
  cell's column from a reused buffer, so a short record keeps stale bytes: emulated here.

Measured here (2 slow cores: a bare Python loop makes 2 M steps a second). Refused in < 10 ms
at 40 MB peak RSS (the interpreter's own), where calamine alone would: .ods, a value at
XFD1000000 → abort asking 112 GB; .xls, values at A1 and IV65536 → 1.1 GB RSS; that cell
patched to column 65535 → abort asking 137 GB; DIMENSIONS of 4 G rows → abort asking 44 TB;
a looping directory chain → abort at 8 GB; .xlsb, a value at XFD1000001 → abort asking 524 GB;
an empty .xlsb cell record after a record starting with 1,000,000 → column 1,000,001, abort
asking 32 GB. Good files, 50,000 rows × 10 columns from LibreOffice: .xls (9 MB) scan 0.6–0.8 s
beside calamine's 0.3 s; .ods (64 MB content.xml) guard 0.2 s + scan 3.1–5 s beside calamine's
0.75–1.4 s (the regex pass is a third of it). A form of a few hundred rows: a few ms.
Merged ranges: calamine gives them for .xls only; for .ods and .xlsb they come from the scan
(``number-*-spanned``, BrtMergeCell). Formulas: calamine gives values only, so
``Grid.formulas`` stays empty.
"""

from __future__ import annotations

import html
import mmap
import re
import struct
import zipfile
from functools import lru_cache
from pathlib import Path

from ..util.oserror import os_reason
from . import guard
from .base import OLE2_MAGIC, ZIP_MAGIC, Book, Grid, Reason, Unreadable, cut_cells
from .ole2 import _BOOK, BAD, LOCKED, Ole2, _too_large, ole2_kind, scan_biff

ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_OLE_EXT, _ZIP_EXT = (".xls", ".xlt", ".et", ".ett"), (".ods", ".ots", ".xlsb")
_XLSB_CELLS = frozenset(range(2, 11))  # BrtCellRk … BrtFmlaBool: the records calamine keeps
_MAX_ROWS, _MAX_COLS = 1_048_576, 16_384
# A table, row or cell start tag (``closed`` empty when it does not close or has '<' in a
# quoted value: refused), or a table's end. Linear: each repetition starts with a quote.
_ODS_TAG = re.compile(rb'<(?:table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])'
                      rb'''(?:([^<>"']*(?:(?:"[^"<]*"|'[^'<]*')[^<>"']*)*)(>))?|(/)table:table\s*>)''')


@lru_cache(maxsize=None)
def _attr_re(name: bytes) -> re.Pattern:
    return re.compile(rb"(?:^|\s)" + name + rb"""\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attr(attrs: bytes, name: bytes, default: int | None = 1):
    """An attribute's value: an int (``default`` when absent), or text when ``default`` is None."""
    m = _attr_re(name).search(attrs)
    if not m:
        return default
    raw = m.group(1) if m.group(1) is not None else m.group(2)
    text = html.unescape(raw.decode("utf-8", "replace")) if b"&" in raw or default is None else raw
    return text if default is None else int(text)  # not a number: calamine fails too → BAD


def _ods(zf: zipfile.ZipFile, max_cells: int) -> dict[str, list]:
    """content.xml streamed once; merged ranges by table name. A table nested in another is
    counted as part of it, never less than calamine lays out."""
    if b"encryption-data" in zf.read("META-INF/manifest.xml"):
        raise Unreadable(LOCKED, Reason.ENCRYPTED)
    merges: dict[str, list] = {}
    for info in (i for i in zf.infolist() if i.filename == "content.xml"):
        depth, name, merged, total, row, rep, col, rows, cols, tail = 0, "", [], 0, 0, 1, 0, 0, 0, b""
        with zf.open(info) as part:
            while True:
                chunk = part.read(guard.CHUNK)
                data = tail + chunk
                cut = data.rfind(b"<") if chunk else -1
                cut = len(data) if cut < 0 else cut
                for tag, attrs, closed, end in _ODS_TAG.findall(data, 0, cut):
                    if tag and not closed:
                        raise Unreadable(BAD)
                    if tag == b"table-cell" or tag == b"covered-table-cell":
                        n = 1 if col < _MAX_COLS else 0
                        if b"repeated" in attrs or b"spanned" in attrs:
                            n = min(_attr(attrs, b"table:number-columns-repeated"), _MAX_COLS - col)
                            rs, cs = _attr(attrs, b"table:number-rows-spanned"), _attr(attrs, b"table:number-columns-spanned")
                            if rs > 1 or cs > 1:
                                merged.append((row, col, row + rs - 1, col + cs - 1))
                        col += n
                        if n and (b"office:" in attrs or b"table:formula" in attrs) and (col > cols or row + rep > rows):
                            rows, cols = max(rows, row + rep), max(cols, col)
                            if rows * cols > max_cells:
                                raise _too_large(name, rows, cols, max_cells)
                    elif tag == b"table-row":
                        n = min(_attr(attrs, b"table:number-rows-repeated") if b"repeated" in attrs else 1,
                                _MAX_ROWS - total)  # calamine caps rows so
                        row, rep, col, total = total, max(n, 1), 0, total + n
                    elif tag == b"table" and not attrs.endswith(b"/"):
                        if not depth:
                            name, total, row, rep, col, rows, cols = _attr(attrs, b"table:name", None) or "", 0, 0, 1, 0, 0, 0
                            merged = merges[name] = []  # calamine keeps the last table of a name
                        depth += 1
                    elif end:
                        depth = max(depth - 1, 0)
                tail = data[cut:]
                if len(tail) > guard.MAX_TAG:  # a long text or foreign tag; a table tag is never this long
                    if _ODS_TAG.match(tail):
                        raise Unreadable(BAD)
                    tail = b""
                if not chunk:
                    break
    return merges


def _records(part, keep: int = 16):
    """BIFF12 records of a zip part as (type, size, first ``keep`` bytes), read in chunks."""
    buf, pos = b"", 0
    while True:
        if len(buf) - pos < keep + 8:
            buf, pos = buf[pos:] + part.read(guard.CHUNK), 0
        try:
            b, pos = buf[pos], pos + 1
            typ = b & 0x7F
            if b & 0x80:
                typ, pos = typ + ((buf[pos] & 0x7F) << 7), pos + 1
            size, shift = 0, 0
            while shift < 28:  # calamine reads at most four length bytes
                b, pos, size, shift = buf[pos], pos + 1, size + ((buf[pos] & 0x7F) << shift), shift + 7
                if not b & 0x80:
                    break
        except IndexError:
            return
        yield typ, size, buf[pos:pos + min(size, keep)]
        pos += size
        if pos > len(buf):  # skip the rest of a long record
            over, buf, pos = pos - len(buf), b"", 0
            while over > 0:
                more = part.read(min(over, guard.CHUNK))
                if not more:
                    return
                over -= len(more)


def _xlsb(zf: zipfile.ZipFile, max_cells: int) -> dict[str, list]:
    """Each sheet part's records; merged ranges (BrtMergeCell) by sheet name."""
    from defusedxml import ElementTree

    parts = {i.filename.replace("\\", "/").lower(): i for i in zf.infolist()}  # as calamine finds them
    rels, sheets, merges = {}, [], {}
    if "xl/_rels/workbook.bin.rels" in parts:
        for el in ElementTree.fromstring(zf.read(parts["xl/_rels/workbook.bin.rels"])).iter():
            if el.tag.rsplit("}", 1)[-1] == "Relationship":
                rels[el.get("Id")] = el.get("Target", "")
    with zf.open(parts["xl/workbook.bin"]) as part:
        for typ, size, body in _records(part, 4096):
            if typ == 0x0090:  # BrtEndBundleShs
                break
            n = struct.unpack_from("<I", body.ljust(12, b"\0"), 8)[0] if typ == 0x009C else 0xFFFFFFFF
            if n != 0xFFFFFFFF:  # BrtBundleSh: state, tab, relId, name
                rid = body[12:12 + 2 * n].decode("utf-16-le", "replace")
                if size < 12 or len(body) < 16 + 2 * n or rid not in rels:  # calamine would panic
                    raise Unreadable(BAD)
                k = struct.unpack_from("<I", body, 12 + 2 * n)[0]
                sheets.append((body[16 + 2 * n:16 + 2 * (n + k)].decode("utf-16-le", "replace"), f"xl/{rels[rid]}".lower()))
    for name, target in (s for s in sheets if s[1] in parts):  # a missing part: calamine fails → BAD
        row, rows, cols, head, merged = 0, 0, 0, bytearray(), merges.setdefault(name, [])
        with zf.open(parts[target]) as part:
            for typ, size, body in _records(part):
                head[:min(size, 4)] = body[:4]  # calamine's reused buffer
                value = struct.unpack_from("<I", head)[0] if len(head) >= 4 else 0
                if typ == 0x0000:  # BrtRowHdr
                    row = value
                elif typ in _XLSB_CELLS:
                    rows, cols = max(rows, row + 1), max(cols, value + 1)
                    if rows * cols > max_cells:
                        raise _too_large(name, rows, cols, max_cells)
                elif typ == 0x00B0 and size >= 16:  # BrtMergeCell: first row, last row, first col, last col
                    r0, r1, c0, c1 = struct.unpack_from("<4I", body)
                    merged.append((r0, c0, r1, c1))
    return merges


def _clip(ranges, rows: int, cols: int) -> tuple[tuple[int, int, int, int], ...]:
    """Merged ranges whose top-left cell is in the grid (elsewhere they hold no value), cut to
    Excel's sheet; one may reach past the last value (B6:C7 with nothing in row 7)."""
    out = [(r0, c0, min(r1, _MAX_ROWS - 1), min(c1, _MAX_COLS - 1)) for r0, c0, r1, c1 in ranges
           if r0 < rows and c0 < cols and r0 <= r1 and c0 <= c1 and (r0, c0) != (r1, c1)]
    return tuple(out[:rows * cols // 2])  # ranges do not overlap: more is a forged file


class CalamineSource:
    format = "xls"  # also et, ods, xlsb: Book.format says which

    def accepts(self, head: bytes, path: Path) -> bool:
        ext = path.suffix.lower()
        if head[:8] == OLE2_MAGIC:  # an encrypted .xlsx is not ours (the registry names it)
            kind = ole2_kind(path)
            return kind == "xls" or (kind in ("encrypted", "unknown") and ext in _OLE_EXT)
        if head[:4] != ZIP_MAGIC:
            return False
        name_len, extra = struct.unpack_from("<HH", head.ljust(30, b"\0"), 26)
        if head[30:30 + name_len] == b"mimetype" and head[30 + name_len + extra:].startswith(ODS_MIME):
            return True
        try:
            with zipfile.ZipFile(path) as zf:
                names = {n.replace("\\", "/").lower() for n in zf.namelist()}
                return ("xl/workbook.bin" in names and "xl/workbook.xml" not in names) or \
                    ("mimetype" in zf.NameToInfo and zf.read("mimetype")[:46] == ODS_MIME)
        except Exception:  # noqa: BLE001 - a broken zip: the extension decides, read says what is wrong
            return ext in _ZIP_EXT

    def read(self, path: Path, limits) -> Book:
        try:
            if path.stat().st_size > limits.max_file_mb * 1048576:
                raise Unreadable(f"文件过大（{path.stat().st_size / 1048576:.0f} MB，上限 {limits.max_file_mb:g} MB），"
                                 f"请删除多余内容后重新发送", Reason.TOO_LARGE)
            with path.open("rb") as fh:
                head, merges = fh.read(8), None
                if head == OLE2_MAGIC:
                    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                        fmt = _check_ole2(Ole2(data), path, limits)
                elif head[:4] != ZIP_MAGIC:
                    raise Unreadable("这不是 Excel 或 WPS 表格文件（内容无法识别），请另存为 .xlsx 后发送")
            if head[:4] == ZIP_MAGIC:
                guard.check_zip(path, limits)  # sizes, ratio, entities; xlsx-like parts too
                with zipfile.ZipFile(path) as zf:
                    ods = "mimetype" in zf.NameToInfo and zf.read("mimetype")[:46] == ODS_MIME
                    fmt, merges = ("ods", _ods(zf, limits.max_cells)) if ods else ("xlsb", _xlsb(zf, limits.max_cells))
        except Unreadable:
            raise
        except (FileNotFoundError, PermissionError) as exc:
            raise Unreadable(f"无法打开文件（{os_reason(exc)}）", Reason.MISSING) from None
        except Exception:  # noqa: BLE001 - a broken container, chain or record of any kind
            raise Unreadable(BAD) from None
        return _load(path, fmt, merges, limits)


def _check_ole2(ole: Ole2, path: Path, limits) -> str:
    kind = ole.kind(path.suffix.lower())
    if kind == "encrypted":
        raise Unreadable(LOCKED, Reason.ENCRYPTED)
    if kind in ("doc", "wps"):
        what = "WPS 文字文档（.wps）" if kind == "wps" else "旧版 Word 文档（.doc）"
        raise Unreadable(f"这是{what}，不是表格，请另存为 .docx 或 .xlsx 后发送", code="file-legacy-format", kind=what)
    if kind != "xls":
        raise Unreadable("这不是 Excel 或 WPS 表格文件（OLE2 文件中没有工作簿），请另存为 .xlsx 后发送")
    scan_biff(ole.stream(_BOOK), limits.max_cells)
    return "et" if path.suffix.lower() in (".et", ".ett") else "xls"


def _load(path: Path, fmt: str, merges: dict | None, limits) -> Book:
    from python_calamine import CalamineWorkbook

    try:
        with path.open("rb") as fh:  # by content: from_path picks the reader by extension, knows no .et
            book = CalamineWorkbook.from_filelike(fh)
        grids = []
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            rows, cols = (sheet.end[0] + 1, sheet.end[1] + 1) if sheet.end else (0, 0)
            if rows * cols > limits.max_cells:  # the scan missed it: never lay it out from A1
                raise _too_large(name, rows, cols, limits.max_cells)
            ranges = merges.get(name, ()) if merges is not None else \
                [(a[0], a[1], b[0], b[1]) for a, b in sheet.merged_cell_ranges or ()]
            grids.append(Grid(name, cut_cells(sheet.to_python(skip_empty_area=False)), _clip(ranges, rows, cols)))
    except Unreadable:
        raise
    except BaseException as exc:  # noqa: BLE001
        kind = type(exc).__name__
        if not isinstance(exc, Exception) and kind != "PanicException":  # a Rust panic is a BaseException
            raise
        if kind == "PasswordError":
            raise Unreadable(LOCKED, Reason.ENCRYPTED) from None
        raise Unreadable("文件内容损坏，无法解析，请用 Excel 或 WPS 打开后另存为 .xlsx 再发送") from None
    return Book(path, fmt, tuple(grids), reader="calamine")


SOURCE = CalamineSource()
