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
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from . import guard
from .base import ZIP_MAGIC, Book, Grid, Reason, TablePlaces, Unreadable, cut_cells

MAX_TABLES = 1000  # the notice has five; SPEC §7 lists "a .docx with 10 000 tables" as hostile

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _TBL, _TR, _TC, _BODY = (_W + t for t in ("p", "tbl", "tr", "tc", "body"))
_T, _TAB, _PTAB, _BR, _CR, _NBH = (_W + t for t in ("t", "tab", "ptab", "br", "cr", "noBreakHyphen"))
_TEXT = {_T: "", _TAB: "\t", _PTAB: "\t", _NBH: "-", _CR: "\n", _BR: "\n"}
_RPR, _STRIKES = _W + "rPr", frozenset((_W + "strike", _W + "dstrike"))
_TCPR, _TRPR, _SPAN, _VMERGE, _HMERGE, _BEFORE = (
    _W + t for t in ("tcPr", "trPr", "gridSpan", "vMerge", "hMerge", "gridBefore"))
_VAL, _TYPE = _W + "val", _W + "type"
# Elements that may wrap blocks, rows or cells: content controls, custom XML, tracked changes.
_WRAPPERS = frozenset(_W + t for t in ("sdt", "sdtContent", "customXml", "ins", "moveTo", "smartTag"))
_INSIDE = _WRAPPERS | {_TBL, _TR, _TC}  # what holds the paragraphs of a cell
_OFF = ("0", "false", "off", "none")

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
        try:
            guard.check_zip(path, limits, sheets=False)
        except Unreadable as exc:
            if exc.reason is Reason.MALICIOUS:  # the guard's sentence speaks of Excel
                raise Unreadable("Word 文件含有 XML 实体声明（DOCTYPE/ENTITY），正常的 Word 文件不会有，"
                                 "疑似恶意文件，已跳过", Reason.MALICIOUS) from None
            raise
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
        events = etree.iterparse(document, events=("end",), tag=(_P, _TBL, _TR, _TC),
                                 resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
        for _, el in events:
            tag = el.tag
            if tag == _TC:  # counted as parsed, before a huge row is complete
                self.tcs += 1
                self._take(0)
                continue
            parent = el.getparent()
            if tag == _TR:
                tbl = _home(el)
                if tbl is None or tbl.tag != _TBL or not _top(tbl):
                    continue  # a row of a nested table: read with its cell
                self._row(tbl, el)
            elif parent.tag != _BODY and not _top(el):
                continue  # a paragraph of a cell or a text box
            elif tag == _P:
                self._take(1)  # empty paragraphs count too: they cost time
                if len(el):
                    text = _paragraph(el)[0]
                    if text:
                        self.above.append([text])
            else:
                self._close(el)
            el.clear()  # drop what has been read: the previous siblings are done with
            while el.getprevious() is not None:
                del parent[0]
        if events.root is None or events.root.find(_BODY) is None:
            raise ValueError("no w:body")
        if self.above and self.grids:
            self.grids[-1]["cells"].extend(self.above)
        elif self.above:
            self.grids.append({"name": "正文", "cells": self.above, "merged": [], "struck": set(),
                               "top": 0, "rows": 0})
        return [Grid(g["name"], cut_cells(g["cells"]), tuple(sorted(g["merged"])), struck=frozenset(g["struck"]),
                     places=TablePlaces(g["name"], g["top"], g["rows"]))
                for g in self.grids]

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
        self._start(tbl)
        rows, top = self.rows, self.top
        r = top + len(rows)
        row: dict[int, str] = {}
        rows.append(row)
        trpr = _props(tr, _TRPR)
        col = _int(next((c for c in trpr if c.tag == _BEFORE), None), 0) if trpr is not None else 0
        still: dict[int, list[int]] = {}
        flags: list[bool] = []
        last = None  # the anchor of the previous cell of this row (for w:hMerge)
        for tc in _cells(tr):
            tcpr = _props(tc, _TCPR)
            props = {c.tag: c for c in tcpr} if tcpr is not None else {}
            span = max(_int(props.get(_SPAN), 1), 1)
            vmerge, hmerge = props.get(_VMERGE), props.get(_HMERGE)
            text, struck = _cell(tc)
            if vmerge is not None and vmerge.get(_VAL) != "restart" and col in self.open:
                anchor = self.open[col]  # no w:val, or "continue": the merge above goes on
                anchor[2] = r
                still[col] = anchor
            elif hmerge is not None and hmerge.get(_VAL) != "restart" and last is not None:
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
