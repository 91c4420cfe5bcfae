"""A label/value form, one account (group, website…) per table: 账号名称：… 粉丝数：… in the cells
of a small table, as some schools' Word notices lay out a 备案表 (SPEC §3, issue 26 item 5c).

Each label is read as a header and its value as that column's cell of one data row: the labels
together choose the form as a header row would (``detect_header``), so one table is one row of
the right 附件. A pair is either one cell (账号名称：信工之声, several pairs allowed, split at
runs of spaces or line breaks) or a label cell and the value in the cell after it (after its
merged range). The value's own place in the table is kept: the table's name carries, per
column of the row, the (row, column) where that value was typed (``TableName.cells``), so that
a problem is reported where the unit typed it. The signature line (填表人：… 联系电话：…) is
read from the paragraphs around the table, or from a row of the table that opens with 填表人.

Only grids whose source numbers places as a table's own (``Grid.places``: a Word table) are
read this way; a sheet laid out so stays ``sheet-ignored``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ..model import forms as F
from ..model.issues import TableName
from ..sources.base import Grid
from ..util.cells import col_letter
from ..util.text import clean_cell
from .headers import Vocabulary, _names_any_column, detect_header
from .structure import _is_structure, _labels

_SEGMENTS = re.compile(r"\s{2,}|\n|\t")
_FILLER = re.compile(r"^\s*(填表人|联系人|单位负责人)")
MIN_PAIRS = 3  # fewer is a note, not a form


class Pair:
    __slots__ = ("label", "value", "row", "col")

    def __init__(self, label: str, value: object, row: int, col: int):
        self.label, self.value, self.row, self.col = label, value, row, col


def _label(text: str, vocab: Vocabulary) -> str | None:
    """``text`` as a column's label (账号名称, 粉丝数：), or None."""
    text = text.strip().rstrip(":：").strip()
    return text if text and "\n" not in text and len(text) <= 20 and _names_any_column(text, vocab) else None


def _in_cell(text: str, vocab: Vocabulary) -> list[tuple[str, str]] | None:
    """账号名称：信工之声  粉丝数：5230 → [(账号名称, 信工之声), (粉丝数, 5230)]; None when a part
    is no 'label：value'."""
    out = []
    for part in filter(None, (p.strip() for p in _SEGMENTS.split(text))):
        label, colon, value = part.partition("：") if "：" in part else part.partition(":")
        if not colon:
            if out:  # the value goes on (a line break inside it)
                out[-1] = (out[-1][0], f"{out[-1][1]}\n{part}".strip())
                continue
            return None
        if _label(label, vocab) is None:
            return None
        out.append((label.strip(), value.strip()))
    return out or None


def _row_pairs(row: list, r: int, vocab: Vocabulary, ends: dict[int, int]) -> list[Pair]:
    """The pairs of one table row (``ends``: first column of a range merged on this row → last)."""
    cells = [clean_cell(v) for v in row]
    pairs: list[Pair] = []
    ci = 0
    while ci < len(cells):
        text = cells[ci]
        if not text:
            ci += 1
            continue
        said = re.split(r"[:：]", text, maxsplit=1)
        label = _label(text, vocab) if len(said) == 1 or not said[1].strip() else None
        if label is not None:  # a label cell: its value is in the next cell
            vi = ends.get(ci, ci) + 1
            value = row[vi] if vi < len(row) else None
            if vi < len(cells) and cells[vi] and not re.search(r"[:：]", cells[vi]) \
                    and _label(cells[vi], vocab) is not None:
                return []  # label beside label: a header row, not pairs
            pairs.append(Pair(label, value, r, min(vi, max(len(row) - 1, 0)) if vi < len(row) else vi))
            ci = ends.get(vi, vi) + 1
            continue
        inside = _in_cell(text, vocab) if ("：" in text or ":" in text) else None
        if inside is None:
            return []  # a cell of other text: not a row of pairs
        pairs.extend(Pair(label, value, r, ci) for label, value in inside)
        ci = ends.get(ci, ci) + 1
    return pairs


@dataclass
class Labelled:
    """What a label/value table holds: its form and columns as a header row would give them
    (column i of the one row is the i-th pair), its one row, where each value was typed."""

    name: TableName  # the table, its cells moved to where each value was typed
    form: F.Form
    row: int  # the table's row of the first pair: the one row's number
    columns: dict[str, int]  # column key -> index of its pair
    labels: list[str]  # every pair's label, in order
    values: list[object]  # every pair's value, as typed
    titles: list[str]  # texts around the pairs (a title may give the platform)
    filler: dict[str, tuple]  # 填表人… -> (value, row, col), as structure._labels gives them


def read_labelled(sheet: Grid, name: str, at: Callable[[int], int | None], vocab: Vocabulary) -> Labelled | None:
    """The pairs of a label/value grid, or None when the grid is not one."""
    if sheet.places is None:
        return None
    ends: dict[int, dict[int, int]] = {}
    for r0, c0, _r1, c1 in sheet.merged:
        ends.setdefault(r0, {})[c0] = c1
    pairs: list[Pair] = []
    titles: list[str] = [sheet.name]
    filler: dict[str, tuple] = {}
    for ri, row in enumerate(sheet.cells):
        cells = [clean_cell(v) for v in row]
        if not any(cells):
            continue
        first = next(c for c in cells if c)
        if at(ri) is None or _FILLER.match(first):  # a paragraph, or the table's signature row
            if _is_structure(cells) or _FILLER.match(first):
                for k, v in _labels(cells, at(ri), ends.get(ri)).items():
                    filler.setdefault(k, v)
            else:
                titles.append(" ".join(c for c in cells if c))
            continue
        found = _row_pairs(row, ri, vocab, ends.get(ri, {}))
        if found:
            pairs.extend(found)
        elif sum(1 for c in cells if c) == 1:
            titles.append(first)  # a title row inside the table
        else:
            return None  # a row of other things: some other kind of table
    if len(pairs) < MIN_PAIRS:
        return None
    labels = [p.label for p in pairs]
    header = detect_header(labels, None, vocab)
    if header is None or header.near_miss:
        return None
    first_row = at(pairs[0].row)
    # Where each value was typed: the one row's column i is the table's cell (r, c), 1-based.
    moved = TableName(name, {(first_row, col_letter(i)): (at(p.row), p.col + 1) for i, p in enumerate(pairs)})
    return Labelled(moved, header.form, first_row, dict(header.columns), labels, [p.value for p in pairs],
                    titles, filler)


def share_signatures(tables: list) -> None:
    """Tables of one account (group…) each share the document's signature line: typed once
    (above the first table or below the last), it belongs to every one of them."""
    mine = [t for t in tables if getattr(t, "one_per_table", False)]
    shared: dict = {}
    for t in mine:
        for k, v in t.labels.items():
            shared.setdefault(k, v)
    for t in mine:
        for k, v in shared.items():
            t.labels.setdefault(k, v)
