"""Issue 24's merge shortcuts agree with the slow paths they skip.

Each test runs the same input through the shortcut and through the long way it stands for
(a switch, an unremembered function, or the original computation) and compares the answers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netreg.config import Campaign
from netreg.model import forms as F

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- check: remembered parses

YESNO_TEXTS = ["是", "否", "√", "×", "是的", "已清理", "未清理", "部分实名", "是，已于5月解散", "否（还在用）", "是否",
               "未知", "Y", "no", "ＹＥＳ", "1", "0", "已 清理", "全部。", "  是 ", "不详", "", "☑", "❌", "还没有"]


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.sampled_from(YESNO_TEXTS), st.text(alphabet="是否已未√×清理实名部分 ，。yesnoYN01", max_size=6)))
def test_remembered_yes_no_equals_parsing_it(text):
    from netreg.check import normalize as N
    from netreg.util.text import clean_text

    text = clean_text(text)
    assert N.yesno_cell(text, text) == N._yesno_text.__wrapped__(text) if text else True
    assert N.yesno_cell(text, text) == N.yesno_cell(text, text)  # remembered twice, same answer


CHOICE_TEXTS = ["微信公众号", "公众号", "公众号（服务号）", "微信公众号(订阅号)", "视频号（已认证）", "新浪微博号",
                "官方抖音号", "小红书账号", "B站", "ｂ站", "哔哩哔哩", "QQ群", "qq 群", "微信群", "钉钉群", "企业微信群",
                "其他", "", "知乎", "抖音 ", "今日头条"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(CHOICE_TEXTS), st.text(alphabet="微信公众号博抖音群QqＱ（）() 官方账号", max_size=8)))
def test_remembered_choice_equals_parsing_it(text):
    from netreg.check.normalize import choice_parser
    from netreg.util.text import clean_text

    config = Campaign()
    text = clean_text(text)
    for choices in (config.platforms, config.group_types):
        parse = choice_parser(choices)
        assert parse.cell(text, text) == parse.text(text)
        assert parse(text) == parse.text(text)


def test_one_choice_parser_per_list_of_choices():
    from netreg.check.normalize import choice_parser
    from netreg.config import Choice

    config = Campaign()
    assert choice_parser(config.platforms) is choice_parser(Campaign().platforms)
    other = [Choice(name="微信公众号"), Choice(name="抖音", aliases=["dy"])]
    parse = choice_parser(other)
    assert parse is not choice_parser(config.platforms)
    assert parse.cell("dy", "dy").value == "抖音"
    assert choice_parser(config.platforms).cell("dy", "dy").code == "choice-unknown"


# ---------------------------------------------------------------------------- pipeline: warm start

def test_warming_before_the_workers_fork_imports_what_a_first_file_would(tmp_path):
    """After ``warm``, checking a file imports nothing more (its cost is paid once, here)."""
    import subprocess

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench

    bench.generate_mix(tmp_path / "in", 20, seed=5)  # .xlsx, .docx, .csv (and .xls with soffice)
    code = f"""
import sys
from datetime import date
from pathlib import Path
from netreg import pipeline
from netreg.config import Campaign
from netreg.intake.folder import Input
config = Campaign()
pipeline.warm(config)
before = set(sys.modules)
for p in sorted(Path({str(tmp_path / "in")!r}).iterdir()):
    pipeline.check_file(Input(p, str(p)), config, list(config.units), date(2025, 11, 25))
print(sorted(m for m in set(sys.modules) - before))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- scan: per-row shortcuts

def _scans(book, headers=None):
    from netreg.scan import tables

    fast = tables.scan_book(book, headers)
    tables.SHORTCUTS = False
    try:
        slow = tables.scan_book(book, headers)
    finally:
        tables.SHORTCUTS = True
    return fast, slow


def _same(fast, slow) -> None:
    assert fast.tables == slow.tables
    assert fast.unit_text == slow.unit_text
    assert fast.unrecognised == slow.unrecognised


def test_scan_shortcuts_change_nothing_on_the_samples_and_generated_returns(tmp_path):
    from netreg.sources import open_book

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench

    bench.generate_mix(tmp_path / "mix", 20, seed=7)
    bench.generate_template(tmp_path / "template", 3, seed=7)
    files = sorted((ROOT / "samples" / "returned").iterdir()) + sorted((tmp_path / "mix").iterdir()) \
        + sorted((tmp_path / "template").iterdir())
    config = Campaign()
    read = handed = 0
    for path in files:
        try:
            book = open_book(path, config.limits)
        except Exception:  # noqa: BLE001 - a sample that is unreadable on purpose
            continue
        read += 1
        fast, slow = _scans(book, config.headers)
        _same(fast, slow)
        handed += _texts_as_check_would_clean_them(fast, slow, path)
    assert read >= 30 and handed > 1000


def _texts_as_check_would_clean_them(fast, slow, path) -> int:
    """RawRow.texts (scan's cleaned cells, handed to check_row) are clean_cell of the cells,
    and check_table gives the same records and issues with them as without them."""
    from datetime import date

    from netreg.check.rows import Context, check_table
    from netreg.util.text import clean_cell

    ctx = Context.build(Campaign(), date(2025, 11, 25), str(path), path.stem)
    for table in fast.tables:
        for raw in table.rows:
            for key, text in (raw.texts or {}).items():
                assert text == clean_cell(raw.cells.get(key)), (path.name, raw.row, key)
    assert all(raw.texts is None for table in slow.tables for raw in table.rows)
    assert [check_table(t, ctx) for t in fast.tables] == [check_table(t, ctx) for t in slow.tables]
    return sum(bool(raw.texts) for table in fast.tables for raw in table.rows)


CELL = st.one_of(
    st.none(), st.just(""), st.integers(0, 30), st.floats(0, 30).map(lambda f: float(int(f))),
    st.sampled_from([c.header for f in F.FORMS for c in f.columns] + [f.sheet for f in F.FORMS]
                    + [f.name for f in F.FORMS]),
    st.sampled_from(["无", "暂无", "本单位暂无此类情况", "合计", "小计：", "填表人：", "王丽", "联系电话：", "13812345678",
                     "填报单位：医学院", "注：以上", "1", "２", "  ", "\u200b", "是", "微信公众号", "=ROW()-4", "—", "/"]),
)


def _header_rows(form: F.Form) -> list[list]:
    if form.header_rows == 1:
        return [[c.header for c in form.columns]]
    first_kid = next(c for c, col in enumerate(form.columns) if col.parent)
    return [[col.parent if c == first_kid else None if col.parent else col.header for c, col in enumerate(form.columns)],
            [col.header if col.parent else None for col in form.columns]]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.lists(CELL, min_size=1, max_size=9), min_size=1, max_size=14),
       st.lists(st.tuples(st.integers(0, 13), st.integers(0, 8), st.integers(0, 3), st.integers(0, 2)), max_size=3),
       st.lists(st.tuples(st.integers(0, 14), st.sampled_from(F.FORMS)), max_size=2),
       st.lists(st.tuples(st.integers(0, 14), st.integers(0, 3), st.integers(1, 20)), max_size=6))
def test_scan_shortcuts_change_nothing_on_generated_grids(rows, spans, headers, numbered):
    """Headers, numbered blank rows, 无, totals, signature lines and merged ranges in any order."""
    from netreg.scan import tables
    from netreg.sources.base import Grid

    rows = [list(r) for r in rows]
    for at, n_col, n in numbered:  # a row with only a number typed in (序号 or elsewhere)
        rows.insert(min(at, len(rows)), [None] * n_col + [rng for rng in (n, str(n), float(n))][n % 3:][:1])
    for at, form in headers:
        rows[min(at, len(rows)):min(at, len(rows))] = _header_rows(form)
    width = max(map(len, rows))
    cells = [r + [None] * (width - len(r)) for r in rows]
    merged = tuple((r, c, min(r + h, len(cells) - 1), min(c + w, width - 1)) for r, c, h, w in spans
                   if r < len(cells) and c < width)
    grid = Grid("附件1", cells, merged)
    fast = tables.scan_sheet(grid)
    tables.SHORTCUTS = False
    try:
        slow = tables.scan_sheet(grid)
    finally:
        tables.SHORTCUTS = True
    assert fast == slow


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=" \u3000\u00a0\t\n\u200b\u200d\ufeff\xad", max_size=3)),
                min_size=1, max_size=8),
       st.lists(CELL, min_size=0, max_size=2))
def test_a_row_with_fewer_than_three_cells_filled_is_no_header(blanks, filled):
    """The shortcut's premise: detect_header needs three cells that name columns, and a cell
    that cleans to nothing names none."""
    from netreg.scan.headers import detect_header
    from netreg.util.text import clean_cell

    row = blanks + filled
    if sum(1 for v in row if clean_cell(v)) < 3:
        assert detect_header(row, None) is None


# ---------------------------------------------------------------------------- cross: identity keys

ID_TEXT = st.one_of(st.text(max_size=12), st.text(alphabet="gh_0123456789abcdefABCDEF -.／＿ｇｈ教职工群 \u3000\u200b", max_size=14),
                    st.sampled_from(["无", "/", "—", "", "  ", "教职工群", "ＱＱ群", "gh_5d46c5522574", " GH_5D46 c552 "]))


@settings(max_examples=3000, deadline=None)
@given(st.one_of(ID_TEXT, st.none(), st.integers(), st.floats(allow_nan=False)))
def test_remembered_identity_key_equals_nfkc_key(value):
    from netreg.check.cross import _key_of
    from netreg.util.text import nfkc_key

    assert _key_of(value) == nfkc_key(value)
    assert _key_of(value) == nfkc_key(value)  # remembered, the same


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from([f for f in F.FORMS if f.duplicates is not None]), st.lists(ID_TEXT, min_size=4, max_size=4))
def test_cross_identity_equals_the_forms_own(form, texts):
    from netreg.check.cross import identity

    values = {c: texts[i % len(texts)] for i, c in enumerate(form.identity.columns)}
    assert identity(form, values) == form.identity_parts(values, fallback=False)
    assert identity(form, {}) == form.identity_parts({}, fallback=False)


# ---------------------------------------------------------------------------- summary: remembered cell XML

class _Text(str):
    pass


SUMMARY_CELL = st.one_of(
    st.none(), st.integers(-10**16, 10**16), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
    st.dates(), st.datetimes(), st.just(""),
    st.sampled_from(["医学院", "错误", "警告", "=SUM(A1)", "+86 138", "-", "@x", " 前后空格 ", "a&b<c>", "多行\n文本",
                     "控制\x01字符", "新闻" * 40, "x" * 40000, "微信公众号", "gh_5d46c5522574"]),
    st.text(max_size=30), st.text(max_size=30).map(_Text),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(SUMMARY_CELL, max_size=12), min_size=1, max_size=40), st.booleans(), st.integers(1, 3))
def test_remembered_row_xml_equals_row_by_row(rows, wrapped, chunks):
    """The same XML as ``_row_xml`` row by row, whatever the cells, over several chunks (a
    column's memo carries over and may be given up between them)."""
    from netreg.excel import sheetxml as X

    width = max([len(r) for r in rows] + [1])
    letters = X._letters(width)
    widths = tuple(float(w) for w in ([6, 16, 8, 60, 12, 24, 24, 8, 10, 30, 20, 6][:width]))
    usable = tuple(max(w - 1.5, 1.0) for w in widths) if wrapped else ()
    wrap = (' s="5"', ' s="6"', 7, ' s="8"') if wrapped else None
    expected = "".join(X._row_xml(3 + j, row, letters, 3, 4, wrap, usable) for j, row in enumerate(rows))
    memo = X.ColumnMemo(width)
    step = max(1, len(rows) // chunks)
    got = "".join(X._rows_xml(3 + k, rows[k:k + step], letters, 3, 4, wrap, usable, memo)
                  for k in range(0, len(rows), step))
    assert got == expected


def test_a_column_of_ever_new_texts_stops_remembering_and_the_xml_stays_the_same(monkeypatch):
    from netreg.excel import sheetxml as X

    monkeypatch.setattr(X, "MEMO_AFTER", 8)
    rows = [[n, "医学院", f"消息{n}", "错误"] for n in range(200)]
    letters = X._letters(4)
    usable = (4.5, 14.5, 58.5, 8.5)
    wrap = (' s="5"', ' s="6"', 7, ' s="8"')
    memo = X.ColumnMemo(4)
    got = "".join(X._rows_xml(2 + k, rows[k:k + 50], letters, 3, 4, wrap, usable, memo) for k in range(0, 200, 50))
    assert got == "".join(X._row_xml(2 + j, row, letters, 3, 4, wrap, usable) for j, row in enumerate(rows))
    assert memo.seen[2] is None  # every message new: given up
    assert memo.seen[1] == {"医学院": memo.seen[1]["医学院"]} and memo.seen[3] is not None


# ---------------------------------------------------------------------------- scan: remembered headers

HEADER_CELL = st.one_of(st.none(), st.just(""), st.integers(0, 3), st.booleans(), st.floats(0, 3),
                        st.sampled_from(sorted({t for f in F.FORMS for c in f.columns
                                                for t in (c.header, c.parent or "", *c.aliases) if t})
                                        + ["（QQ群、微信群等）", "实名", "王丽", "无"]))


@settings(max_examples=1500, deadline=None)
@given(st.lists(HEADER_CELL, min_size=3, max_size=12), st.one_of(st.none(), st.lists(HEADER_CELL, max_size=12)))
def test_remembered_header_equals_detecting_it(row, nxt):
    from netreg.scan import headers as H

    vocab = H.vocabulary()
    expected = None
    if not any(v is not None and not isinstance(v, str) for v in row) and \
            sum(1 for v in row if H._names_any_column(v, vocab)) >= 3:
        expected = H._detect(row, nxt, vocab)
    first = H.detect_header(row, nxt, vocab)
    again = H.detect_header(row, nxt, vocab)  # remembered
    assert first == expected and again == expected
    if again is not None:
        again.columns["x"] = 99  # a caller's change never reaches the remembered answer
        assert H.detect_header(row, nxt, vocab) == expected


def test_every_forms_header_is_remembered_the_same():
    from netreg.scan import headers as H

    vocab = H.vocabulary()
    for form in F.FORMS:
        rows = _header_rows(form) + [[None] * len(form.columns)]
        first = H.detect_header(rows[0], rows[1], vocab)
        assert first == H._detect(rows[0], rows[1], vocab) == H.detect_header(rows[0], rows[1], vocab)
        assert first.form is form


# ---------------------------------------------------------------------------- summary: chart figures of a spilled run

def test_chart_figures_of_a_spilled_run_equal_figures(tmp_path, monkeypatch):
    """A province's records read back from disk: the charts' figures from the counts taken as
    the run was built, and from one read of three forms' runs when a run was not counted,
    equal ``figures`` over a school's records held in memory (one pass against the three it was)."""
    from datetime import date

    from netreg.model.report import figures
    from netreg.pipeline import validate_paths

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench

    bench.generate_mix(tmp_path / "in", 12, seed=11)
    config = Campaign()
    school = validate_paths([tmp_path / "in", ROOT / "samples" / "returned"], config, as_of=date(2025, 11, 25))
    fig = figures(school.records)
    monkeypatch.setenv("NETREG_SPILL_ROWS", "0")
    province = validate_paths([tmp_path / "in", ROOT / "samples" / "returned"], config, as_of=date(2025, 11, 25))
    assert hasattr(province.records, "runs")  # read back from disk
    assert figures(province.records) == fig
    province.records.store.charts.clear()  # no run counted: read back, the three forms only
    assert figures(province.records) == fig
    assert fig.platforms and fig.teachers + fig.students + fig.uncategorised > 0 and fig.cleaned + fig.pending > 0


def test_a_remembered_answer_is_made_once_and_the_memory_is_bounded():
    from netreg.util.memo import Remembered

    made = []
    memo = Remembered(lambda k: made.append(k) or k.upper(), limit=3)
    assert [memo[k] for k in ("a", "b", "a", "c", "b")] == ["A", "B", "A", "C", "B"]
    assert made == ["a", "b", "c"]  # each made once
    assert memo["d"] == "D" and len(memo) == 1  # past the limit it starts again empty
    assert memo.get("zz") is None and "zz" not in memo  # .get never makes
