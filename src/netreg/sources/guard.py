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

``check_zip`` makes these checks on a package, part after part. ``GuardedZip`` makes the
same checks as the package is read (the xlsx reader): a file is opened once and each part
unpacked once, checked before any of it reaches a reader, and the parts no reader of
netreg's asked for checked before another library is given the file. A small part is
checked whole, with shortcuts that find the same (``_PartCheck.whole``, ``unpack``;
tests/test_open_book_fast.py holds each against the path it skips).

Every pattern here is linear in what it reads, whatever the part holds (a file nobody here
wrote): character classes stop at the tag's own '<' or '>', quantifiers are possessive (no
backtracking between letters, digits and the rest of a reference), and a reference's
letters and digits are bounded before they become numbers.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import compress
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


ENTITIES = "文件含有 XML 实体声明（DOCTYPE/ENTITY），正常的 Excel 文件不会有，疑似恶意文件"


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
            check_sizes(zf, limits)
            check_package(zf, limits.max_cells if sheets else 1 << 62)
    except Refused as exc:
        raise refusal(exc) from None
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Unreadable(CORRUPT_ZIP) from None


CORRUPT_ZIP = "文件已损坏（压缩包内容不完整或校验失败），请重新保存后发送"


def refusal(exc: Refused) -> Unreadable:
    return Unreadable(str(exc), Reason.MALICIOUS if "实体" in str(exc) else Reason.TOO_LARGE)


def check_sizes(zf: zipfile.ZipFile, limits) -> None:
    """What the central directory declares: the total unpacked size and the compression ratio."""
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > limits.max_uncompressed_mb * 1024 * 1024 or total / packed > limits.max_compression_ratio:
        raise Unreadable(f"文件解压后过大（{total / 1048576:.0f} MB），疑似异常文件，已跳过", Reason.TOO_LARGE)


def check_package(zf: zipfile.ZipFile, max_cells: int) -> None:
    """Stream every part of ``zf``; raise ``Refused`` or ``zipfile.BadZipFile`` (corrupt)."""
    totals = _Totals()
    for info in zf.infolist():
        if not info.is_dir():
            totals.add(_check_part(zf, info, max_cells))
    totals.finish(zf)


def _check_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, max_cells: int, keep: bool = False) -> "_PartCheck":
    """One part streamed through the checks (``keep``: its bytes kept, as stored). A part
    of a package held in memory (``GuardedZip``) and no larger than a chunk is unpacked
    whole (``unpack``) and checked at once (``_PartCheck.whole``)."""
    check = _PartCheck(info, max_cells)
    data = getattr(zf, "data", None)
    if data is not None and info.file_size <= CHUNK:
        raw, check.exact = unpack_exact(data, info)
        if raw is None:  # anything unusual: zipfile reads it, or says what is wrong
            raw = _read_part(zf, info)
        check.whole(raw)
        if keep:
            check.data = raw
        return check
    kept = [] if keep else None
    try:
        with zipfile.ZipFile.open(zf, info) as part:  # the part as stored, never a checked copy
            for chunk, more in _chunks(part, check.xml, kept):
                check.feed(chunk, more)
    except (zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        # corrupt stream, unsupported compression method, an encrypted zip member…
        raise zipfile.BadZipFile(str(exc)) from None
    if kept is not None:
        check.data = b"".join(kept)
    return check


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with zipfile.ZipFile.open(zf, info) as part:
            return part.read()
    except (zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise zipfile.BadZipFile(str(exc)) from None


_LOCAL = struct.Struct("<4s2B4HL2L2H")  # zipfile's local file header


def unpack(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """The part ``info`` of the zip ``data``, unpacked with zlib in one call: the bytes
    ``zipfile`` would give (the same stream, cut at the declared size, its CRC-32 checked),
    or None when anything is unusual (a header that does not match, a flag, a method other
    than stored or deflated, a stream short of its declared size, a CRC that differs):
    then ``zipfile`` reads it, and raises what it raises. A shortcut for small parts of
    small packages, where zipfile's Python costs more than the unpacking."""
    return unpack_exact(data, info)[0]


def unpack_exact(data: bytes, info: zipfile.ZipInfo) -> tuple[bytes | None, bool]:
    """``unpack``, and whether the part is exact: its stored bytes are exactly one stream that
    ends where the part ends, giving exactly the declared size (nothing cut, nothing left
    over), so any zip reader gives these bytes, not only zipfile (``GuardedZip.stored``)."""
    start = info.header_offset
    try:
        head = _LOCAL.unpack_from(data, start)
    except struct.error:
        return None, False
    if head[0] != zipfile.stringFileHeader or info.flag_bits & 0x61 or info.compress_type not in (0, 8):
        return None, False  # encrypted, patched, strongly encrypted; or a method zlib does not speak
    name_len, extra_len = head[10], head[11]
    name = data[start + 30:start + 30 + name_len]
    try:
        shown = _name(name, head[3])
    except UnicodeDecodeError:
        return None, False
    if shown != info.orig_filename:
        return None, False
    begin = start + 30 + name_len + extra_len
    raw = data[begin:begin + info.compress_size]
    if len(raw) != info.compress_size:
        return None, False
    if info.compress_type == 0:
        out = raw[:info.file_size]
        exact = len(raw) == info.file_size
    else:
        try:
            inflate = zlib.decompressobj(-15)
            out = inflate.decompress(raw, info.file_size or 1)  # a max_length of 0 is no limit
        except zlib.error:
            return None, False
        exact = inflate.eof and not inflate.unconsumed_tail and not inflate.unused_data
        if not info.file_size:
            out, exact = b"", exact and not out
    if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        return None, False
    return out, exact


def _name(raw: bytes, flags: int, encoding: str | None = None) -> str:
    """A part's name as zipfile decodes it (an ASCII name at C speed: cp437's codec is Python)."""
    if raw.isascii() and not encoding:
        return raw.decode("ascii")
    return raw.decode("utf-8" if flags & 0x800 else encoding or "cp437")


_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # zipfile's central directory entry
_MAX_VERSION = getattr(zipfile, "MAX_EXTRACT_VERSION", 63)


def plain_directory(data: bytes, encoding: str | None = None) -> tuple[int, list[zipfile.ZipInfo]] | None:
    """The central directory of the zip ``data`` as zipfile reads it (the same ZipInfo
    fields), when the zip is plain: it ends with its end record (no archive comment, no
    Zip64), its directory sits right before that record (nothing prepended, nothing
    between) and no entry has an extra field or a comment. Else None: zipfile reads it,
    and raises what it raises. Small packages open faster so (issue 24)."""
    end = len(data) - _EOCD.size
    if end < 0 or data[end - 20:end - 16] == zipfile.stringEndArchive64Locator:
        return None
    sig, disk, cd_disk, here, total, size, offset, comment = _EOCD.unpack_from(data, end)
    if sig != zipfile.stringEndArchive or disk or cd_disk or here != total or comment or offset + size != end:
        return None
    infos, pos = [], offset
    entry, info_of = _CENTRAL.unpack_from, zipfile.ZipInfo
    try:
        for _ in range(total):
            (sig, create_version, create_system, extract_version, reserved, flags, method, t, d, crc,
             packed, unpacked, name_len, extra_len, comment_len, volume, internal, external, at) = entry(data, pos)
            if sig != zipfile.stringCentralDir or extra_len or comment_len or extract_version > _MAX_VERSION:
                return None
            pos += 46
            name = _name(data[pos:pos + name_len], flags, encoding)
            pos += name_len
            x = info_of(name)
            x.header_offset = at
            x.create_version, x.create_system, x.extract_version, x.reserved = \
                create_version, create_system, extract_version, reserved
            x.flag_bits, x.compress_type, x.CRC, x.compress_size, x.file_size = flags, method, crc, packed, unpacked
            x.volume, x.internal_attr, x.external_attr = volume, internal, external
            x._raw_time = t
            x.date_time = ((d >> 9) + 1980, (d >> 5) & 0xF, d & 0x1F, t >> 11, (t >> 5) & 0x3F, (t & 0x1F) * 2)
            infos.append(x)
    except (struct.error, UnicodeDecodeError, ValueError):
        return None
    if pos != end:
        return None
    if "_end_offset" in zipfile.ZipInfo.__slots__:  # Python 3.12+: where each part's bytes must end
        stop = offset
        for x in sorted(infos, key=lambda x: x.header_offset, reverse=True):
            x._end_offset, stop = stop, x.header_offset
    return offset, infos


class _Totals:
    """What the checks of single parts add up to: the cells of all the sheets, the long
    shared strings; checked against MAX_EXPANDED once every part has been seen."""

    def __init__(self) -> None:
        self.sheets: list[zipfile.ZipInfo] = []  # the parts holding sheetData
        self.cells = 0  # the most cells they may hold values in
        self.long: dict[int, int] = {}  # shared string index -> bytes, for the long ones

    def add(self, check: "_PartCheck") -> None:
        if check.sheet.in_sheet:
            self.sheets.append(check.info)
            self.cells += check.sheet.tags if isinstance(check.sheet, _Bound) else check.sheet.grid.cells
        if check.strings is not None:
            self.long.update(check.strings.long)

    def finish(self, zf: zipfile.ZipFile) -> None:
        if self.long and self.cells * max(self.long.values()) > MAX_EXPANDED:  # else even every cell at the longest fits
            _check_expansion(zf, self.sheets, self.long)


class _PartCheck:
    """The checks on one part, fed its text (UTF-8) in chunks of at most CHUNK bytes as it
    streams past; raises ``Refused``."""

    def __init__(self, info: zipfile.ZipInfo, max_cells: int) -> None:
        self.info, self.max_cells = info, max_cells
        self.xml = is_xml(info.filename)
        self.sheet: "_SheetFeed | _Bound" = _NO_SHEET  # a _SheetFeed once a part is fed or found to be a sheet
        self.strings = _StringSizes() if info.filename.lower().endswith("sharedstrings.xml") else None
        self.run = 0  # bytes since the last '<' (runs shorter than a chunk never matter)
        self.tail = b""  # the end of the previous chunk: a declaration cut in two
        self.data: bytes | None = None
        self.exact = False  # unpacked by ``unpack_exact`` and found exact
        self.plain = False  # a sheet whose cells are all strictly plain (``plain_cells``)

    def whole(self, raw: bytes) -> None:
        """The checks on a whole part (at most CHUNK bytes as stored): what ``feed`` finds
        on it as one chunk and its end, found with less work:

        - no run of text can be longer than the part (at most 1.5 × CHUNK once re-encoded);
        - ``!`` is one byte, found at memory speed: a part without it declares nothing;
        - a sheet whose every cell tag is plain, ``<c r="A1"…`` with one letter and at most
          four digits, holds no value past Z9999 (26 × 9,999 cells): when that is within
          ``max_cells`` no cell is placed one by one (``_bounded``); when every cell tag is
          strictly plain (``plain_cells``), the sheet scan learns so from the same pass."""
        if not self.xml:
            return
        text = _decoded(raw)
        if b"!" in text and any(d in text for d in _DECLARATIONS):  # '!' in any encoding holds 0x21
            raise Refused(ENTITIES)
        if self.strings is not None:
            self.strings.whole(text)
        if b"sheetData" in text:
            self.plain = plain_cells(text)  # one pass for the bound and for xlsx.SheetScan
            if BOUND_ROWS * BOUND_COLS <= self.max_cells and self.plain or _bounded(text, self.max_cells):
                self.sheet = _Bound(len(text) // 9)  # a plain cell tag takes 9 bytes at least
                return
            self.sheet = _SheetFeed()
            for chunk, more in ((text, True), (b"", False)):
                self.sheet.feed(chunk, more)
                if self.sheet.grid.cells > self.max_cells:
                    raise Refused(self.sheet.grid.reason(self.max_cells))

    def feed(self, chunk: bytes, more: bool) -> None:
        if not self.xml:
            return
        first = chunk.find(b"<")
        if first >= 0 and self.run + first > MAX_TEXT:
            raise Refused(_too_long(self.info.filename))
        self.run = self.run + len(chunk) if first < 0 else len(chunk) - chunk.rfind(b"<") - 1
        if self.run > MAX_TEXT:
            raise Refused(_too_long(self.info.filename))
        edge = self.tail + chunk[:_KEEP]
        if (b"<!" in chunk or b"<\x00!" in chunk or b"<!" in edge or b"<\x00!" in edge) and \
                any(d in chunk or d in edge for d in _DECLARATIONS):  # '<!' first: CDATA and comments only
            raise Refused(ENTITIES)
        self.tail = chunk[-_KEEP:] if len(chunk) >= _KEEP else (self.tail + chunk)[-_KEEP:]
        if self.sheet is _NO_SHEET:
            self.sheet = _SheetFeed()
        self.sheet.feed(chunk, more)
        if self.sheet.grid.cells > self.max_cells:
            raise Refused(self.sheet.grid.reason(self.max_cells))
        if self.strings is not None:
            self.strings.feed(chunk, more)


IN_MEMORY = 16 << 20  # a package file this small is read into memory once, and parsed from there
KEEP_PART = 1 << 20  # a checked part this small is kept, so that the readers after the guard never unpack it again
KEEP_TOTAL = 64 << 20  # and no more than this of a package is kept (a reader streams the rest)
PLAIN = True  # a package in memory has its central directory read by ``plain_directory``
STORED_MAX = 8 << 20  # a plain package unpacking to at most this is given to python-calamine stored
_STORED_LOCAL = struct.Struct("<4s5H3L2H")
_STORED_CENTRAL = struct.Struct("<4s6H3L5HLL")


class GuardedZip(zipfile.ZipFile):
    """A package opened once for every reader of a file: the registry's ``accepts``, the
    guard and the reader share it (``opened``), and python-calamine reads its bytes (``data``).

    Until ``guard`` is called it is a plain ZipFile. After, every part is checked whole
    (the checks of ``check_package``) the first time it is opened, before any of it is
    returned: the part a reader asks for is unpacked once, checked, and (when small) handed
    to the reader from memory; ``finish`` checks the parts no reader of netreg asked for
    (python-calamine's shared strings, themes, pictures…) and the shared-string expansion,
    and must pass before any other library is given the package. So each part is unpacked
    and checked once, as ``check_zip`` would, and what a reader opens has been checked.
    A small plain package (``plain_directory``) keeps every checked part, and python-calamine
    is given them stored (``stored``): it inflates nothing again."""

    def __init__(self, file, data: bytes | None = None) -> None:
        self.data = data  # the file's bytes when it is held in memory
        self.plain = False  # its central directory read by ``plain_directory``
        super().__init__(file)
        self.parsed: dict = {}  # what opc has parsed from checked parts (relationships)
        self._limits = None

    def _RealGetContents(self) -> None:
        found = plain_directory(self.data, self.metadata_encoding) if self.data is not None and PLAIN else None
        if found is None:
            return super()._RealGetContents()
        self.start_dir, infos = found
        self._comment = b""
        for x in infos:
            self.filelist.append(x)
            self.NameToInfo[x.filename] = x
        self.plain = True

    @classmethod
    def of(cls, path: Path, data: bytes | None = None) -> "GuardedZip":
        """The package at ``path`` (``data``: its bytes, already read)."""
        path = Path(path)
        if data is None and path.stat().st_size <= IN_MEMORY:
            data = path.read_bytes()
        if data is None:
            return cls(path)
        import io

        return cls(io.BytesIO(data), data)

    def guard(self, limits, *, sheets: bool = True) -> None:
        """Check what the central directory declares; from now on every part opened is
        checked first. Raises ``Unreadable``."""
        check_sizes(self, limits)
        self._limits = limits
        self._max_cells = limits.max_cells if sheets else 1 << 62
        self._checked: dict[int, bytes | None] = {}  # header offset → the part's bytes (None: not kept)
        self._totals = _Totals()
        self._longest: int | None = None
        self._kept = 0  # bytes of the parts kept
        self._exact: set[int] = set()  # header offsets of the parts found exact (``unpack_exact``)
        self._plain: set[int] = set()  # and of the sheets whose cells are all plain (``plain_cells``)
        # a small plain package keeps every part, to be given to python-calamine stored (``stored``)
        self._keep_all = self.plain and sum(i.file_size for i in self.filelist) <= STORED_MAX
        self.parsed = {}

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):
        if mode != "r" or self._limits is None:
            return super().open(name, mode, pwd, force_zip64=force_zip64)
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        data = self._check(info, keep=True)
        if data is not None:
            import io

            return io.BytesIO(data)
        return super().open(info, mode, pwd)

    def longest_text(self, sheet: str) -> int:
        """A bound on the characters of any one text python-calamine can give from the sheet
        part ``sheet``: its own bytes (inline strings, cached formula values), the longest
        shared string's (an <si> element's bytes) and, should calamine find its strings
        under another name, any other XML part's. Every character takes at least one byte,
        and the only entities left (the guard refused declared ones) are shorter than their
        text. Known once ``finish`` has passed."""
        if self._longest is None:
            sheets = {i.filename for i in self._totals.sheets}
            others = max((i.file_size for i in self.infolist() if i.filename not in sheets and is_xml(i.filename)
                          and not i.filename.lower().endswith("sharedstrings.xml")), default=0)
            self._longest = max(others, max(self._totals.long.values(), default=LONG_STRING))
        return max(self.getinfo(sheet).file_size, self._longest)

    def part(self, name: "str | zipfile.ZipInfo") -> bytes | None:
        """The bytes of part ``name`` once checked, when small enough to be kept (else None:
        open it to stream it; None too before ``guard``)."""
        if self._limits is None:
            return None
        return self._check(name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name), keep=True)

    def finish(self) -> None:
        """Check every part not yet opened, then what they add up to. Raises ``Unreadable``."""
        for info in self.infolist():
            if not info.is_dir():
                self._check(info, keep=False)
        try:
            self._totals.finish(self)
        except Refused as exc:
            raise refusal(exc) from None
        except (zipfile.BadZipFile, OSError, ValueError):
            raise Unreadable(CORRUPT_ZIP) from None

    def _check(self, info: zipfile.ZipInfo, keep: bool) -> bytes | None:
        key = info.header_offset
        if key in self._checked:
            return self._checked[key]
        keep = (keep or self._keep_all) and info.file_size <= KEEP_PART and self._kept + info.file_size <= KEEP_TOTAL
        try:
            check = _check_part(self, info, self._max_cells, keep)
        except Refused as exc:
            raise refusal(exc) from None
        except (zipfile.BadZipFile, OSError, ValueError):
            raise Unreadable(CORRUPT_ZIP) from None
        self._totals.add(check)
        self._checked[key] = check.data
        self._kept += len(check.data or b"")
        if check.exact:
            self._exact.add(key)
        if check.plain:
            self._plain.add(key)
        return check.data

    def plain_cells(self, part: str) -> bool:
        """Whether the guard found every cell of sheet ``part`` strictly plain (``plain_cells``:
        no formula, no error cell); False when not known (a part streamed, not yet checked)."""
        return self._limits is not None and self.getinfo(part).header_offset in self._plain

    def stored(self) -> bytes | None:
        """The package again with every part stored (not deflated): the bytes the guard
        unpacked and checked, under the same names in the same order, so that python-calamine
        inflates nothing and each part is unpacked once in all (issue 24). Only for a small
        plain package (``plain_directory``) whose every part is kept and exact
        (``unpack_exact``: the bytes any zip reader gives), with no folder entry, no name
        twice and no flag but UTF-8 names and a data descriptor; else None (give calamine
        ``data``). Call after ``finish``."""
        if not self._keep_all or len(self.NameToInfo) != len(self.filelist):
            return None
        local, central, at = [], [], 0
        for x in self.filelist:
            part = self._checked.get(x.header_offset)
            if part is None or x.header_offset not in self._exact or x.is_dir() or x.flag_bits & ~0x80E:
                return None
            utf8 = x.flag_bits & 0x800
            name = x.orig_filename
            name = name.encode("ascii" if name.isascii() else "utf-8" if utf8 else self.metadata_encoding or "cp437")
            fields = (utf8, 0, 0, 33, x.CRC, len(part), len(part), len(name))  # flags, stored, 1980-01-01
            local += (_STORED_LOCAL.pack(b"PK\x03\x04", 20, *fields, 0), name, part)
            central += (_STORED_CENTRAL.pack(b"PK\x01\x02", 20, 20, *fields, 0, 0, 0, 0, 0, at), name)
            at += 30 + len(name) + len(part)
        keep_heap()
        n = len(self.filelist)
        size = sum(map(len, central))
        # one join, no '+' after it: a concatenation of a copy this large makes the allocator map
        # fresh pages for every file (some 190 page faults, ~0.5 ms a template return, issue 24)
        local += central
        local.append(_EOCD.pack(zipfile.stringEndArchive, 0, 0, n, n, size, at, 0))
        return b"".join(local)


HEAP_MMAP, HEAP_TRIM = 4 << 20, 16 << 20  # glibc's malloc: allocations mapped past this, free heap kept up to this
_heap_kept = False


def keep_heap() -> bool:
    """Have glibc's malloc keep the memory a small package's read frees for the next file
    (mallopt: blocks under HEAP_MMAP from the heap, up to HEAP_TRIM of free heap not given
    back). A read holds the checked parts, their stored copy (``GuardedZip.stored``) and
    python-calamine's own copy of it (some 1 MB for a 300 KB package); with glibc's
    defaults (128 KB, raised only as mapped blocks are freed) that heap top was given back
    after every file and faulted in again: ~245 page faults, some 0.45 ms a template
    return on this VM, a seventh of the read (issue 24). Once a process; nothing on
    another libc. Returns whether it was set (now or before)."""
    global _heap_kept
    if _heap_kept is False:
        _heap_kept = None
        import os

        try:
            if os.confstr("CS_GNU_LIBC_VERSION"):
                import ctypes

                mallopt = ctypes.CDLL(None).mallopt
                _heap_kept = bool(mallopt(-3, HEAP_MMAP) and mallopt(-1, HEAP_TRIM))  # M_MMAP_ and M_TRIM_THRESHOLD
        except (AttributeError, OSError, ValueError):
            pass
    return bool(_heap_kept)


_SESSION: ContextVar[dict | None] = ContextVar("netreg_packages", default=None)


@contextmanager
def session(path: Path | None = None, data: bytes | None = None):
    """Within it, ``opened`` gives one ``GuardedZip`` a path (opened at its first use,
    closed at the end): ``sources.open_book`` reads a file so. ``data``: the bytes of
    ``path``, already read."""
    token = _SESSION.set({"bytes": (str(path), data)} if data is not None else {})
    try:
        yield
    finally:
        for key, zf in _SESSION.get().items():
            if key != "bytes":
                zf.close()
        _SESSION.reset(token)


@contextmanager
def opened(path: Path):
    """The package at ``path`` as a ``GuardedZip``: the session's (left open for the next
    reader), or one of its own, closed on leaving."""
    packages = _SESSION.get()
    if packages is None:
        with GuardedZip.of(path) as zf:
            yield zf
        return
    key = str(path)
    zf = packages.get(key)
    if zf is None:
        known, data = packages.get("bytes", (None, None))
        zf = packages[key] = GuardedZip.of(path, data if known == key else None)
    yield zf


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
            middle = sizes[1:-1]
            if middle and max(middle) + 3 > LONG_STRING:  # the long ones picked at C speed
                at = list(compress(range(len(middle)), map((LONG_STRING - 3).__lt__, middle)))
                self.long.update((first + k, middle[k] + 3) for k in at)
        self.prev = chunk[-2:] if len(chunk) >= 2 else (self.prev + chunk)[-2:]
        if not more:
            self._close()

    def whole(self, text: bytes) -> None:
        """``feed(text, True)`` then ``feed(b"", False)``: the same sizes, in one split."""
        sizes = list(map(len, text.split(b"<si")))
        sizes[0] = 0  # what comes before the first string
        self.index = len(sizes) - 2
        if max(sizes) + 3 > LONG_STRING:
            at = compress(range(len(sizes)), map((LONG_STRING - 3).__lt__, sizes))
            self.long.update((k - 1, sizes[k] + 3) for k in at)

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


def _chunks(fh, xml: bool = True, kept: list | None = None):
    """(chunk, whether more follows) of a part, a UTF-16 one re-encoded as UTF-8 (some
    libraries write sheets so; Excel and openpyxl read them, and they are counted alike).
    ``kept`` collects the bytes as stored."""
    utf16 = None
    while True:
        chunk = fh.read(CHUNK)
        more = bool(chunk)
        if kept is not None and chunk:
            kept.append(chunk)
        if xml:
            if utf16 is None:
                utf16 = _utf16_decoder(chunk)
            if utf16:
                chunk = utf16.decode(chunk, final=not more).encode("utf-8")
        yield chunk, more
        if not more:
            return


def _decoded(raw: bytes) -> bytes:
    """A whole part's text as ``_chunks`` gives it (a UTF-16 part re-encoded as UTF-8)."""
    utf16 = _utf16_decoder(raw)
    return utf16.decode(raw, final=True).encode("utf-8") if utf16 else raw


BOUND_ROWS, BOUND_COLS = 9_999, 26
# A cell tag that is not plain: no r="…" first, or one of more than one letter or four
# digits (or lowercase, '$', spaces…). Each alternative is bounded: linear.
_NOT_PLAIN = re.compile(rb'<c(?! r="[A-Z][0-9]{1,4}+")[\s/>]')
_PREFIXED = re.compile(rb':c[\s/>]')  # <x:c …>: a cell with a namespace prefix
# A cell tag that is not strictly plain: not <c r="A1"> with at most s="…" and a t="…" that
# is no error, then at once a value (<v>, <is>), its end (</c>) or self-closed. Bounded: linear.
_NOT_PLAIN_CELL = re.compile(rb'<c(?! r="[A-Z][0-9]{1,4}+"(?: s="[0-9]{1,9}+")?+(?: t="(?:s|n|b|d|str|inlineStr)")?+'
                             rb'(?:/>|><[vi/]))[\s/>]')
_PREFIXED_CELL = re.compile(rb':[cf][\s/>]')  # <x:c …>, <x:f …>: a cell or a formula with a namespace prefix


def plain_cells(text: bytes) -> bool:
    """Whether every cell tag of the sheet ``text`` is strictly plain (``_NOT_PLAIN_CELL``) and
    no cell or formula tag has a prefix. Then no formula tag opens right after a cell's start
    tag and no cell is an error cell (t="e"): ``xlsx.SheetScan`` has nothing to look for
    there. And every cell is plain as ``_bounded`` wants it: within A1:Z9999."""
    return _NOT_PLAIN_CELL.search(text) is None and _PREFIXED_CELL.search(text) is None


def _bounded(text: bytes, max_cells: int) -> bool:
    """Whether every cell of the sheet ``text`` surely lies within A1:Z9999 and that many
    cells are within ``max_cells``: then ``_Grid`` needs not place them one by one (it
    could only find the farthest value there). Rows do not matter: a cell with its own
    reference is placed by it, and every cell here has one."""
    return BOUND_ROWS * BOUND_COLS <= max_cells and _NOT_PLAIN.search(text) is None and \
        _PREFIXED.search(text) is None


class _Bound:
    """What ``_SheetFeed`` tells of a sheet ``_bounded`` has cleared: it is a sheet; its
    cells fit; ``tags`` (what the shared-string expansion is bounded by) is at least how
    many cell tags it has: no more cells can refer to a shared string."""

    in_sheet = True

    def __init__(self, tags: int) -> None:
        self.grid = _Grid()
        self.tags = tags

    def feed(self, chunk: bytes, more: bool) -> None:
        pass


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


class _NoSheet:
    """What ``_PartCheck`` tells of a part not (yet) fed nor found to hold sheetData."""

    in_sheet = False


_NO_SHEET = _NoSheet()


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
