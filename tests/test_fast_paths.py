"""The speed work's shortcuts must agree with the slow paths they skip.

Each shortcut answers a question more cheaply for the common case; these tests check on
every header spelling we know, and on generated text, that the answer never differs.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netreg.model import forms as F
from netreg.scan import headers as reader

HEADER_CHARS = "".join(sorted({ch for col in (c for f in F.FORMS for c in f.columns)
                               for t in (col.header, *col.aliases, col.parent or "") for ch in t}))
# Header characters, their full-width and compatibility look-alikes, brackets, separators,
# spaces of every kind, ASCII letters and digits, and ordinary data characters.
ALPHABET = HEADER_CHARS + "ＩＤｉｄＱＱ（）()[]【】*:：/、,，.。·・-_—|\\ \u3000\u00a0\t\n" \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789王丽漯河学院官网⺠⾦﹙﹚︰ⅰ"


def _names(text: str) -> bool:
    return reader._lookup(reader._text_keys(text), reader._ANY_FORM) is not None


def test_every_known_header_spelling_passes_the_prefilter():
    texts = [t for f in F.FORMS for c in f.columns for t in (c.header, *c.aliases, c.parent or "") if t]
    texts += [f"*{t}" for t in texts] + [f" {t}（必填）" for t in texts] + [f"（必填）{t}" for t in texts] + [f"(必填){t}" for t in texts]
    texts += ["ＱＱ群名称", "账号ＩＤ", "账号id", "网站名称及网址", "管理员姓名（教职工）", "职务/职称"]
    for text in texts:
        if _names(text):
            assert reader._may_name_column(text), text


KNOWN = sorted({t for f in F.FORMS for c in f.columns for t in (c.header, *c.aliases) if t})
NOISE = st.one_of(st.text(alphabet=ALPHABET, max_size=4),
                  st.builds(lambda o, t, c: o + t + c, st.sampled_from("(（[【"), st.text(alphabet=ALPHABET, max_size=3),
                            st.sampled_from(")）]】")))


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.text(alphabet=ALPHABET, max_size=14),
                 st.builds(lambda a, h, b: a + h + b, NOISE, st.sampled_from(KNOWN), NOISE)))
def test_prefilter_never_rejects_a_cell_that_names_a_column(text):
    if _names(text):
        assert reader._may_name_column(text), text


def test_prefilter_rejects_ordinary_data():
    for text in ("王丽", "漯河职业技术学院官网", "gh_1a2b3c", "13812345678", "2024-05-01", "护理2023级"):
        assert not reader._may_name_column(text), text


def test_a_row_with_a_number_is_data_even_when_its_texts_look_like_headers():
    form = F.FORMS[0]
    header = [c.header for c in form.columns]
    assert reader.detect_header(header, None)[0] is form
    assert reader.detect_header([1, *header[1:]], None) is None


class _Sub(str):
    pass


def _cells(path):
    import openpyxl

    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): (c.value, c.data_type, c.number_format, c.quotePrefix)
            for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None}


def test_direct_row_writer_agrees_with_openpyxl_on_awkward_values(tmp_path):
    """Values the samples may not contain: every one must come out as openpyxl writes it."""
    from datetime import date, datetime

    from openpyxl import Workbook

    from netreg.excel.sheetxml import save_direct as _save_direct
    from netreg.excel.summary import Body, _append_rows

    rows = [
        [1, 2.5, -3, 10**15, 10**17 + 3, 0.1 + 0.2, 1e-7, float("inf"), True, False, None, "", "普通文本"],
        ["=SUM(A1)", "+86 138", "-5", "@x", " 前后空格 ", "a & b < c > d", "行一\n行二", "控制\x01字符\x0b"],
        [date(2025, 11, 25), datetime(2025, 11, 25, 8, 30), _Sub("子类文本"), "\x02", "\t制表", "😀 emoji"],
    ]
    outs = {}
    for direct in (True, False):
        wb = Workbook(write_only=True)
        wb.create_sheet("X").append(["表头"])
        body = Body("X", 2, [list(r) for r in rows])
        outs[direct] = tmp_path / f"{direct}.xlsx"
        if direct:
            _save_direct(wb, [body], outs[direct])
        else:
            _append_rows(wb, [body])
            wb.save(outs[direct])
    fast, reference = _cells(outs[True]), _cells(outs[False])
    assert len(reference) > 20
    assert fast == reference


def test_streamed_json_is_exactly_what_json_dumps_prints():
    import json
    import dataclasses
    from datetime import date
    from pathlib import Path

    from netreg.config import Campaign, read_units_file
    from netreg.render.json import render_json
    from netreg.pipeline import validate_paths

    root = Path(__file__).resolve().parents[1]
    report = validate_paths([root / "samples" / "returned"], Campaign(), as_of=date(2025, 11, 25),
                            units=read_units_file(root / "samples" / "units.txt"))
    assert len(report.issues) > 20
    assert render_json(report) == json.dumps(report.to_dict(), ensure_ascii=False, indent=2)
    report = dataclasses.replace(report, issues=())
    assert render_json(report) == json.dumps(report.to_dict(), ensure_ascii=False, indent=2)
    report = dataclasses.replace(report, files=())
    assert render_json(report) == json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def test_summary_is_the_same_as_before_the_speed_work(tmp_path):
    """tests/golden/ holds the summary as the code wrote it before the session-2 speed work:
    the samples cell by cell, 30 generated workbooks (read on both cores) as a hash per sheet."""
    import json

    import golden

    expected = json.loads((golden.GOLDEN / "samples_summary.json").read_text(encoding="utf-8"))
    actual = golden.samples_run(tmp_path)
    assert actual.keys() == expected.keys()
    for sheet in expected:
        assert actual[sheet] == expected[sheet], sheet
    expected = json.loads((golden.GOLDEN / "generated_summary.json").read_text(encoding="utf-8"))
    assert golden.generated_run(tmp_path) == expected


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="无暂没有空/\\—-。nNaAoOeEuUlLiI ＮＵＬＬ／－\u3000\u00a0\u200b\u0301\u00a8﹣⁄", max_size=12))
def test_placeholder_length_shortcut_changes_no_answer(text):
    import unicodedata

    from netreg.check.normalize import _PLACEHOLDERS, clean_text, is_placeholder
    from netreg.util.text import _RULE

    key = unicodedata.normalize("NFKC", clean_text(text)).strip().casefold()
    assert is_placeholder(text) == (not key or key in _PLACEHOLDERS or _RULE.fullmatch(key) is not None)


# ---------------------------------------------------------------- issue 16: per-cell shortcuts

CELL_TEXT = st.text(alphabet="无暂没有空本我该单位目前此类情况合计总小共汇:：/\\—-。.nNaAoOeEuUlLiI 王丽13805-"
                    "\u3000\u00a0\u200b\t\n\r\x01ＮＵＬＬ／－﹣⁄⽆", max_size=14)
CELL_VALUES = st.one_of(CELL_TEXT, st.none(), st.integers(), st.floats(allow_nan=True), st.booleans(),
                        st.dates(), st.datetimes(), st.builds(_Sub, CELL_TEXT))


@settings(max_examples=3000, deadline=None)
@given(CELL_VALUES)
def test_clean_cell_is_clean_text(value):
    from netreg.util.text import clean_cell, clean_text

    assert clean_cell(value) == clean_text(value)


@settings(max_examples=3000, deadline=None)
@given(CELL_VALUES)
def test_placeholder_text_is_is_placeholder(value):
    from netreg.check.normalize import placeholder_text
    from netreg.util.text import clean_text, is_placeholder

    text = clean_text(value)
    assert placeholder_text(text) == is_placeholder(value)
    assert placeholder_text(text) == is_placeholder(value)  # remembered: the same answer


SAYS_NOTHING = ["无", "暂无", "没有", "本单位暂无此类情况", "我院目前没有需要登记的网站", "该单位无", "现无", "尚无相关账号",
                "n/a", "N/A", "None", "NULL", "nil", "na", "/", "——", "- - -", "///", "空", "无。", "（无）", "“无”",
                "。无", " 无", "⽆", "ＮＵＬＬ", "／", "﹣﹣", "本单位无此类情况。"]


@settings(max_examples=3000, deadline=None)
@given(st.one_of(CELL_TEXT, st.sampled_from(SAYS_NOTHING),
                 st.builds(lambda a, b: a + b, st.sampled_from(SAYS_NOTHING), CELL_TEXT),
                 st.builds(lambda a, b: a + b, CELL_TEXT, st.sampled_from(SAYS_NOTHING))))
def test_nothing_prefilter_never_rejects_a_text_saying_nothing(text):
    from netreg.scan.structure import _may_say_nothing, _says_nothing
    from netreg.util.text import clean_text

    for t in (text, clean_text(text)):
        if _says_nothing(t):
            assert _may_say_nothing(t), t


def test_nothing_prefilter_passes_every_known_way_of_saying_nothing():
    from netreg.scan.structure import _may_say_nothing, _says_nothing

    for text in SAYS_NOTHING:
        assert not _says_nothing(text) or _may_say_nothing(text), text
    for text in ("网站名称0-1033", "gh_1a2b3c", "13812345678", "王丽", "2024-05-01", "护理2023级"):
        assert not _may_say_nothing(text), text


@settings(max_examples=2000, deadline=None)
@given(st.one_of(CELL_TEXT, st.builds(lambda a, w, b: a + w + b, st.sampled_from(["", " ", "：", "\u3000", ":\n"]),
                                      st.sampled_from(["合计", "总计", "小计", "共计", "合计数", "总数", "汇总", "合 计"]),
                                      st.sampled_from(["", ":", "：", " "]))))
def test_totals_prefilter_never_rejects_a_total_word(text):
    from netreg.scan.structure import _TOTAL_WORDS, _SPACE_COLON, _may_be_total

    if _SPACE_COLON.sub("", text) in _TOTAL_WORDS:
        assert _may_be_total(text), text


def test_cell_parsers_agree_with_the_parsers_of_raw_values(tmp_path):
    """check_row hands each parser the cell's clean text; a Context without those (parsers
    of raw values only, the slow path) checks every sample table to the same records and issues."""
    import dataclasses
    from datetime import date
    from pathlib import Path

    from netreg.check.rows import Context, check_table
    from netreg.config import Campaign
    from netreg.scan.tables import scan_book
    from netreg.sources import open_book

    root = Path(__file__).resolve().parents[1]
    config = Campaign()
    n = 0
    for path in sorted((root / "samples" / "returned").rglob("*.*")):
        try:
            book = open_book(path, config.limits)
        except Exception:  # noqa: BLE001 - the samples hold unreadable files on purpose
            continue
        for table in scan_book(book).tables:
            fast_ctx = Context.build(config, date(2025, 11, 25), str(path), "单位")
            slow_ctx = dataclasses.replace(fast_ctx, cell_parsers={})
            fast, fast_issues = check_table(table, fast_ctx)
            slow, slow_issues = check_table(table, slow_ctx)
            assert [(r.row, r.values, r.extras, r.issues) for r in fast] == \
                   [(r.row, r.values, r.extras, r.issues) for r in slow]
            assert fast_issues == slow_issues
            n += len(fast)
    assert n > 50


@settings(max_examples=1000, deadline=None)
@given(CELL_VALUES)
def test_each_cell_parser_is_its_parser(value):
    from netreg.check import normalize as N
    from netreg.config import Campaign
    from netreg.util.text import clean_text

    text = clean_text(value)
    config = Campaign()
    assert N.phone_cell(value, text, "0395") == N.parse_phone(value, "0395")
    assert N.date_cell(value, text) == N.parse_date(value)
    assert N.count_cell(value, text, 10_000) == N.parse_count(value, 10_000)
    assert N.yesno_cell(value, text) == N.parse_yesno(value)
    platform = N.choice_parser(config.platforms)
    assert platform.cell(value, text) == platform(value)


@settings(max_examples=2000, deadline=None)
@given(CELL_VALUES, CELL_VALUES)
def test_category_of_is_the_forms_own(teacher, student):
    from netreg.check.rows import category_of

    for form in F.FORMS:
        if form.category is None:
            assert category_of(form, {}) is None
            continue
        values = {form.category.teacher: teacher, form.category.student: student}
        assert category_of(form, values) == form.category_of(values)


LANDLINES = st.builds(lambda a, b, sep: a + sep + b, st.from_regex(r"0[0-9]{2,3}", fullmatch=True),
                      st.from_regex(r"[0-9]{6,9}", fullmatch=True), st.sampled_from(["-", "", " ", "－"]))


@settings(max_examples=3000, deadline=None)
@given(st.one_of(LANDLINES, st.from_regex(r"[01][0-9]{10,12}", fullmatch=True), CELL_TEXT))
def test_phone_shortcuts_agree_with_the_long_way(text):
    """Mobiles and 0395-3136789-shaped landlines skip the folding and splitting of
    _parse_phone_text; the long way (uncached) gives the same answer."""
    from netreg.check import normalize as N
    from netreg.util.text import clean_text

    text = clean_text(text)
    if text:
        assert N.phone_cell(text, text, "0395") == N._parse_phone_text.__wrapped__(text, "0395")


FIELD = st.one_of(st.none(), st.text(max_size=8), st.integers(-3, 10**6))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["required-missing", "phone-invalid", "unit-missing"]),
       st.sampled_from(["error", "warning", "info"]), st.lists(FIELD, min_size=10, max_size=10))
def test_issue_of_is_the_dataclass_built_field_by_field(code, severity, rest):
    """issue_of (slots set directly) builds what Issue(*fields) builds: equal, same hash,
    same repr, frozen, pickles the same; Issue has no __post_init__ the shortcut would skip."""
    import pickle
    from dataclasses import FrozenInstanceError, fields

    import pytest

    from netreg.model.issues import Issue, Severity, issue_of

    values = (code, Severity(severity), *rest)
    assert len(values) == len(fields(Issue))
    ours, theirs = issue_of(values), Issue(*values)
    assert ours == theirs and hash(ours) == hash(theirs) and repr(ours) == repr(theirs)
    assert pickle.loads(pickle.dumps(ours)) == theirs
    assert not hasattr(Issue, "__post_init__")
    with pytest.raises(FrozenInstanceError):
        ours.code = "x"
