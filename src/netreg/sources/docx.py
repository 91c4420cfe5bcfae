"""Word documents (.docx): every table of the body becomes a ``Grid``, like a sheet.

Each body table (document order) is a grid named 表格1, 表格2, …: first the non-empty paragraphs
since the previous table, one single-cell row each (附件N, the title, 填报单位：…, 填表人：…), then
the table's rows. Paragraphs after the last table go to the last grid; a document without
tables gives one grid 正文 of its paragraphs, so that nothing is skipped in silence. Each grid's
``places`` (``TablePlaces``) name a place as Word does: 表格2 第5行 第9列, the table's own rows
(header rows included) and grid columns, the paragraphs above it in no row.

Tables are read from the XML (``w:gridSpan``, ``w:vMerge``, ``w:gridBefore``), not from
python-docx's ``row.cells``, which repeats a merged cell in every position it covers: a merged
value sits once, top-left, and its range goes to ``Grid.merged``. document.xml is streamed
(each top-level paragraph and table row is dropped once read), so memory stays bounded by one
row. lxml is imported inside ``read`` only (start-up time); the document part is found
through the package's relationships (``opc.main_part``), as Word finds it.

Shortcuts (issue 24; ``SHORTCUTS = False`` reads as described above, and
tests/test_docx_fast.py holds every shortcut against that path):

- the package is opened once (``guard.opened``) and every part checked in order before any is
  read, as ``guard.check_zip`` checks it; the document part comes from that check, unpacked once;
- a document part of at most ``TREE_BYTES`` is parsed whole (same parser options) and walked
  in C (``etree.iterwalk``) with the same handler; one that does not parse is streamed again,
  so that what the stream would have said first (a table too large) is still said first;
- in a top-level table whose rows, cells and paragraphs sit where they should (``_Reader._table``),
  each row is read by one tag-filtered pass in C (``_fast_row``); a row holding anything else
  (strike-through, w:gridBefore, a paragraph or cell not directly in its cell or row: content
  controls, nested tables, text boxes) is read by the general code.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from . import guard
from .base import ZIP_MAGIC, Book, Grid, Reason, TablePlaces, Unreadable, cut_cells

MAX_TABLES = 1000  # the notice has five; SPEC §7 lists "a .docx with 10 000 tables" as hostile
SHORTCUTS = True  # the shortcuts above (tests/test_docx_fast.py turns them off to compare)
TREE_BYTES = 2 << 20  # a document part this large at most is parsed whole (its tree takes up to ~12× its size)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _TBL, _TR, _TC, _BODY = (_W + t for t in ("p", "tbl", "tr", "tc", "body"))
_T, _TAB, _PTAB, _BR, _CR, _NBH = (_W + t for t in ("t", "tab", "ptab", "br", "cr", "noBreakHyphen"))
_TEXT = {_T: "", _TAB: "\t", _PTAB: "\t", _NBH: "-", _CR: "\n", _BR: "\n"}
_TABS = _W + "tabs"  # a paragraph's tab stops (w:pPr/w:tabs/w:tab): settings, not text
_RPR, _STRIKE, _DSTRIKE = _W + "rPr", _W + "strike", _W + "dstrike"
_STRIKES = frozenset((_STRIKE, _DSTRIKE))
_TCPR, _TRPR, _SPAN, _VMERGE, _HMERGE, _BEFORE = (
    _W + t for t in ("tcPr", "trPr", "gridSpan", "vMerge", "hMerge", "gridBefore"))
_VAL, _TYPE = _W + "val", _W + "type"
# Elements that may wrap blocks, rows or cells: content controls, custom XML, tracked changes.
_WRAPPERS = frozenset(_W + t for t in ("sdt", "sdtContent", "customXml", "ins", "moveTo", "smartTag"))
_INSIDE = _WRAPPERS | {_TBL, _TR, _TC}  # what holds the paragraphs of a cell
_OFF = ("0", "false", "off", "none")
# What one pass over a row yields (``_fast_row``): cells, paragraphs, what makes text, what a
# cell's properties say, and what sends the row to the general code.
_ROW_TAGS = (_TC, _P, _T, _TAB, _PTAB, _BR, _CR, _NBH, _SPAN, _VMERGE, _HMERGE, _STRIKE, _DSTRIKE, _BEFORE)
_BLOCKS = (_P, _TBL, _TR, _TC)
_PLAIN_TAGS, _RARE = _ROW_TAGS[:3], _ROW_TAGS[3:]  # a row holding none of _RARE: _fast_row of _PLAIN_TAGS
_NONE = object()  # no paragraph (or cell) yet: no element is it
_PARSER = None

_CORRUPT = "Word 文件已损坏，无法打开，请用 Word 或 WPS 重新保存为 .docx 后发送"
_TOO_BIG = "Word 文件内容过大，无法读取，请删除多余内容后重新发送"


class DocxSource:
    format = "docx"

    def accepts(self, head: bytes, path: Path) -> bool:
        """A zip holding word/document.xml; a broken zip named .docx too (its error names Word)."""
        if not head.startswith(ZIP_MAGIC):
            return False
        try:
            with zipfile.ZipFile(path) as zf:
                return any(name.lower() == "word/document.xml" for name in zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return Path(path).suffix.lower() in (".docx", ".docm", ".dotx", ".dotm")

    def read(self, path: Path, limits) -> Book:
        path = Path(path)
        try:
            size = path.stat().st_size
        except OSError:
            raise Unreadable("文件不存在或无法读取，请检查文件后重新发送", Reason.MISSING) from None
        if size > limits.max_file_mb * 1024 * 1024:
            raise Unreadable(f"Word 文件过大（{size / 1048576:.0f} MB，上限 {limits.max_file_mb:g} MB），"
                             "请删除图片等多余内容后重新发送", Reason.TOO_LARGE)
        if not SHORTCUTS:
            return self._read_streamed(path, limits)
        try:
            with guard.opened(path) as zf:
                zf.guard(limits, sheets=False)
                zf.finish()  # every part checked, in order, before any is read: as guard.check_zip
                grids = self._walk(zf, limits)
        except Unreadable as exc:
            raise _word(exc) from None
        except (zipfile.BadZipFile, OSError, ValueError):  # the package itself cannot be opened
            raise Unreadable(guard.CORRUPT_ZIP) from None
        return Book(path, "docx", tuple(grids), meta={}, reader="lxml")

    @staticmethod
    def _walk(zf, limits) -> list[Grid]:
        """The grids of a checked package: its document part parsed whole when small, else streamed."""
        try:
            from .opc import main_part

            part = main_part(zf, "word/document.xml")
            if part is None:
                raise ValueError("no document part")
            data = zf.part(part)
            if data is None and zf.getinfo(part).file_size <= TREE_BYTES:
                with zf.open(part) as fh:
                    data = fh.read()
            if data is not None:
                grids = _Reader(limits.max_cells).walk_bytes(data)
            else:
                with zf.open(part) as document:
                    grids = _Reader(limits.max_cells).walk(document)
        except Unreadable:
            raise
        except MemoryError:
            raise Unreadable(_TOO_BIG, Reason.TOO_LARGE) from None
        except Exception:  # noqa: BLE001 - zipfile, lxml: many kinds for a broken package
            raise Unreadable(_CORRUPT, Reason.CORRUPT) from None
        return grids

    def _read_streamed(self, path: Path, limits) -> Book:
        """The general path: the package checked by ``guard.check_zip``, then the document streamed."""
        try:
            guard.check_zip(path, limits, sheets=False)
        except Unreadable as exc:
            raise _word(exc) from None
        try:
            with zipfile.ZipFile(path) as zf, _main_part(zf) as document:
                grids = _Reader(limits.max_cells).walk(document)
        except Unreadable:
            raise
        except MemoryError:
            raise Unreadable(_TOO_BIG, Reason.TOO_LARGE) from None
        except Exception:  # noqa: BLE001 - zipfile, lxml: many kinds for a broken package
            raise Unreadable(_CORRUPT, Reason.CORRUPT) from None
        return Book(path, "docx", tuple(grids), meta={}, reader="lxml")


def _word(exc: Unreadable) -> Unreadable:
    """The guard's refusal, said of a Word file (its sentence for entities speaks of Excel)."""
    if exc.reason is Reason.MALICIOUS:
        return Unreadable("Word 文件含有 XML 实体声明（DOCTYPE/ENTITY），正常的 Word 文件不会有，"
                          "疑似恶意文件，已跳过", Reason.MALICIOUS)
    return exc


def _main_part(zf: zipfile.ZipFile):
    """The document part (word/document.xml, or wherever the package's officeDocument
    relationship points), found as Word finds it, opened to be streamed: never read whole.
    (python-docx's package reader found it too, at 138 ms to import in each worker and 9 ms
    a file, and held every part in memory.)"""
    from .opc import main_part

    part = main_part(zf, "word/document.xml")
    if part is None:
        raise ValueError("no document part")
    return zf.open(part)


def _int(element, default: int) -> int:
    try:
        return default if element is None else max(int(element.get(_VAL, default)), 0)
    except (TypeError, ValueError):
        return default


def _props(element, tag):
    """The properties child (w:trPr, w:tcPr, w:rPr): the schema puts it among the first two
    children, so only those are looked at (``find`` is slow)."""
    return next((child for child in element[:2] if child.tag == tag), None)


def _home(el):
    """The nearest ancestor of ``el`` that is not a wrapper (w:body for a top-level block)."""
    el = el.getparent()
    while el is not None and el.tag in _WRAPPERS:
        el = el.getparent()
    return el


def _top(el) -> bool:
    home = _home(el)
    return home is not None and home.tag == _BODY


def _cells(tr):
    for child in tr:
        if child.tag == _TC:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _cells(child)


def _paragraph(p) -> tuple[str, int, int]:
    """Text of a paragraph (trailing whitespace stripped), its runs holding text and how many of
    those are struck through. Paragraphs nested in it (text boxes) are left out."""
    parts: list[str] = []
    runs = struck = 0
    nested = False
    for el in p.iter():  # one pass over everything: faster than iter(tags) or find()
        tag = el.tag
        if tag not in _TEXT:
            nested = nested or (tag == _P and el is not p)
            continue
        if tag == _TAB and el.getparent().tag == _TABS:
            continue
        if nested:
            owner = el.getparent()
            while owner is not None and owner.tag != _P:
                owner = owner.getparent()
            if owner is not p:
                continue
        if tag == _T:
            text = el.text or ""
            parts.append(text)
            if text.strip():
                runs += 1
                rpr = _props(el.getparent(), _RPR)
                if rpr is not None and any(c.tag in _STRIKES and (c.get(_VAL) or "1").lower() not in _OFF
                                           for c in rpr):
                    struck += 1
        elif tag != _BR or el.get(_TYPE, "textWrapping") == "textWrapping":  # not a page break
            parts.append(_TEXT[tag])
    return "".join(parts).rstrip(), runs, struck


def _cell(tc) -> tuple[str, bool]:
    """A cell's text (its paragraphs, nested tables' included, joined with newlines; empty
    paragraphs at either end dropped) and whether all of it is struck through."""
    lines: list[str] = []
    runs = struck = 0
    stack = [iter(tc)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif child.tag == _P:
            text, r, s = _paragraph(child)
            lines.append(text)
            runs, struck = runs + r, struck + s
        elif child.tag in _INSIDE:  # a nested table, a content control…
            stack.append(iter(child))
    filled = [i for i, line in enumerate(lines) if line]
    return ("\n".join(lines[filled[0]:filled[-1] + 1]) if filled else ""), 0 < runs == struck


def _fast_row(tr, tags=_ROW_TAGS):
    """The cells of row ``tr`` as ``_Reader._lay`` takes them, read in one tag-filtered pass
    in C, when the row is plain enough for it: every w:tc within it a child of the row, every
    w:p within a cell a child of its cell, no w:gridBefore, no strike-through anywhere in it.
    Then, as ``_row`` reads it: its cells are the row's w:tc children; a cell's paragraphs,
    its w:p children (none nested in another); a paragraph's text, its text elements in order
    (each inside it: the paragraph before it in document order, holding no other); no run is
    struck; span and merges from the cell's own properties (``_props``). Else None.
    ``tags``: ``_PLAIN_TAGS`` for a row holding none of ``_RARE`` (cells, paragraphs, w:t
    only: the pass over fewer tags is the quicker)."""
    cells: list = []
    lines = parts = None
    tc = p = _NONE
    span, vmerge, hmerge = 1, None, None
    for el in tr.iter(tags):
        tag = el.tag
        if tag == _T:
            if el.getparent().getparent() is not p and not _within(el, p, tr):
                return None
            parts.append(el.text or "")
        elif tag == _P:
            if el.getparent() is not tc:
                return None
            if parts is not None:
                lines.append("".join(parts).rstrip())
            parts, p = [], el
        elif tag == _TC:
            if el.getparent() is not tr:
                return None
            if lines is not None:
                cells.append((span, vmerge, hmerge, _text(lines, parts), False))
            tc, p, lines, parts = el, _NONE, [], None
            span, vmerge, hmerge = 1, None, None
        elif tag in _TEXT:
            if tag == _TAB and el.getparent().tag == _TABS:
                continue
            if not _within(el, p, tr):
                return None
            if tag != _BR or el.get(_TYPE, "textWrapping") == "textWrapping":  # not a page break
                parts.append(_TEXT[tag])
        elif tag in _STRIKES or tag == _BEFORE:
            return None
        elif tc is not _NONE and el.getparent() is _props(tc, _TCPR):  # the cell's own w:gridSpan, w:vMerge…
            if tag == _SPAN:
                span = max(_int(el, 1), 1)
            elif tag == _VMERGE:
                vmerge = el.get(_VAL) != "restart"
            else:
                hmerge = el.get(_VAL) != "restart"
    if lines is not None:
        cells.append((span, vmerge, hmerge, _text(lines, parts), False))
    return cells


def _text(lines: list[str], parts) -> str:
    """A cell's text from its paragraphs' (``parts``: the last one's, not yet joined), as ``_cell`` makes it."""
    if parts is not None:
        lines.append("".join(parts).rstrip())
    if len(lines) == 1:
        return lines[0]
    filled = [i for i, line in enumerate(lines) if line]
    return "\n".join(lines[filled[0]:filled[-1] + 1]) if filled else ""


def _within(el, p, tr) -> bool:
    """Whether ``el`` lies inside paragraph ``p`` (else it is outside every paragraph of the
    row: ``_fast_row`` has found no paragraph but its cells' own)."""
    el = el.getparent()
    while el is not None and el is not tr:
        if el is p:
            return True
        el = el.getparent()
    return False


class _Reader:
    def __init__(self, max_cells: int):
        self.max_cells = max_cells
        self.cells = self.tcs = 0  # grid positions laid out; w:tc elements parsed
        self.grids: list[dict] = []
        self.above: list[list[object]] = []  # paragraph rows waiting for the next table
        self.table = None  # the top-level w:tbl being read

    def _take(self, n: int) -> None:
        self.cells += n
        if self.cells > self.max_cells or self.tcs > self.max_cells:
            raise Unreadable(f"Word 文件中的表格过大（超过 {self.max_cells} 个单元格的上限），"
                             "请删除多余的表格或行后重新发送", Reason.TOO_LARGE)

    def walk(self, document) -> list[Grid]:
        """The grids of ``document`` (the document part, a binary file streamed)."""
        from lxml import etree

        # huge_tree: a text past libxml2's 10 MB is read (and cut, ``cut_cells``); the guard
        # has refused entity declarations and texts past guard.MAX_TEXT.
        events = etree.iterparse(document, events=("end",), tag=_BLOCKS,
                                 resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
        for _, el in events:
            if self._end(el):
                parent = el.getparent()
                el.clear()  # drop what has been read: the previous siblings are done with
                while el.getprevious() is not None:
                    del parent[0]
        return self._grids(events.root)

    def walk_bytes(self, data: bytes) -> list[Grid]:
        """The grids of a document part held whole: parsed at once (the parser ``walk``
        streams with) and walked in C, each element handled where it ends as ``walk``
        handles it, but a top-level table's rows (``_table``). A part that does not parse is
        streamed by ``walk``, which says what it meets first."""
        import io

        from lxml import etree

        global _PARSER
        if _PARSER is None:
            _PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
        try:
            root = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError:
            return _Reader(self.max_cells).walk(io.BytesIO(data))
        walker = etree.iterwalk(root, events=("start", "end"), tag=_BLOCKS)
        for event, el in walker:
            if event == "end":
                self._end(el)
            elif el.tag == _TBL:
                parent = el.getparent()
                if parent is not None and (parent.tag == _BODY or _top(el)) and self._table(el):
                    walker.skip_subtree()  # its rows are read; its end closes it
        return self._grids(root)

    def _end(self, el) -> bool:
        """Handle the end of a block (w:p, w:tbl, w:tr, w:tc); whether it was read (and may go)."""
        tag = el.tag
        if tag == _TC:  # counted as parsed, before a huge row is complete
            self.tcs += 1
            self._take(0)
            return False
        parent = el.getparent()
        if tag == _TR:
            tbl = _home(el)
            if tbl is None or tbl.tag != _TBL or not _top(tbl):
                return False  # a row of a nested table: read with its cell
            self._row(tbl, el)
        elif parent.tag != _BODY and not _top(el):
            return False  # a paragraph of a cell or a text box
        elif tag == _P:
            self._take(1)  # empty paragraphs count too: they cost time
            if len(el):
                text = _paragraph(el)[0]
                if text:
                    self.above.append([text])
        else:
            self._close(el)
        return True

    def _grids(self, root) -> list[Grid]:
        if root is None or root.find(_BODY) is None:
            raise ValueError("no w:body")
        if self.above and self.grids:
            self.grids[-1]["cells"].extend(self.above)
        elif self.above:
            self.grids.append({"name": "正文", "cells": self.above, "merged": [], "struck": set(),
                               "top": 0, "rows": 0})
        return [Grid(g["name"], cut_cells(g["cells"]), tuple(sorted(g["merged"])), struck=frozenset(g["struck"]),
                     places=TablePlaces(g["name"], g["top"], g["rows"]))
                for g in self.grids]

    def _table(self, tbl) -> bool:
        """Read the rows of top-level table ``tbl`` (a parsed tree) as the handler of their
        ends would, when its every child is a row or holds no block (then no other block ends
        within it, but the cells of its rows); False, having done nothing, when not.
        Each row is read by ``_fast_row``, or by ``_row`` when that declines it; its cells
        (w:tc, nested tables' too) are counted first, as their ends come before the row's."""
        rows = []
        for child in tbl:
            if child.tag == _TR:
                rows.append(child)
            elif next(child.iter(_BLOCKS), None) is not None:
                return False
        rare = set()  # the rows holding a merge, a break, strike-through…: read by _fast_row, or by _row
        for el in tbl.iterdescendants(_RARE):
            while el.getparent() is not tbl:
                el = el.getparent()
            rare.add(el)
        for tr in rows:
            if tr not in rare:
                cells = _fast_row(tr, _PLAIN_TAGS)
                if cells is not None:
                    self.tcs += len(cells)
                    self._take(0)
                    self._plain(tbl, [cell[3] for cell in cells])
                    continue
            cells = _fast_row(tr)
            if cells is None:
                self.tcs += sum(1 for _ in tr.iter(_TC))
                self._take(0)
                self._row(tbl, tr)
            else:
                self.tcs += len(cells)
                self._take(0)
                self._lay(tbl, 0, cells)
        return True

    def _start(self, tbl) -> None:
        if tbl is self.table:
            return
        if len(self.grids) >= MAX_TABLES:
            raise Unreadable(f"Word 文件中的表格超过 {MAX_TABLES} 个，不像是登记表，"
                             "请只保留附件1–附件5 的表格后重新发送", Reason.TOO_LARGE)
        self.table = tbl
        self.grid = {"name": f"表格{len(self.grids) + 1}", "cells": self.above, "merged": [], "struck": set(),
                     "top": len(self.above), "rows": 0}
        self.grids.append(self.grid)
        self.above, self.top, self.width = [], len(self.grid["cells"]), 0
        self.rows: list[dict[int, str]] = []  # column → text, for the positions holding a value
        self.anchors: list[list[int]] = []  # [first row, first col, last row, last col], grid rows
        self.open: dict[int, list[int]] = {}  # column → vertical merge still open at that column

    def _row(self, tbl, tr) -> None:
        trpr = _props(tr, _TRPR)
        before = _int(next((c for c in trpr if c.tag == _BEFORE), None), 0) if trpr is not None else 0
        cells = []
        for tc in _cells(tr):
            tcpr = _props(tc, _TCPR)
            props = {c.tag: c for c in tcpr} if tcpr is not None else {}
            vmerge, hmerge = props.get(_VMERGE), props.get(_HMERGE)
            cells.append((max(_int(props.get(_SPAN), 1), 1),
                          None if vmerge is None else vmerge.get(_VAL) != "restart",
                          None if hmerge is None else hmerge.get(_VAL) != "restart", *_cell(tc)))
        self._lay(tbl, before, cells)

    def _lay(self, tbl, col: int, cells) -> None:
        """Lay out one row of ``tbl`` from grid column ``col``: its cells as (span, vertical
        merge, horizontal merge, text, struck), a merge None when absent, else whether it
        continues (any w:val but "restart")."""
        self._start(tbl)
        rows, top = self.rows, self.top
        r = top + len(rows)
        row: dict[int, str] = {}
        rows.append(row)
        still: dict[int, list[int]] = {}
        flags: list[bool] = []
        last = None  # the anchor of the previous cell of this row (for w:hMerge)
        for span, vmerge, hmerge, text, struck in cells:
            if vmerge and col in self.open:
                anchor = self.open[col]  # no w:val, or "continue": the merge above goes on
                anchor[2] = r
                still[col] = anchor
            elif hmerge and last is not None:
                anchor = last
                anchor[3] = col + span - 1
            else:
                anchor = [r, col, r, col + span - 1]
                self.anchors.append(anchor)
                row[col] = ""
                if vmerge is not None:
                    still[col] = anchor
            if text:  # text in a covered cell is kept, added to the merged value
                flags.append(struck)
                home = rows[anchor[0] - top]
                home[anchor[1]] = f"{home[anchor[1]]}\n{text}" if home[anchor[1]] else text
            last = anchor
            col += span
            if col > self.max_cells:
                self._take(col)
        self.open = still
        self.width = max(self.width, col)
        if self.cells + len(rows) * max(self.width, 1) > self.max_cells:
            self._take(len(rows) * max(self.width, 1))
        if flags and all(flags):
            self.grid["struck"].add(r)

    def _plain(self, tbl, texts: list[str]) -> None:
        """``_lay`` for a row of plain cells (no span, no merge, none struck): each cell its
        own column from the first; none can become a merged range (the row leaves no vertical
        merge open, and takes none), so none is kept as an anchor."""
        self._start(tbl)
        rows = self.rows
        rows.append(dict(enumerate(texts)))
        col = len(texts)
        if col > self.max_cells:
            self._take(col)
        self.open = {}
        self.width = max(self.width, col)
        if self.cells + len(rows) * max(self.width, 1) > self.max_cells:
            self._take(len(rows) * max(self.width, 1))

    def _close(self, tbl) -> None:
        self._start(tbl)  # a table without rows
        width, cells = self.width, self.grid["cells"]
        self._take(len(self.rows) * max(width, 1))
        for row in self.rows:
            dense: list[object] = [""] * width
            for c, value in row.items():
                dense[c] = value
            cells.append(dense)
        self.grid["rows"] = len(self.rows)
        self.grid["merged"].extend(tuple(a) for a in self.anchors if a[2] > a[0] or a[3] > a[1])
        self.table = None


SOURCE = DocxSource()
