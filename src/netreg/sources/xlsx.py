"""Excel workbooks (.xlsx, .xlsm and their templates) → Book.

Values are read with python-calamine (fast); formulas, netreg's metadata and the sheet parts
are read from the zip by netreg itself (below), so no formula is ever evaluated and no input
is ever written. The guard has checked every part a parser sees before it sees it: the
package is opened once (``guard.GuardedZip``), each part netreg reads is checked whole
the first time it is opened, and every other part before python-calamine or openpyxl is
given the file (``read_xlsx``).

The parts are found as Excel finds them: ``_rels/.rels`` names the workbook part (usually
xl/workbook.xml, but a valid package may keep it at its root or in any folder, under any
name), and the workbook's own relationships name its sheets, relative to its folder.
python-calamine follows ``_rels/.rels`` but expects the workbook's relationships beside a
part named workbook.xml; a package it refuses is read with openpyxl (read-only), which
follows every relationship, with the merged ranges and formulas taken from the sheet XML.

Every scan of the sheet XML here is linear in its size, whatever the file holds: the parts
are streamed in chunks, each pattern is bounded by the tag it sits in ([^<>] classes,
possessive quantifiers), and what follows a tag is searched only up to the next '<'. The
XML parts read as trees (workbook, relationships, styles, custom properties) are streamed
through libxml2 (lxml, entities never resolved, no DTD, no network; the guard has refused
any DOCTYPE/ENTITY), each element dropped once read: a huge part costs time, never memory.
Not through expat (defusedxml): expat 2.5 rescans a token it has not finished on every
16 KB it is fed, so one 10 MB attribute took it 12 s and a 300 MB one would take hours.
openpyxl parses with expat, so a package goes to it only once libxml2 has found every XML
part well-formed and no token in it past ``MAX_TOKEN`` (``_expat_safe``). Nothing is sized
from a count a file declares.
"""

from __future__ import annotations

import codecs
import html
import re
import zipfile
from pathlib import Path

from ..model import forms as F
from ..util.text import clean_text
from . import guard
from .base import EXCEL_CELL_CHARS, ZIP_MAGIC, Book, Grid, Reason, Unreadable, cut_cells, cut_text
from .opc import elements as _elements
from .opc import local as _local
from .opc import main_part
from .opc import named
from .opc import member as _member
from .opc import relationships as _relationships
from .opc import walk as _walk


class XlsxSource:
    format = "xlsx"

    def accepts(self, head: bytes, path: Path) -> bool:
        if not head.startswith(ZIP_MAGIC):
            return False
        try:
            with guard.opened(path) as zf:  # the one ZipFile of this file: read() takes it on
                if _member(zf, "xl/workbook.xml"):
                    return True
                part = workbook_part(zf, SMALL_PART)  # not yet guarded: small parts only
                return part is not None and _is_workbook(zf, part)
        except Exception:  # noqa: BLE001 - a broken zip or part: not ours to read; the registry says what it is
            return False

    def read(self, path: Path, limits) -> Book:
        return read_xlsx(path, limits)


SOURCE = XlsxSource()

# ---------------------------------------------------------------------------- package parts

SMALL_PART = 1 << 20  # bytes of a package part read before the guard has seen the file
_MAIN_TYPES = ("spreadsheetml.sheet.main+xml", "spreadsheetml.template.main+xml",
               "ms-excel.sheet.macroEnabled.main+xml", "ms-excel.template.macroEnabled.main+xml")
_WORKBOOK_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*+:)?+workbook[\s>/]")


def workbook_part(zf: zipfile.ZipFile, max_bytes: int | None = None) -> str | None:
    """The workbook part: the package's officeDocument relationship, else xl/workbook.xml."""
    return main_part(zf, "xl/workbook.xml", max_bytes)


def _is_workbook(zf: zipfile.ZipFile, part: str) -> bool:
    """Whether ``part`` is a spreadsheet's main part (not a Word document's, not an .xlsb's):
    by its content type, else by its root element."""
    for el, _ in _elements(zf, "[Content_Types].xml", SMALL_PART):
        if _local(el.tag) == "Override" and (el.get("PartName") or "").lstrip("/").lower() == part.lower():
            kind = el.get("ContentType") or ""
            return any(kind.endswith(t) for t in _MAIN_TYPES)
    with zf.open(part) as fh:
        return _WORKBOOK_ROOT.search(fh.read(4096)) is not None


def _sheet_parts(zf: zipfile.ZipFile, part: str | None = None) -> dict[str, str]:
    """Sheet name → zip part name, from the workbook part and its relationships."""
    part = part or workbook_part(zf)
    if part is None:
        return {}
    targets = {rid: target for rid, _, target in _relationships(zf, part)}
    parts = {}
    for attrs in named(zf, part, "sheet"):
        rid = next((v for k, v in attrs.items() if _local(k) == "id"), None)
        member = _member(zf, targets.get(rid))
        if member is not None:
            parts[attrs.get("name")] = member
    return parts


def _related(zf: zipfile.ZipFile, part: str | None, kind: str) -> str | None:
    """The first part related to ``part`` by a relationship of ``kind`` (its type's last word)."""
    if part is None:
        return None
    return next((t for _, k, t in _relationships(zf, part) if k.rsplit("/", 1)[-1] == kind), None)


def _custom_props(zf: zipfile.ZipFile) -> dict[str, str]:
    part = _related(zf, "", "custom-properties") or "docProps/custom.xml"
    props: dict[str, list[str]] = {}
    for el, up in _walk(zf, part):
        owner = up[1] if len(up) >= 2 and _local(up[1].tag) == "property" else \
            el if len(up) == 1 and _local(el.tag) == "property" else None
        if owner is None:
            continue
        name = owner.get("name", "")
        if name.startswith(F.META_PREFIX):
            texts = props.setdefault(name[len(F.META_PREFIX):], [])
            if el.text and el is not owner:
                texts.append(el.text)
    return {name: "".join(texts).strip() for name, texts in props.items()}


def _struck_styles(zf: zipfile.ZipFile, workbook: str | None) -> frozenset[int]:
    """Indexes of the cell formats (cellXfs) whose font is struck through."""
    part = _related(zf, workbook, "styles") or "xl/styles.xml"
    if not _strikes(zf, part):
        return frozenset()
    fonts: list[bool] = []
    xfs: list[int] = []
    strike = False
    for el, up in _walk(zf, part):
        name, depth = _local(el.tag), len(up)
        where = _local(up[1].tag) if depth >= 2 else ""
        if name == "strike" and depth == 3 and where == "fonts":
            strike = strike or (el.get("val") or "1").lower() not in ("0", "false")
        elif name == "font" and depth == 2 and where == "fonts":
            fonts.append(strike)
            strike = False
        elif name == "xf" and depth == 2 and where == "cellXfs":
            try:
                xfs.append(int(el.get("fontId") or 0))
            except ValueError:
                xfs.append(-1)
    return frozenset(i for i, font in enumerate(xfs) if 0 <= font < len(fonts) and fonts[font])


def _strikes(zf: zipfile.ZipFile, part: str) -> bool:
    """Whether the styles part holds a <strike> element (most files strike nothing, and
    need no font or format looked at one by one). Parsed by the same parser as the full
    reading (``opc.named``: a small checked part whole, in C), so a malformed part raises
    here just as it would there."""
    return bool(named(zf, part, "strike"))


# ---------------------------------------------------------------------------- sheet XML scan

CHUNK = 1 << 20
LOOKAHEAD = 1 << 18  # a tag is read with at least this much of what follows it (a formula's text)
_PREFIX = rb"(?:[A-Za-z_][\w.-]*+:)?+"
# A cell's start tag; its attributes cannot hold '<' and end at the first '>'.
_CELL = re.compile(rb"<" + _PREFIX + rb"c(?=[\s/>])([^<>]*+)>")
# In a cell, <f> is the first child (CT_Cell: f, v, is): a formula tag right after the cell's
# start tag (whitespace between) belongs to that cell.
_FORMULA = re.compile(rb"<" + _PREFIX + rb"f(?=[\s/>])([^<>]*+)>")
_FORMULA_START = re.compile(rb"<" + _PREFIX + rb"f(?=[\s/>])")
_FORMULA_END = re.compile(rb"</" + _PREFIX + rb"f\s*+>")
_CELL_END = re.compile(rb"\s*+</" + _PREFIX + rb"c\s*+>")
_MERGE = re.compile(rb"<" + _PREFIX + rb"mergeCell(?=[\s/>])([^<>]*+)>")
_REF = re.compile(rb"""(?:^|\s)r\s*+=\s*+["']\$?([A-Z]{1,3}+)\$?([0-9]{1,7}+)["']""")
_RANGE = re.compile(rb"""(?:^|\s)ref\s*+=\s*+["']\$?([A-Z]{1,3}+)\$?([0-9]{1,7}+)"""
                    rb"""(?::\$?([A-Z]{1,3}+)\$?([0-9]{1,7}+))?["']""")
_STYLE = re.compile(rb"""(?:^|\s)s\s*+=\s*+["']([0-9]{1,9}+)["']""")
_SPACE = b" \t\r\n"
# An error cell (t="e") holding its value, not a formula's: <c r="K5" t="e"><v>#NUM!</v></c>.
# calamine gives such a cell as empty; what the unit sees there (#NUM!, #N/A) is kept as text.
_ERROR_CELL = re.compile(rb"<" + _PREFIX + rb"c(?=[\s/>])([^<>]*?\st\s*+=\s*+[\"']e[\"'][^<>]*+)>\s*+<"
                         + _PREFIX + rb"v\s*+>([^<>]{1,64}+)</")


def _column(letters: bytes) -> int:
    """0-based column of A, B, … XFD."""
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _utf8_chunks(fh):
    """The part's bytes in chunks, re-encoded as UTF-8 when the part is UTF-16."""
    head = fh.read(4)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head in (b"<\x00?\x00", b"\x00<\x00?"):
        codec = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else \
            "utf-16-le" if head[0] == 0x3C else "utf-16-be"
        decoder = codecs.getincrementaldecoder(codec)("replace")
        data = head
        while data:
            yield decoder.decode(data).encode("utf-8")
            data = fh.read(CHUNK)
        yield decoder.decode(b"", final=True).encode("utf-8")
        return
    data = head
    while data:
        yield data
        data = fh.read(CHUNK)


class SheetScan:
    """What is read from a sheet's XML beside the values: formulas (row → {col: text}),
    rows struck through, merged ranges (only when asked)."""

    def __init__(self, struck_styles: frozenset[int], merges: bool = False):
        self.struck_styles, self.want_merges = struck_styles, merges
        self.formulas: dict[int, dict[int, str]] = {}
        self.errors: dict[tuple[int, int], str] = {}  # (row, col) → #NUM!… of an error cell holding no formula
        self.merged: list[tuple[int, int, int, int]] = []
        self._rows: dict[int, bool] = {}  # row → every cell holding a value is struck through
        self.plain = False  # no formula, no error cell (``feed_all``)

    @property
    def struck(self) -> frozenset[int]:
        return frozenset(r for r, all_struck in self._rows.items() if all_struck)

    def feed_all(self, data: bytes, plain: bool = False) -> "SheetScan":
        """The scan of a whole part's bytes (as ``read`` makes it of a part it streams: a
        UTF-8 part within LOOKAHEAD is read there in one piece at its end, so here too).
        ``plain``: the guard found every cell tag plain (``guard.plain_cells``): there is no
        formula or error cell to look for."""
        self.plain = plain and not _is_utf16(data[:4])
        if len(data) <= LOOKAHEAD and not _is_utf16(data[:4]):
            self._feed(data, len(data))
            return self
        import io

        return self._read(io.BytesIO(data))

    def read(self, zf: zipfile.ZipFile, part: str) -> "SheetScan":
        with zf.open(part) as fh:
            return self._read(fh)

    def _read(self, fh) -> "SheetScan":
        tail = b""
        chunks = _utf8_chunks(fh)
        while True:
            chunk = next(chunks, b"")
            data = tail + chunk
            # Tags are read up to a '<' at least LOOKAHEAD before the end (none is cut in
            # two, each sees what follows it); the rest waits for the next chunk.
            if not chunk:
                cut = len(data)
            elif len(data) <= LOOKAHEAD:
                cut = 0
            else:
                cut = data.find(b"<", len(data) - LOOKAHEAD)
                if cut < 0:
                    cut = len(data)
                elif _FORMULA_START.match(data, cut):  # a formula waits with its cell's tag
                    cut = max(data.rfind(b"<", 0, cut), 0)
            self._feed(data, cut)
            tail = data[cut:]
            if not chunk:
                return self

    def _feed(self, data: bytes, end: int) -> None:
        if not end:
            return  # nothing before ``end`` to read (a small part's first chunk waits whole)
        if not self.plain and (b"<f" in data or b":f" in data):
            for m in _FORMULA.finditer(data, 0, end):
                self._formula(data, m)
        if self.struck_styles:
            for m in _CELL.finditer(data, 0, end):
                self._strike(data, m)
        if not self.plain and (b't="e"' in data or b"t='e'" in data):
            for m in _ERROR_CELL.finditer(data, 0, end):
                ref = _REF.search(m.group(1))
                if ref is not None and not m.group(1).endswith(b"/"):
                    text = html.unescape(m.group(2).decode("utf-8", "replace")).strip()
                    self.errors[(int(ref.group(2)) - 1, _column(ref.group(1)))] = text
        if self.want_merges and b"mergeCell" in data:
            for m in _MERGE.finditer(data, 0, end):
                ref = _RANGE.search(m.group(1))
                if ref:
                    c0, r0, c1, r1 = ref.groups()
                    r0, c0 = int(r0) - 1, _column(c0)
                    self.merged.append((r0, c0, int(r1) - 1 if r1 else r0, _column(c1) if c1 else c0))

    def _formula(self, data: bytes, m: re.Match) -> None:
        """The formula tag ``m``: placed by the start tag of the cell it opens (just before
        it), its text read up to the next '<', which must close it."""
        gt = m.start() - 1
        while gt >= 0 and data[gt] in _SPACE:
            gt -= 1
        if gt < 0 or data[gt] != 0x3E:  # '>'
            return
        lt = data.rfind(b"<", 0, gt)  # the cell's start tag: back to the '<' before that '>'
        cell = _CELL.match(data, lt) if lt >= 0 else None
        if cell is None or cell.end() != gt + 1 or cell.group(1).endswith(b"/"):
            return
        ref = _REF.search(cell.group(1))
        if ref is None:
            return
        if m.group(1).endswith(b"/"):
            text = b""  # <f t="shared" si="0"/>: a copy of a formula given elsewhere
        else:
            close = data.find(b"<", m.end())
            if close < 0 or not _FORMULA_END.match(data, close):
                return
            text = data[m.end():close]
        formula = html.unescape(text.decode("utf-8", "replace")) if text else ""
        row, col = int(ref.group(2)) - 1, _column(ref.group(1))
        self.formulas.setdefault(row, {})[col] = cut_text("=" + formula) if formula else "=（共享公式）"

    def _strike(self, data: bytes, m: re.Match) -> None:
        attrs = m.group(1)
        if attrs.endswith(b"/") or _CELL_END.match(data, m.end()):
            return  # <c …/> or <c …></c>: a formatted cell holding no value
        ref = _REF.search(attrs)
        if ref is None:
            return
        row = int(ref.group(2)) - 1
        style = _STYLE.search(attrs)
        self._rows[row] = self._rows.get(row, True) and style is not None and int(style.group(1)) in self.struck_styles


def _scan(zf: zipfile.ZipFile, part: str, struck_styles: frozenset[int], merges: bool = False) -> SheetScan:
    return SheetScan(struck_styles, merges).read(zf, part)


# ---------------------------------------------------------------------------- reading

_DAMAGED = "文件内部结构损坏或含有不安全内容，请用 Excel 或 WPS 打开后重新保存再发送"


def _put_errors(cells: list[list], errors: dict[tuple[int, int], str]) -> None:
    """An error cell's text (#NUM!) where calamine gave the cell as empty: what the unit sees
    there is kept, never dropped in silence."""
    for (r, c), text in errors.items():
        if r < len(cells) and c < len(cells[r]) and cells[r][c] in ("", None):
            cells[r][c] = text


def read_xlsx(path: Path, limits) -> Book:
    """Read one workbook: python-calamine, else openpyxl, else (both refuse it) a copy with
    what only describes the sheet repaired (``_repair``). Raises ``Unreadable`` with a
    Chinese reason.

    The package is opened once (``guard.opened``) and checked as it is read: each part
    netreg reads (workbook, relationships, styles, properties, sheets) is checked whole
    the first time it is opened, and the rest (``finish``) before python-calamine or
    openpyxl is given the file, so every part is unpacked once and checked as
    ``guard.check_zip`` checks it."""
    try:
        with guard.opened(path) as zf:
            zf.guard(limits)
            try:
                workbook = workbook_part(zf)
                parts = _sheet_parts(zf, workbook)
                meta = _custom_props(zf)
                struck_styles = _struck_styles(zf, workbook)
                scans, utf16 = {}, False
                for name, part in parts.items():
                    data = zf.part(part)  # checked, and kept when small: unpacked once
                    if data is None:
                        scans[name] = _scan(zf, part, struck_styles)
                        utf16 = utf16 or _utf16(zf, [part])
                    else:
                        scans[name] = SheetScan(struck_styles).feed_all(data, zf.plain_cells(part))
                        utf16 = utf16 or _is_utf16(data[:4])
            except Unreadable:
                raise
            except Exception:  # broken XML, broken zip members
                zf.finish()  # a part the guard refuses says more than the damage it causes here
                raise Unreadable(_DAMAGED) from None
            zf.finish()
            try:
                # calamine reads a UTF-16 sheet as empty, without a word: openpyxl reads it
                book = None if utf16 else _read_calamine(path, limits, meta, scans, zf, parts)
                return book or read_with_openpyxl(path, limits, meta, scans)
            except Unreadable as exc:
                if exc.reason is not Reason.CORRUPT:
                    raise
                refused = exc
    except (zipfile.BadZipFile, OSError, ValueError):  # the package itself cannot be opened
        raise Unreadable(guard.CORRUPT_ZIP) from None
    import tempfile
    from dataclasses import replace

    with tempfile.TemporaryDirectory(prefix="netreg-") as tmp:
        fixed = _repair(path, Path(tmp))
        if fixed is None:
            raise refused
        book = _read_calamine(fixed, limits, dict(meta), scans) or read_with_openpyxl(fixed, limits, dict(meta), scans)
        return replace(book, path=path)


_UNIQUE_COUNT = re.compile(rb"""<(?:[A-Za-z_][\w.-]*+:)?+sst\b[^<>]*?\suniqueCount\s*+=\s*+["']([^"'<>]*+)""")


def _strings_overstated(zf: zipfile.ZipFile) -> bool:
    """Whether a shared-strings part declares more strings than its bytes can hold (each
    takes at least <si/>, 5 bytes). python-calamine reserves room for the declared number
    before reading one: uniqueCount="4294967296" asks for 103 GB and aborts the process,
    beyond any ``except``. openpyxl sizes nothing from it."""
    for info in zf.infolist():
        if not info.filename.lower().endswith("sharedstrings.xml"):
            continue
        kept = zf.part(info) if isinstance(zf, guard.GuardedZip) else None
        if kept is not None:
            head = kept[:4096]
        else:
            with zf.open(info) as fh:
                head = fh.read(4096)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:2] in (b"<\x00", b"\x00<"):
            head = head.decode("utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else
                               "utf-16-le" if head[0] == 0x3C else "utf-16-be", "ignore").encode("utf-8")
        at = head.find(b"uniqueCount")  # the regex from the tag holding its first mention: the same match
        m = _UNIQUE_COUNT.search(head, max(head.rfind(b"<", 0, at), 0)) if at >= 0 else None
        if m is None:
            continue
        digits = m.group(1).strip()
        if not digits.isdigit() or len(digits) > 12 or int(digits) > info.file_size // 5 + 1:
            return True
    return False


def _read_calamine(path: Path, limits, meta: dict[str, str], scans: dict[str, SheetScan],
                   zf: "guard.GuardedZip | None" = None, parts: dict[str, str] | None = None) -> Book | None:
    """The workbook as python-calamine reads it; None when calamine cannot parse it (or must
    not be given it). ``zf``: the package, opened and checked (``guard.GuardedZip``: its
    bytes are read from memory); ``parts``: sheet name → part, to know which sheets hold
    no text past Excel's limit (``GuardedZip.longest_text``)."""
    import io

    from python_calamine import CalamineWorkbook

    if zf is None:
        with zipfile.ZipFile(path) as own:
            if _strings_overstated(own):
                return None
    elif _strings_overstated(zf):
        return None
    data = getattr(zf, "data", None)
    if data is not None:
        data = zf.stored() or data  # each part unpacked once: calamine is given the checked bytes stored
    parts = parts or {}
    grids: list[Grid] = []
    try:
        # By content: calamine's from_path picks the format by extension, and an .xlsx saved
        # under an .xls name (the registry has already checked it is a zip) must still be read.
        with io.BytesIO(data) if data is not None else path.open("rb") as fh:
            book = CalamineWorkbook.from_filelike(fh)
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            if sheet.height * max(sheet.width, 1) > limits.max_cells:
                raise Unreadable(f"工作表“{name}”过大（{sheet.height} 行 × {sheet.width} 列），请删除多余的空行空列",
                                 Reason.TOO_LARGE)
            cells = sheet.to_python(skip_empty_area=False)
            part = parts.get(name)
            if part is None or zf is None or zf.longest_text(part) > EXCEL_CELL_CHARS:
                cut_cells(cells)  # else no text of this sheet can be that long: nothing to cut
            if name == F.META_SHEET:
                for r in cells:
                    if len(r) >= 2 and r[0]:
                        meta.setdefault(str(r[0]).strip(), clean_text(r[1]))
                continue
            scan = scans.get(name)
            if scan is not None and scan.errors:
                _put_errors(cells, scan.errors)
            grids.append(Grid(name, cells, _merged(sheet.merged_cell_ranges),
                              scan.formulas if scan else {}, scan.struck if scan else frozenset()))
    except Unreadable:
        raise
    except BaseException as exc:
        kind = type(exc).__name__
        if not isinstance(exc, Exception) and kind != "PanicException":  # a Rust panic in calamine
            raise  # is a BaseException (pyo3); KeyboardInterrupt and SystemExit are not ours
        if kind == "PasswordError":
            raise Unreadable("文件设置了打开密码（已加密），请取消密码后重新保存", Reason.ENCRYPTED) from None
        return None  # a sound package calamine cannot parse: another reader before giving up
    return Book(path, "xlsx", tuple(grids), meta, reader="calamine")


_DIMENSION = re.compile(rb"<" + _PREFIX + rb"dimension(?=[\s/>])[^<>]*+>")
_MERGE_CELL = re.compile(rb"<" + _PREFIX + rb"mergeCell(?=[\s/>])([^<>]*+)>")


def _valid_range(attrs: bytes) -> bool:
    ref = _RANGE.search(attrs)
    if ref is None:
        return False
    c0, r0, c1, r1 = ref.groups()
    r0, r1 = int(r0), int(r1 or r0)
    c0, c1 = _column(c0), _column(c1 or c0)
    return 1 <= r0 <= r1 <= 1_048_576 and 0 <= c0 <= c1 < 16_384


def _kept_merge(tag: re.Match) -> bytes:
    """A <mergeCell …/> tag as it is when its range is one of a sheet, else nothing."""
    attrs = tag.group(1)
    return tag.group(0) if not attrs.endswith(b"/") or _valid_range(attrs) else b""


def _repair(path: Path, folder: Path) -> Path | None:
    """A copy of the package in ``folder`` whose sheets lack what only describes them and
    that both readers refuse when it is malformed: the declared extent (``<dimension>``,
    which Excel recomputes) and merged ranges that are no range of a sheet (``A5:-1``,
    ``A1:AAAAAAA1``, which Excel drops on opening). None when there is nothing to repair.
    Streamed part by part, so it costs disk, not memory, and no part grows."""
    import shutil

    out = folder / "repaired.xlsx"
    changed = 0
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        sheets = set(_sheet_parts(zin).values())
        for info in zin.infolist():
            with zin.open(info) as src, zout.open(info.filename, "w", force_zip64=True) as dst:
                if info.filename not in sheets:
                    shutil.copyfileobj(src, dst, CHUNK)
                    continue
                tail = b""
                while True:
                    chunk = src.read(CHUNK)
                    data = tail + chunk
                    cut = data.rfind(b"<") if chunk else len(data)
                    if cut < 0 or len(data) - cut > guard.MAX_TAG:
                        cut = len(data)
                    body, n = _DIMENSION.subn(b"", data[:cut])
                    body, m = _MERGE_CELL.subn(_kept_merge, body)
                    changed += n + m
                    dst.write(body)
                    tail = data[cut:]
                    if not chunk:
                        break
    return out if changed else None


def _is_utf16(head: bytes) -> bool:
    return head[:2] in (b"\xff\xfe", b"\xfe\xff") or head in (b"<\x00?\x00", b"\x00<\x00?")


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


def _rstrip(row: list) -> list:
    """``row`` without its trailing empty cells (C-speed: a formatted cell at XFD leaves 16 383)."""
    from itertools import repeat
    from operator import is_not

    if row and row[-1] is None:
        if row.count(None) == len(row):
            return []
        try:
            keep = len(row) - list(map(is_not, reversed(row), repeat(None))).index(True)
        except ValueError:
            keep = 0
        del row[keep:]
    return row


MAX_TOKEN = 1 << 20  # bytes of one attribute value, comment or processing instruction openpyxl may see


def _expat_safe(zf: zipfile.ZipFile) -> None:
    """Raise ``Unreadable`` unless every XML part of the package is well-formed (expat would
    refuse it too) and holds no token expat would take quadratic time over: an attribute
    value, a comment or a processing instruction past ``MAX_TOKEN`` bytes. One libxml2 pass
    per part, linear; only for packages going to openpyxl."""
    for info in zf.infolist():
        if info.is_dir() or not guard.is_xml(info.filename):
            continue
        with zf.open(info) as fh:
            from lxml import etree

            try:
                for event, el in etree.iterparse(fh, events=("end", "comment", "pi"), resolve_entities=False,
                                                 no_network=True, load_dtd=False, huge_tree=True):
                    if event == "end":
                        if len(el.tag) > MAX_TOKEN or any(len(v) > MAX_TOKEN for v in el.attrib.values()):
                            raise Unreadable("文件中有一个长达 1 MB 以上的 XML 标记（正常的 Excel 文件里只有几十个字节），"
                                             "文件已损坏或被篡改，已跳过")
                        el.clear()
                        while el.getprevious() is not None:
                            del el.getparent()[0]
                    elif len(el.text or "") > MAX_TOKEN:
                        raise Unreadable("文件中有一段长达 1 MB 以上的 XML 注释或处理指令，文件已损坏或被篡改，已跳过")
            except etree.XMLSyntaxError:
                raise Unreadable("文件内容损坏，无法解析，请用 Excel 或 WPS 打开后重新保存再发送") from None


def read_with_openpyxl(path: Path, limits, meta: dict[str, str], scans: dict[str, SheetScan] | None = None) -> Book:
    """The second reader, for packages calamine refuses or misreads: openpyxl in read-only
    mode (values), bounded by the same cell limit while it streams; merged ranges (which
    read-only mode lacks), formulas and struck rows come from the sheet XML."""
    import warnings

    import openpyxl

    grids: list[Grid] = []
    try:
        with zipfile.ZipFile(path) as zf:
            _expat_safe(zf)
            parts = _sheet_parts(zf)
            merges = {name: _scan(zf, part, frozenset(), merges=True).merged for name, part in parts.items()}
            # openpyxl yields every row up to the last it meets, empty ones too (a formatted
            # row 99999999999): it is asked no further than the farthest value the guard counts
            last_rows = {name: min(guard.farthest_row(zf, part), limits.max_cells) for name, part in parts.items()}
        with path.open("rb") as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
            for ws in wb.worksheets:
                ws.reset_dimensions()  # WPS may declare A1:A1 for a full sheet
                cells: list[list] = []
                width = empty = 0
                # Empty rows are only made once a row with a value follows them.
                last = last_rows.get(ws.title, limits.max_cells)
                for row in ws.iter_rows(max_row=last, values_only=True) if last else ():
                    row = _rstrip(list(row))
                    if not row:
                        empty += 1
                        continue
                    width = max(width, len(row))
                    if (len(cells) + empty + 1) * width > limits.max_cells:
                        raise Unreadable(f"工作表“{ws.title}”过大（超过 {limits.max_cells} 个单元格的上限），"
                                         "请删除多余的空行空列", Reason.TOO_LARGE)
                    cells.extend([] for _ in range(empty))
                    cells.append(row)
                    empty = 0
                cut_cells(cells)
                if ws.title == F.META_SHEET:
                    for r in cells:
                        if len(r) >= 2 and r[0]:
                            meta.setdefault(str(r[0]).strip(), clean_text(r[1]))
                    continue
                scan = (scans or {}).get(ws.title)
                grids.append(Grid(ws.title, cells, _clip(merges.get(ws.title, ()), len(cells), width),
                                  scan.formulas if scan else {}, scan.struck if scan else frozenset()))
            wb.close()
    except Unreadable:
        raise
    except Exception:  # noqa: BLE001 - neither reader can: the file is damaged
        raise Unreadable("文件内容损坏，无法解析，请用 Excel 或 WPS 打开后重新保存再发送") from None
    return Book(path, "xlsx", tuple(grids), meta, reader="openpyxl")


def _clip(ranges, rows: int, cols: int) -> tuple[tuple[int, int, int, int], ...]:
    """Merged ranges whose top-left cell is in the grid (elsewhere they hold no value)."""
    out = [(r0, c0, r1, c1) for r0, c0, r1, c1 in ranges
           if 0 <= r0 < rows and 0 <= c0 < cols and r0 <= r1 and c0 <= c1 and (r0, c0) != (r1, c1)]
    return tuple(out[:rows * cols // 2])  # ranges do not overlap: more is a forged file


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
