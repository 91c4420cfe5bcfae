"""The seam between file formats and everything after them: a file becomes a ``Book`` of ``Grid``s.

A ``Grid`` is one sheet, or one Word table with the paragraphs above it as rows; its ``places``
say how the source names a place when that is not Excel's A1 (a Word table's own rows and
columns). Everything after ``sources/`` (scan, check, render) knows nothing of formats. A format is one module in
this package exposing ``SOURCE``, an object with ``format``, ``accepts(head, path)`` and
``read(path, limits)``; ``sources/__init__.py`` keeps the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from ..errors import NetregError

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
HEAD_BYTES = 4096  # what ``accepts`` is shown of a file


@dataclass(frozen=True)
class Grid:
    """One sheet (or one Word table with the paragraphs above it as rows).

    ``cells`` is row-major and keeps the positions Excel shows: ``cells[0][0]`` is A1. Values
    are what a reader gives (str, int, float, bool, date, datetime, None or '').
    ``merged`` holds (first row, first column, last row, last column), 0-based, inclusive:
    a merged value sits in its top-left cell only. ``formulas`` maps 0-based row →
    {0-based column: formula text starting with '='}; formulas are never evaluated.
    ``struck`` holds the 0-based rows struck through from end to end. ``places`` says how the
    source names a place of the grid when that is not Excel's A1 (a Word table: 表格2 第5行
    第9列, ``TablePlaces``); None for a sheet."""

    name: str
    cells: list[list[object]]
    merged: tuple[tuple[int, int, int, int], ...] = ()
    formulas: dict[int, dict[int, str]] = field(default_factory=dict)
    struck: frozenset[int] = frozenset()
    places: "TablePlaces | None" = None


@dataclass(frozen=True)
class TablePlaces:
    """How a document names the places of one of its grids (``Grid.places``): the table's own
    rows and columns, counted from 1 as Word counts them, header rows included (SPEC §3). The
    grid holds the paragraphs above the table first (rows ``0 … top-1``), then the table's
    ``rows`` rows, then (the last table only) the paragraphs after it: a paragraph is in no
    row of the table. A grid column is the table's column (``w:gridSpan`` and ``w:gridBefore``
    counted, a merged cell at its top-left position).

    ``sheet`` is the name issues and records carry (``TableName``: shown as 表格2 第5行 第9列);
    ``row`` maps a 0-based grid row to the table's row; calling it names a place."""

    name: str  # 表格2
    top: int = 0  # 0-based grid row of the table's first row
    rows: int = 0  # the table's rows

    @property
    def sheet(self) -> str:
        from ..model.issues import TableName

        return TableName(self.name)

    def row(self, r: int) -> int | None:
        """The table's row (1-based) of grid row ``r`` (0-based); None for a paragraph."""
        return r - self.top + 1 if self.top <= r < self.top + self.rows else None

    def __call__(self, r: int, c: int) -> str:
        """表格2 第5行 第9列; 表格2 上方的段落 / 表格2 下方的段落 for a paragraph."""
        row = self.row(r)
        if row is None:
            return f"{self.name} {'上方' if r < self.top else '下方'}的段落"
        return f"{self.name} 第{row}行 第{c + 1}列"


@dataclass(frozen=True)
class Book:
    """One file as read: its grids in order, netreg's own metadata when it carries it."""

    path: Path  # as shown to the user, e.g. 包.zip/医学院-附件2.xlsx for an archive member
    format: str  # xlsx | xls | et | ods | xlsb | csv | docx
    sheets: tuple[Grid, ...]
    meta: dict[str, str] = field(default_factory=dict)
    reader: str = ""  # the library that read it (calamine, openpyxl, python-docx, csv)

    def digest(self, skip: tuple[str, ...] = ()) -> str:
        """A fingerprint of what is typed in the grids (not formats, not formula cells, whose
        cached values depend on the program that saved them), sheets named in ``skip`` left out:
        equal for a file and netreg's annotated copy of it, different once someone edits it."""
        import hashlib

        from ..util.text import clean_text

        h = hashlib.sha256()
        for grid in self.sheets:
            if skip and grid.name.startswith(skip):
                continue
            h.update(grid.name.encode() + b"\0")
            for r, row in enumerate(grid.cells):
                formulas = grid.formulas.get(r, {})
                for c, value in enumerate(row):
                    text = clean_text(value)
                    if text and c not in formulas:
                        h.update(f"{r},{c}={text}\0".encode())
        return h.hexdigest()


EXCEL_CELL_CHARS = 32_767  # the most characters an Excel cell holds


class LongText(str):
    """A cell's text cut to Excel's 32,767 characters; ``length`` is how many it had. The
    spreadsheet and Word readers cut at once (``cut_cells``), so that a 50 MB cell never
    travels further than its reader (nor into a record, an issue or a worker's answer); a
    .csv keeps its fields whole (the file size bounds them) and the checks cut those. Either
    way the checks flag it (cell-too-long)."""

    length: int

    def __new__(cls, text: str, length: int) -> "LongText":
        obj = super().__new__(cls, text)
        obj.length = length
        return obj

    def __reduce__(self):
        return LongText, (str(self), self.length)


def cut_text(text: str) -> str:
    """``text``, or a ``LongText`` of its first 32,767 characters when it is longer."""
    return LongText(text[:EXCEL_CELL_CHARS], len(text)) if len(text) > EXCEL_CELL_CHARS else text


def cut_cells(rows: list[list[object]]) -> list[list[object]]:
    """Cut, in place, every text longer than Excel allows in a cell (a grid's rows). A text
    many cells share (openpyxl hands one shared string to each) is cut once, and shared."""
    limit = EXCEL_CELL_CHARS
    done: dict[int, LongText] = {}
    for row in rows:
        for value in row:  # the common case: nothing long, one quick pass over the row
            if type(value) is str and len(value) > limit:
                break
        else:
            continue
        for i, value in enumerate(row):
            if isinstance(value, str) and len(value) > limit and not isinstance(value, LongText):
                cut = done.get(id(value))
                if cut is None:
                    cut = done[id(value)] = cut_text(value)
                row[i] = cut
    return rows


class Reason(StrEnum):
    """Why a file could not be read, for programs (the JSON's ``reason``)."""

    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    TOO_LARGE = "too-large"
    MALICIOUS = "malicious"
    MISSING = "missing"


class Unreadable(NetregError):
    """A file that cannot be read. ``code`` is the issue code to report (file-unreadable,
    file-legacy-format, file-unsupported), ``reason`` the machine-readable kind and ``text``
    one Chinese sentence saying what is wrong (and, where it helps, what to do)."""

    def __init__(self, text: str, reason: Reason = Reason.CORRUPT, code: str = "file-unreadable",
                 *, kind: str = ""):
        super().__init__(text)
        self.text, self.reason, self.code = text, reason, code
        self.kind = kind  # file-legacy-format / file-unsupported: what the file is (旧版 Word 文档（.doc）)


class LimitsLike(Protocol):
    """The bounds checked before a file is parsed (``config.Limits``)."""

    max_file_mb: float
    max_uncompressed_mb: float
    max_compression_ratio: float
    max_cells: int


class Source(Protocol):
    format: str

    def accepts(self, head: bytes, path: Path) -> bool:
        """Whether this reader reads the file: magic bytes first, the extension last."""

    def read(self, path: Path, limits: LimitsLike) -> Book:
        """The file as a Book; raises ``Unreadable`` and nothing else for a bad file."""
