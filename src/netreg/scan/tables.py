"""A Grid → the form tables in it, as located raw rows.

A sheet may hold one form, several stacked, or none; each table is found by its header row
(``headers``), never by sheet name or order. Structure lines (``structure``) are told apart
from data; a value merged down over several data rows is read into each; a lone 类别 column
is split by the form's ``CategorySplit``. Nothing here knows which file format the grid
came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..model import forms as F
from ..sources.base import Book, Grid
from ..util.text import clean_cell, clean_text
from .headers import (
    Vocabulary,
    _text_keys,
    _is_parent,
    _single_category,
    count_scales,
    detect_header,
    header_words,
    vocabulary,
)
from .labelled import Labelled, read_labelled, share_signatures
from .structure import (
    _belongs_below,
    _column_numbers,
    _is_structure,
    _labels,
    _may_say_nothing,
    _says_nothing,
    _totals,
    names_a_form,
)


@dataclass
class RawRow:
    row: int  # Excel row number; in a document's table, the table's row (None: a paragraph)
    cells: dict[str, object]  # column key -> raw value
    extras: dict[int, object] = field(default_factory=dict)  # 0-based column index -> raw value
    formulas: dict[int, str] = field(default_factory=dict)  # 0-based column index -> formula text
    unit: object = None  # the row's own 填报单位 (a 单位 column, a summary's rows)
    # column key -> clean_cell(cells[key]), as scan cleaned it (check_row then need not clean
    # it again); None, or a key missing, where it was not (tests/test_merge_fast.py)
    texts: dict[str, str] | None = field(default=None, compare=False)


@dataclass
class Table:
    """One form found in one grid."""

    sheet: str
    form: F.Form
    header_row: int  # Excel row of the (first) header row (a document table's own row)
    columns: dict[str, int]  # column key -> 0-based column index
    extra_headers: dict[int, str]  # 0-based index -> header text ('' when none)
    rows: list[RawRow] = field(default_factory=list)
    labels: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # 填表人… -> (value, row, col)
    declared_empty: bool = False  # a row says 无
    category_column: int | None = None  # one 类别 column standing for 附件5's two sub-columns
    scales: dict[str, int] = field(default_factory=dict)  # column key -> unit its header gives (（万）)
    unit_column: int | None = None  # a 单位 / 填报单位 column: each row names its unit
    ignore_unheaded: bool = False  # a summary: cells beyond its headed columns are ours (问题…)
    near_miss: bool = False  # two or more distinctive columns of the form, too few to read it (header-mismatch)
    implied: dict[str, object] = field(default_factory=dict)  # column key -> value the title gives every row
    one_per_table: bool = False  # label/value pairs (账号名称：…), one row per table (scan.labelled)
    # _add_row's per-table sets, worked out on its first row: (headed columns, columns never data)
    _columns_used: tuple[frozenset, frozenset] | None = field(default=None, repr=False, compare=False)

    @property
    def missing(self) -> list[F.Column]:
        return [c for c in self.form.data_columns if c.key not in self.columns and c.key not in self.implied]


@dataclass(frozen=True)
class UnitText:
    """Where a 填报单位 (报送单位, 单位名称) label's value was found."""

    text: str
    sheet: str
    row: int  # Excel row
    col: int  # 0-based column


@dataclass(frozen=True)
class SheetScan:
    tables: list[Table]
    unit_text: UnitText | None


@dataclass(frozen=True)
class Ignored:
    """A grid with content that is none of the forms; ``form_like`` when it still carries a
    form's heading (附件N, a form title): a form whose header nobody can match."""

    name: str
    form_like: bool


@dataclass(frozen=True)
class BookScan:
    """What a file holds: its form tables, the 填报单位 it names, the grids with content that
    are none of the forms, and every grid's name in order."""

    path: Path
    format: str
    meta: dict[str, str]
    tables: list[Table]
    unit_text: UnitText | None
    unrecognised: list[Ignored]
    sheets: list[str]
    summary: bool = False  # a netreg summary: its rows name their units
    reader: str = ""  # the library that read the file


UNIT_HEADERS = frozenset({"填报单位", "单位", "单位名称", "报送单位", "所属单位", "部门", "单位部门"})
SUMMARY_SHEETS = ("总览", "问题清单")  # a netreg summary's own sheets beside 附件1…5
SUMMARY_COLUMNS = frozenset({"问题", "来源文件", "原行号"})  # what a summary adds after a form's columns


def is_summary(book: Book) -> bool:
    """A summary netreg wrote (its metadata says so, or it has the summary's own sheets)."""
    names = {g.name for g in book.sheets}
    return book.meta.get("kind") == "summary" or set(SUMMARY_SHEETS) <= names


def scan_book(book: Book, headers: dict | None = None) -> BookScan:
    """Every grid's tables; a netreg summary is read as its units' rows (its 填报单位 column
    names each row's unit; its 问题, 来源文件, 原行号 columns and its own sheets are ours).
    ``headers``: the campaign's own header wordings (netreg.toml [headers])."""
    vocab = vocabulary(header_words(headers))
    summary = is_summary(book)
    tables: list[Table] = []
    unrecognised: list[Ignored] = []
    unit_text = None
    for grid in book.sheets:
        if summary and grid.name in SUMMARY_SHEETS:
            continue
        found = scan_sheet(grid, summary, vocab)
        tables.extend(found.tables)
        unit_text = unit_text or found.unit_text
        if not found.tables:
            texts = [t for r in grid.cells for t in map(clean_text, r) if t]
            if texts:
                unrecognised.append(Ignored(grid.name, any(names_a_form(t) for t in texts[:200])))
    share_signatures(tables)
    return BookScan(book.path, book.format, book.meta, tables, unit_text, unrecognised,
                    [g.name for g in book.sheets], summary, book.reader)


def _ranges(ranges):
    """(first row, first column, last row, last column) of each merged range."""
    yield from ranges or ()


def _merged_by_row(ranges) -> dict[int, dict[int, int]]:
    """0-based row → {first column: last column} of the merged ranges that start on that row."""
    by_row: dict[int, dict[int, int]] = {}
    for r0, c0, _r1, c1 in _ranges(ranges):
        by_row.setdefault(r0, {})[c0] = c1
    return by_row


def _merged_below(ranges, height: int) -> dict[int, dict[int, tuple[int, int]]]:
    """0-based row → {column: (row, column) of the range's top-left cell} for the rows a
    merged range covers below its first (its first column only: a cell merged across
    columns is one value, not several). Bounded by the sheet's rows, and in all by a budget
    of cells, whatever a hostile file declares."""
    below: dict[int, dict[int, tuple[int, int]]] = {}
    budget = 4 * height + 100_000
    for r0, c0, r1, _c1 in _ranges(ranges):
        for r in range(r0 + 1, min(r1, height - 1) + 1):
            below.setdefault(r, {})[c0] = (r0, c0)
            budget -= 1
            if budget <= 0:
                return below
    return below


def _typed(table: Table, cells: list[str], row_formulas: dict | None) -> bool:
    """Something typed in this row besides 序号: a merged value alone makes no data row (a
    range merged on past the last account, or over the template's numbered blank rows)."""
    seq = table.columns.get("seq")
    return bool(row_formulas) or any(c for ci, c in enumerate(cells) if c and ci != seq)


def _fill_merged(grid: list[list], formulas: dict, row: list, cells: list[str], covered: dict, data_from: int):
    """A data cell covered by a merged range shows the range's value (李娜 merged over the three
    accounts she manages): each row gets it, when the range starts among the table's data rows."""
    row, cells = list(row), list(cells)
    for c, (r0, c0) in covered.items():
        if r0 >= data_from and c < len(row) and not cells[c] and c0 < len(grid[r0]):
            row[c] = formulas.get(r0, {}).get(c0, grid[r0][c0])
            cells[c] = clean_text(row[c])
    return row, cells


SHORTCUTS = True  # the per-row shortcuts of scan_sheet (tests/test_merge_fast.py turns them off to compare)


def scan_sheet(sheet: Grid, summary: bool = False, vocab: Vocabulary | None = None) -> SheetScan:
    """Find every form table in a grid, and the 填报单位 it names."""
    vocab = vocab or vocabulary()
    above: list[str] = []  # texts since the last table: a title may name the platform of every row
    name, grid, formulas, merged_ranges = sheet.name, sheet.cells, sheet.formulas, sheet.merged
    # Rows as the source numbers them: Excel's (1-based), or a document table's own rows
    # (Grid.places: 表格2 第5行, the paragraphs above it in none) under the name that says so.
    at = _excel_row
    if sheet.places is not None:
        name, at = sheet.places.sheet, sheet.places.row
    tables: list[Table] = []
    unit_text = None
    pending_labels: dict[str, tuple[str, int, int]] = {}
    current: Table | None = None
    skip_until = -1
    merged = _merged_by_row(merged_ranges)
    below = _merged_below(merged_ranges, len(grid))
    data_from = 0  # first data row (0-based) of the current table
    for ri, row in enumerate(grid):
        if ri <= skip_until:
            continue
        if ri in sheet.struck and current is not None:
            continue  # a row struck through from end to end: withdrawn, not data
        if SHORTCUTS and current is not None and len(row) - row.count("") - row.count(None) == 1 \
                and not formulas.get(ri):
            seq = current.columns.get("seq")
            if seq is not None and seq < len(row) and row[seq] not in ("", None):
                number = clean_cell(row[seq])
                if number.isascii() and number.isdigit():
                    continue  # the numbered blank row below, known before cleaning every cell
        cells = [clean_cell(v) for v in row]
        filled = len(cells) - cells.count("")
        if not filled and not formulas.get(ri):
            continue
        if SHORTCUTS and filled == 1 and current is not None and not formulas.get(ri):
            seq = current.columns.get("seq")
            if seq is not None and seq < len(cells) and cells[seq].isascii() and cells[seq].isdigit():
                # A numbered blank row (the template's): no header, no structure line, no
                # total, nothing merged into it and nothing to add (as the long way finds).
                continue
        nxt = grid[ri + 1] if ri + 1 < len(grid) else None
        # A header names three columns or more: a row with fewer cells filled is none.
        header = detect_header(row, nxt, vocab) if filled >= 3 or not SHORTCUTS else None
        if header:
            form, cols, used, near = header
            category = _single_category(form, cols, cells) if used == 1 else None
            if category is not None:
                cols = {**cols, **{c.key: category for c in form.columns if c.parent}}
            extra = {ci: t for ci, t in enumerate(cells)
                     if t and ci not in cols.values() and not (used == 2 and _is_parent(form, t))}
            if used == 2 and nxt is not None:
                for ci, v in enumerate(nxt):
                    t = clean_text(v)
                    if t and ci not in cols.values() and ci not in extra:
                        extra[ci] = t
            unit_column = next((ci for ci, t in extra.items() if re.sub(r"\s", "", t) in UNIT_HEADERS), None)
            if unit_column is not None:
                del extra[unit_column]
            if summary:
                extra = {ci: t for ci, t in extra.items() if t not in SUMMARY_COLUMNS}
            current = Table(name, form, at(ri), cols, extra, labels=dict(pending_labels), category_column=category,
                            scales=count_scales(form, cols, cells, nxt if used == 2 else None),
                            unit_column=unit_column, ignore_unheaded=summary, near_miss=near,
                            implied=_implied(form, cols, [name, *above[-6:]], cells))
            pending_labels = {}
            above = []
            tables.append(current)
            skip_until = ri + used - 1
            data_from = ri + used
            continue
        if not formulas.get(ri) and _is_structure(cells, current.columns if current is not None else None):
            above.extend(c for c in cells if c)
            labels = _labels(cells, at(ri), merged.get(ri))
            for key in ("填报单位", "报送单位", "单位名称"):
                if key in labels and labels[key][0] and unit_text is None:
                    unit_text = UnitText(labels[key][0], name, labels[key][1], labels[key][2])
            target = current.labels if current is not None and _belongs_below(current.labels, labels) else pending_labels
            for k, v in labels.items():
                target.setdefault(k, v)
            continue
        if current is None:
            above.extend(c for c in cells if c)
            continue
        if ri == data_from and _column_numbers(row):
            continue  # 1 2 3 … under the header: the columns' numbers (栏次), not data
        if _totals(row, cells, formulas.get(ri)):
            continue  # 合计 | | 15000: a sum of the rows above, not a row to register
        if ri in below and _typed(current, cells, formulas.get(ri)):
            row, cells = _fill_merged(grid, formulas, row, cells, below[ri], data_from)
        _add_row(current, row, cells, ri, formulas, at(ri))
    if not tables:  # 账号名称：… 粉丝数：… in a small table: one account, one row
        labelled = read_labelled(sheet, name, at, vocab)
        if labelled is not None:
            tables.append(_labelled_table(labelled))
    return SheetScan(_split_mixed(tables, vocab), unit_text)


def _split_mixed(tables: list[Table], vocab: Vocabulary) -> list[Table]:
    """A table of accounts and groups together (its type column says 公众号 on some rows and
    微信群 on others): the rows of the other kind become a table of the other form, beside it,
    read under the same headers (账号名称 is the group's 群名称, 粉丝数 its 群人数)."""
    accounts, groups = F.MIXED
    out = []
    for table in tables:
        if table.form not in F.MIXED or not table.rows:
            out.append(table)
            continue
        to_groups = table.form is accounts
        pairs = dict(F.MIXED_COLUMNS) if to_groups else {g: a for a, g in F.MIXED_COLUMNS}
        type_key = "platform" if to_groups else "group_type"
        other = [r for r in table.rows if F.mixed_kind(r.cells.get(type_key)) == ("group" if to_groups else "account")]
        if not other:
            out.append(table)
            continue
        target = groups if to_groups else accounts
        keymap = vocab.keymaps[target.id]
        columns = {pairs[k]: ci for k, ci in table.columns.items() if k in pairs}
        headers = {ci: table.form.column(k).label for k, ci in table.columns.items() if k not in pairs and k != "seq"}
        if "seq" in table.columns:
            columns["seq"] = table.columns["seq"]
        extra = {}
        for ci, text in {**table.extra_headers, **headers}.items():
            key = next((keymap[k] for k in _text_keys(text) if k in keymap), None)  # 是否实名 → 附件4's
            if key is not None and key not in columns:
                columns[key] = ci
            else:
                extra[ci] = text
        split = Table(table.sheet, target, table.header_row, columns, extra, labels=table.labels,
                      unit_column=table.unit_column, implied={})
        for raw in other:
            cells = {pairs[k]: v for k, v in raw.cells.items() if k in pairs}
            values = dict(raw.extras)
            values.update({table.columns[k]: v for k, v in raw.cells.items() if k not in pairs and k != "seq"})
            for key, ci in columns.items():
                if ci in values and key not in cells:
                    cells[key] = values.pop(ci)
            extras = {ci: v for ci, v in values.items() if clean_text(v)}
            split.rows.append(RawRow(raw.row, cells, extras, raw.formulas, raw.unit))
        moved = {id(r) for r in other}
        table.rows = [r for r in table.rows if id(r) not in moved]
        if table.rows or table.declared_empty:
            out.append(table)
        out.append(split)
    return out


def _labelled_table(found: Labelled) -> Table:
    """A label/value table (``scan.labelled``) as a table of one row."""
    form, cols = found.form, found.columns
    used = set(cols.values())
    table = Table(found.name, form, found.row, dict(cols), {i: t for i, t in enumerate(found.labels) if i not in used},
                  labels=dict(found.filler), implied=_implied(form, cols, found.titles, found.labels),
                  one_per_table=True)
    values = {key: found.values[i] for key, i in cols.items()}
    for key, value in table.implied.items():
        values.setdefault(key, value)
    extras = {i: v for i, v in enumerate(found.values) if i not in used and clean_text(v)}
    if not extras and not any(clean_text(v) for k, v in values.items() if k not in ("seq", *table.implied)):
        return table  # the labels with nothing typed after them: the form, left blank
    table.rows.append(RawRow(found.row, values, extras))
    return table


def _implied(form: F.Form, cols: dict[str, int], titles: list[str], header: list[str]) -> dict[str, object]:
    """The platform (group type) of every row when the table has no column for it but its
    title, its sheet's name or a header (公众号名称, 微信群名称) names one."""
    out = {}
    for col in form.data_columns:
        if col.key in cols or col.kind not in (F.Kind.PLATFORM, F.Kind.GROUP_TYPE):
            continue
        for text in (*reversed(titles), *(header[ci] for ci in sorted(cols.values()) if ci < len(header))):
            value = F.implied_value(text, col.kind)
            if value is not None:
                out[col.key] = value
                break
    return out


def _excel_row(ri: int) -> int:
    return ri + 1


def _add_row(table: Table, row: list, cells: list[str], ri: int, formulas: dict, number: int | None) -> None:
    """Add grid row ``ri`` (0-based), which the source numbers ``number``, to ``table``."""
    if table._columns_used is None:
        table._columns_used = (frozenset(table.columns.values()),
                               frozenset({table.columns.get("seq"), table.unit_column}))
    used, ignored = table._columns_used
    seq = table.columns.get("seq")
    if table.ignore_unheaded:
        ignored = ignored | (set(range(len(cells))) - used - set(table.extra_headers))
    # A 序号 computed by a formula (=ROW()-4) is no data: 序号 is ignored and renumbered.
    row_formulas = {ci: f for ci, f in formulas[ri].items() if ci not in ignored} if ri in formulas else {}
    data_cells = [ci for ci, c in enumerate(cells) if c and ci not in ignored]
    if row_formulas:
        data_cells = sorted(set(data_cells) | row_formulas.keys())
    if not data_cells:  # blank, or only a 序号; "无" written in the 序号 cell (often merged across)
        if seq is not None and seq < len(cells) and _says_nothing(cells[seq]):
            table.declared_empty = True
        return
    if not row_formulas and all(_may_say_nothing(cells[ci]) and _says_nothing(cells[ci])
                                for ci in data_cells):
        table.declared_empty = True
        return

    n = len(row)
    texts = None
    if row_formulas:
        def raw(ci: int) -> object:
            return row_formulas.get(ci, row[ci] if ci < n else None)

        values = {key: raw(ci) for key, ci in table.columns.items() if ci < n or ci in row_formulas}
    else:  # the common row: no formula, every value straight from the row
        def raw(ci: int) -> object:
            return row[ci] if ci < n else None

        values = {key: row[ci] for key, ci in table.columns.items() if ci < n}
        if SHORTCUTS:
            texts = {key: cells[ci] for key, ci in table.columns.items() if ci < n}
    split = table.form.category
    if table.category_column is not None and split is not None:
        values[split.teacher], values[split.student] = table.form.split_category(raw(table.category_column))
        if texts is not None:
            texts.pop(split.teacher, None)
            texts.pop(split.student, None)
    if table.implied:
        for key, value in table.implied.items():
            values.setdefault(key, value)
    extras = {ci: raw(ci) for ci in data_cells if ci not in used}
    unit = raw(table.unit_column) if table.unit_column is not None else None
    table.rows.append(RawRow(number, values, extras, row_formulas, unit, texts))
