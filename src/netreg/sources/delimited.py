"""One form exported as text: .csv, .txt or .tsv, separated by commas, tabs or semicolons.

Excel and WPS in China write GBK/GB18030 without a BOM ("CSV (逗号分隔)", "文本文件(制表符分隔)"),
LibreOffice and newer Excel UTF-8 with a BOM, Excel's "Unicode 文本" UTF-16 with a BOM (tabs).
The bytes are decoded strictly: utf-8-sig, else gb18030; a file that is neither is refused.
``csv.Sniffer`` guesses wrong on Chinese text, so each candidate delimiter parses the first
records and the one giving the same column count ≥ 2 on most of them wins (comma when none
does). Values stay the strings as typed ('' for empty); short rows are padded with '' so
the grid is a rectangle, as a sheet is.

Bounded before parsing: the file size, then the number of fields the text can hold at most
(delimiters + line breaks + 1) against ``max_cells``; a single field of any length (even past
Excel's 32,767 characters) is kept as typed, for the checks to flag. Measured here: a 40 MB
one-line file is read in about 1 s with about 200 MB peak; 40 MB of ``a,`` is refused at once.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from itertools import islice
from pathlib import Path

from ..util.oserror import os_reason
from .base import OLE2_MAGIC, ZIP_MAGIC, Book, Grid, Reason, Unreadable

EXTENSIONS = (".csv", ".txt", ".tsv")
DELIMITERS = (",", "\t", ";")
SNIFF_CHARS, SNIFF_RECORDS = 1 << 16, 20
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # a line with its end, as csv wants it
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")  # never in a text export (tab, CR, LF, FF are)


class DelimitedSource:
    format = "csv"

    def accepts(self, head: bytes, path: Path) -> bool:
        if path.suffix.lower() not in EXTENSIONS or head[:8] == OLE2_MAGIC or head[:4] == ZIP_MAGIC:
            return False
        return head.startswith(_UTF16_BOMS) or b"\0" not in head

    def read(self, path: Path, limits) -> Book:
        try:
            size = path.stat().st_size
            if size > limits.max_file_mb * 1048576:
                raise Unreadable(f"文件过大（{size / 1048576:.0f} MB，上限 {limits.max_file_mb:g} MB），"
                                 f"请只导出需要报送的表格", Reason.TOO_LARGE)
            text = _decode(path.read_bytes())
        except OSError as exc:
            raise Unreadable(f"无法打开文件（{os_reason(exc)}）") from None
        if not text.strip():
            raise Unreadable("文件是空的（没有任何内容），请重新导出后发送")
        delimiter = sniff(text, default="\t" if path.suffix.lower() == ".tsv" else ",")
        # At most one field per delimiter or record: checked before any row is made.
        lines = text.count("\n") + text.count("\r") - text.count("\r\n") + (not text.endswith(("\n", "\r")))
        bound = text.count(delimiter) + lines
        if bound > limits.max_cells:
            raise _too_large(bound, limits.max_cells)
        if '"' in text:  # quoted fields: csv, fed line by line (a StringIO would copy the text 4 bytes a char)
            if csv.field_size_limit() <= len(text):  # raised, never lowered: a long field is kept
                csv.field_size_limit(len(text) + 1)
            try:
                rows = list(csv.reader((m.group() for m in _LINE.finditer(text)), delimiter=delimiter))
            except csv.Error as exc:
                raise Unreadable(f"文件内容无法按表格解析（{exc}），请重新导出后发送") from None
        else:  # what csv would do, without copying a long line or field
            lines = (text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text).split("\n")
            rows = [line.split(delimiter) for line in (lines[:-1] if lines[-1] == "" else lines)]
        width = max(map(len, rows), default=0)
        if len(rows) * width > limits.max_cells:
            raise _too_large(len(rows) * width, limits.max_cells)
        cells = [row + [""] * (width - len(row)) if len(row) < width else row for row in rows]
        return Book(path, "csv", (Grid(path.stem, cells),), reader="csv")


def _decode(data: bytes) -> str:
    """Strict utf-8-sig, else gb18030 (GBK is a subset); UTF-16 when it opens with its BOM."""
    if data.startswith(_UTF16_BOMS):
        encodings = ("utf-16",)
    else:
        if b"\0" in data:
            raise Unreadable("这不是文本格式的表格（内容是二进制数据），请用 Excel 或 WPS 另存为 .xlsx 后发送")
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Unreadable("文件的文字编码无法识别（既不是 UTF-8 也不是 GBK），请用 Excel 或 WPS 另存为 .xlsx 后发送")
    text = text.removeprefix("\ufeff")  # a GB18030 BOM decodes to U+FEFF
    sample = text[:SNIFF_CHARS]
    if len(_CONTROL.findall(sample)) > len(sample) // 100:
        raise Unreadable("这不是文本格式的表格（内容是二进制数据），请用 Excel 或 WPS 另存为 .xlsx 后发送")
    return text


def sniff(text: str, default: str = ",") -> str:
    """The delimiter whose first records most often share one column count ≥ 2 (ties: more
    columns, then comma, tab, semicolon); ``default`` when none gives two columns."""
    sample = text[:SNIFF_CHARS]
    best, choice = (0, 0), default
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            counts = [len(row) for row in islice(reader, SNIFF_RECORDS + 1) if row]
        except csv.Error:
            continue
        if len(sample) < len(text) and len(counts) > 1:
            counts.pop()  # the last record may be cut by the sample
        columns, seen = max(Counter(c for c in counts if c >= 2).items(), key=lambda kv: (kv[1], kv[0]),
                            default=(0, 0))
        if (seen, columns) > best:
            best, choice = (seen, columns), delimiter
    return choice


def _too_large(cells: int, limit: int) -> Unreadable:
    return Unreadable(f"文件内容过多（约 {cells} 个单元格，超过 {limit} 个的上限），请只导出需要报送的表格",
                      Reason.TOO_LARGE)


SOURCE = DelimitedSource()
