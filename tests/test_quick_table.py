"""render/table.QuickTable draws exactly what rich's Table draws (escape codes included), and
faster: the overview of merge, status and validate's file list use it for a row per unit."""

from __future__ import annotations

import io
import time

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from netreg.render.table import QuickTable

WORDS = ["党委办公室/校长办公室", "组织部", "信息化管理中心105", "需整改", "已交齐", "未交", "逾期、整改逾期", "12", "0",
         "已改 1，未改 2，新增 0", "", " ", "医学院 ", " 护理学院", "a" * 30, "很长的单位名称" * 6, "[bold]标记[/bold]",
         "[不是标记", "11-28 14:30", ":smile: 表情", "制表\t符", "换行\n两行", "零宽\u200b字符", "ｆｕｌｌ", "1/300 交回"]
STYLES = [None, "bold", "bold red", "yellow", "green", "cyan", "on blue"]
CELL = st.one_of(st.sampled_from(WORDS),
                 st.builds(lambda w, s: Text(w, style=s or ""), st.sampled_from(WORDS), st.sampled_from(STYLES)))
COLUMN = st.fixed_dictionaries({"header": st.sampled_from(["单位", "状态", "附1", "错误", "警告", "整改", "最后报送"]),
                                "justify": st.sampled_from(["left", "right", "center"]),
                                "no_wrap": st.booleans(),
                                "overflow": st.sampled_from(["fold", "ellipsis", "crop"]),
                                "min_width": st.sampled_from([None, 8])})


def _draw(cls, columns, rows, width: int, title: str | None, terminal: bool) -> str:
    table = cls(header_style="bold", title=title)
    for c in columns:
        table.add_column(c["header"], justify=c["justify"], no_wrap=c["no_wrap"], overflow=c["overflow"],
                         min_width=c["min_width"])
    for cells, style in rows:
        table.add_row(*cells[:len(columns)], style=style)
    console = Console(file=io.StringIO(), width=width, force_terminal=terminal, color_system="truecolor",
                      legacy_windows=False, _environ={})
    console.print(table)
    return console.file.getvalue()


@settings(max_examples=400, deadline=None)
@given(st.lists(COLUMN, min_size=1, max_size=9),
       st.lists(st.tuples(st.lists(CELL, min_size=9, max_size=9), st.sampled_from(STYLES)), max_size=8),
       st.sampled_from([20, 40, 80, 120, 200]), st.sampled_from([None, "各单位报送情况（统计日期 2025-11-25）"]),
       st.booleans())
def test_quick_table_draws_what_rich_draws(columns, rows, width, title, terminal):
    import netreg.render.table as quick

    theirs = _draw(Table, columns, rows, width, title, terminal)
    assert _draw(QuickTable, columns, rows, width, title, terminal) == theirs
    quick.MEASURE_ALL = 0  # every column measured on its widest cells only
    try:
        assert _draw(QuickTable, columns, rows, width, title, terminal) == theirs
    finally:
        quick.MEASURE_ALL = 8


def test_a_table_outside_the_plain_case_is_drawn_by_rich():
    for kw in ({"show_lines": True}, {"row_styles": ["dim", ""]}, {"show_header": False}, {"box": None}):
        tables = []
        for cls in (QuickTable, Table):
            t = cls(**kw)
            t.add_column("单位", style="cyan")
            t.add_row("组织部")
            t.add_row("医学院", end_section=True)
            console = Console(file=io.StringIO(), width=40, force_terminal=True, color_system="truecolor")
            console.print(t)
            tables.append(console.file.getvalue())
        assert tables[0] == tables[1]


def test_a_300_unit_overview_costs_a_fraction_of_richs():
    columns = [{"header": h, "justify": "left" if h in ("单位", "状态") else "right", "no_wrap": h != "单位",
                "overflow": "fold", "min_width": 8 if h in ("单位", "状态") else None}
               for h in ("单位", "状态", "附1", "附2", "附3", "附4", "附5", "错误", "警告")]
    rows = [([f"信息化管理中心{i}", Text("需整改", style="bold red"), *(str(i % 15) for _ in range(7))], None)
            for i in range(300)]

    def cost(cls) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            out = _draw(cls, columns, rows, 80, "各单位报送情况", True)
            best = min(best, time.process_time() - start)
        return best, out

    quick, ours = cost(QuickTable)
    slow, theirs = cost(Table)
    assert ours == theirs
    assert quick < slow / 2, (quick, slow)
