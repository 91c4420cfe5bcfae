"""Tables of a row per unit or per file (merge's overview, status, validate's files), drawn
exactly as rich draws a ``Table``, faster.

rich lays out and renders every cell through its general machinery (a Padding around a Text,
wrapped, split into lines, cropped, aligned): about 0.9 ms a row, so 0.3 CPU-s for a 300-unit
overview and a second for 1,000 units, more than reading a returned file. ``QuickTable`` is a
``rich.table.Table``: rich still measures the columns and draws the title; only the drawing of
the rows is replaced, and only for the plain case (the default heavy-headed box, one cell of
padding, no column styles, no footer, no row lines). A cell that fits its column on one line
(almost every cell) becomes its three segments directly; any other cell (wrapped, folded,
markup, spans, tabs, control characters) is drawn by rich's own code, and a table outside
the plain case is drawn entirely by rich. ``tests/test_quick_table.py`` compares the output,
escape codes included, with rich's ``Table`` on generated tables.
"""

from __future__ import annotations

from copy import copy

from rich.cells import cell_len
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

_NULL = Style.null()
MEASURE_ALL = 8  # a column of this many cells or fewer is measured cell by cell


class QuickTable(Table):
    def _plain_case(self) -> bool:
        box = self.box
        return (box is not None and self.show_header and not self.show_footer and self.show_edge
                and not self.show_lines and not self.leading and not self.row_styles
                and self.style in (None, "", "none") and self.border_style in (None, "", "none") and tuple(self.padding) == (0, 1, 0, 1) and self.pad_edge
                and bool(box.head_vertical.strip()) and bool(box.mid_vertical.strip())
                and bool(box.foot_vertical.strip())
                and all(c.style in (None, "", "none") and not c.highlight and c.vertical == "top"
                        and c.justify in ("left", "right", "center") for c in self.columns)
                and not any(row.end_section for row in self.rows))

    def _measure_column(self, console, options, column):
        """rich's measure of a column is the largest of its cells' (narrowest, widest) widths:
        measured on the header, every cell with markup or styles inside, and of the plain
        one-line cells only the widest and the one with the widest word, it is the same."""
        cells = column._cells
        if len(cells) <= MEASURE_ALL:
            return super()._measure_column(console, options, column)
        keep: list = []
        widest = longest_word = None
        top = word_top = -1
        for cell in cells:
            plain = _plain(cell)
            if plain is None or not plain.isprintable():
                keep.append(cell)
                continue
            width = cell_len(plain)
            if width > top:
                top, widest = width, cell
            word = max(map(cell_len, plain.split()), default=width)
            if word > word_top:
                word_top, longest_word = word, cell
        keep += [c for c in (widest, longest_word) if c is not None]
        reduced = copy(column)
        reduced._cells = keep
        return super()._measure_column(console, options, reduced)

    def _render(self, console, options, widths):
        if not self._plain_case():
            yield from super()._render(console, options, widths)
            return
        from rich.table import pick_bool

        get_style = console.get_style
        box = self.box.substitute(options, safe=pick_bool(self.safe_box, console.safe_box))
        new_line = Segment.line()
        border = _NULL
        yield Segment(box.get_top(widths), border)
        yield new_line
        columns = self.columns
        header_style = get_style(self.header_style or "")
        heads = [self._cell(console, options, c.header, w, c, header_style + get_style(c.header_style or ""))
                 for c, w in zip(columns, widths)]
        yield from self._lines(heads, widths, [header_style + get_style(c.header_style or "") for c in columns],
                               (box.head_left, box.head_vertical, box.head_right), bottom=True)
        yield Segment(box.get_row(widths, "head", edge=True), border)
        yield new_line
        n = len(self.rows)
        cells_by_column = [c._cells for c in columns]
        for index, row in enumerate(self.rows):
            row_style = _NULL if row.style is None else get_style(row.style)
            cells = [self._cell(console, options, cells_by_column[ci][index] if index < len(cells_by_column[ci]) else "",
                                w, c, row_style)
                     for ci, (c, w) in enumerate(zip(columns, widths))]
            edge = (box.foot_left, box.foot_vertical, box.foot_right) if index == n - 1 else \
                (box.mid_left, box.mid_vertical, box.mid_right)
            yield from self._lines(cells, widths, [row_style] * len(columns), edge, bottom=False)
        yield Segment(box.get_bottom(widths), border)
        yield new_line

    @staticmethod
    def _lines(cells: list, widths: list[int], styles: list[Style], edge: tuple[str, str, str], bottom: bool):
        """A row's lines: cells aligned (top, or bottom for the header) and joined by the box;
        as rich, the blank lines are in the row's style, but a row of empty cells gets one
        unstyled line."""
        tallest = max(len(c) for c in cells)
        height = max(1, tallest)
        left, divider, right = (Segment(t, _NULL) for t in edge)
        if any(len(c) != height for c in cells):
            shaped = []
            for c, w, s in zip(cells, widths, styles):
                blank = [[Segment(" " * w, s)]] * (tallest - len(c))
                c = blank + c if bottom else c + blank
                shaped.append(c + [[Segment(" " * w)]] * (height - len(c)))
            cells = shaped
        new_line = Segment.line()
        last = len(cells) - 1
        for line_no in range(height):
            yield left
            for ci, cell in enumerate(cells):
                yield from cell[line_no]
                if ci != last:
                    yield divider
            yield right
            yield new_line

    @staticmethod
    def _cell(console, options, renderable, width: int, column, style: Style) -> list[list[Segment]]:
        """The lines of one cell ``width`` wide (padding included) under ``style`` (the cell's
        row or header style): three segments when it fits on a line, else as rich draws it."""
        text = _plain(renderable)
        own = console.get_style(renderable.style) if isinstance(renderable, Text) and renderable.style else _NULL
        inner = width - 2
        if text is not None and inner > 0 and text.isprintable() and cell_len(text) <= inner:
            pad = Segment(" ", style)
            if not text:  # rich pads the empty text inside it: in its own style
                return [[pad, Segment(" " * inner, style + own if style else own), pad]]
            justify = column.justify
            if justify != "left":
                text = text.rstrip()
            room = inner - cell_len(text)
            if justify == "left":
                line = text + " " * room
            elif justify == "right":
                line = " " * room + text
            else:
                line = " " * (room // 2) + text + " " * (room - room // 2)
            return [[pad, Segment(line, style + own if style else own), pad]]
        lines = console.render_lines(Padding(renderable, (0, 1)),
                                     options.update(width=width, justify=column.justify, no_wrap=column.no_wrap,
                                                    overflow=column.overflow, height=None, highlight=column.highlight),
                                     style=style)
        return [Segment.adjust_line_length(line, width, style=style) for line in lines]


def _plain(renderable) -> str | None:
    """The text of a cell that is plain text (a str without markup or :emoji:, a Text without
    spans or settings of its own), else None."""
    if isinstance(renderable, str):
        return renderable if "[" not in renderable and ":" not in renderable else None
    if isinstance(renderable, Text) and not renderable.spans and renderable.end == "\n" \
            and renderable.justify is None and renderable.overflow is None and renderable.no_wrap is None:
        return renderable.plain
    return None
