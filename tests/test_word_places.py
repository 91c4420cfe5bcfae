"""Places in a Word table in Word's terms (issue 26 item 6, SPEC §3): 表格N 第r行 第c列（列名）,
r and c counted over the table's own rows and columns as Word counts them, header rows
included, a merged cell at its top-left. Documents are written here by python-docx and by
LibreOffice Writer (from HTML), with paragraphs above each table (附件N, the title, 填报单位,
the signature line), merged cells and 附件5's two-row header; every planted problem's
reported place is checked against the table as python-docx sees it
(``doc.tables[N-1].cell(r-1, c-1)``), and the same words reach the terminal, JSON, letters and
the 修改意见 list."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from netreg.config import Campaign
from netreg.model.issues import Issue
from netreg.pipeline import validate_paths

AS_OF = date(2025, 11, 25)
UNIT = "信息工程学院"
SIGN = "单位负责人签名（盖章）：    填表人：张三    填表人电话：13812345678"
ABOVE2 = ["附件2", "漯河职业技术学院新媒体平台登记备案表", f"填报单位：{UNIT}", SIGN]
ABOVE5 = ["附件5", "漯河职业技术学院“网络大V”信息统计表", SIGN.replace("填表人电话", "联系电话")]

FORM2 = ["序号", "网络平台", "账号名称", "账号ID", "粉丝人数", "开通日期", "主要用途", "管理员姓名", "联系电话", "备注"]
FORM2_ROWS = [  # 李明 and his (bad) phone merged down over the first two accounts
    ["1", "微信公众号", "信工之声", "gh_xg001", "5230", "2019-03-01", "信息发布", "李明", "1381234567", ""],
    ["2", "微博", "信工官微", "xg_wb", "很多", "2020-05-01", "宣传", "", "", ""],
    ["3", "抖音", "信工青年", "xg_dy", "3000", "2021-09-01", "宣传", "张三", "13912345678", ""],
    ["4", "快手", "", "xg_ks", "2100", "2022-02-01", "宣传", "张三", "13912345678", ""],
]
FORM2_MERGED = [(1, 7, 2, 7), (1, 8, 2, 8)]  # table coordinates (0-based), header row 0
# 附件5 as in the notice: two header rows, 类别 over its two sub-columns, the others merged down.
FORM5_TOP = ["序号", "账号平台", "账号ID", "账号名称", "粉丝数量", "创作方向", "姓名", "类别", "", "联系方式", "备注"]
FORM5_SUB = ["", "", "", "", "", "", "", "职务职称（教师填写）", "专业年级（学生填写）", "", ""]
FORM5_ROWS = [
    ["1", "抖音", "dy_lisi", "李四说校园", "5000", "校园生活", "李四", "讲师", "", "13912345678", ""],
    ["2", "微博", "wb_wang", "王五老师", "1500", "技能教学", "王五", "", "", "1391234567", ""],
]
FORM5_MERGED = [(0, c, 1, c) for c in (*range(7), 9, 10)] + [(0, 7, 0, 8)]

# (code, 表格N, r, c) as Word counts them: table 1 is 附件2 (header = row 1), table 2 附件5
# (header = rows 1-2).
PLANTED = {
    ("phone-invalid", "表格1", 2, 9), ("phone-invalid", "表格1", 3, 9),  # one merged cell, two accounts
    ("number-invalid", "表格1", 3, 5),
    ("required-missing", "表格1", 5, 3),
    ("below-threshold", "表格2", 4, 5),
    ("phone-invalid", "表格2", 4, 10),
    ("category-missing", "表格2", 4, 8),
}


def validate(path: Path):
    return validate_paths([path], Campaign(), units=[UNIT], as_of=AS_OF)


def python_docx(path: Path):
    import docx

    doc = docx.Document(str(path))
    return {f"表格{n}": table for n, table in enumerate(doc.tables, start=1)}


def flat(text: str) -> str:
    return re.sub(r"\s", "", text or "")


def check_places(report, path: Path) -> set[tuple]:
    """Every issue placed in a table names a cell that python-docx finds at (r, c) of that
    table, holding the value reported, under a header holding the column's name. Returns the
    (code, sheet, r, c) of the issues placed in a cell."""
    tables = python_docx(path)
    placed = set()
    for issue in report.issues:
        if issue.row is None or issue.column is None:
            continue
        assert issue.in_table, issue
        d = issue.to_dict()
        r, c = d["row"], d["column"]
        assert isinstance(r, int) and isinstance(c, int), d
        table = tables[d["sheet"]]
        cell = table.cell(r - 1, c - 1)  # python-docx: a merged cell at each position it covers
        assert flat(cell.text) == flat(issue.value or ""), (issue.code, d["sheet"], r, c, cell.text, issue.value)
        header = "".join(flat(table.cell(h, c - 1).text) for h in range(2) if h < r - 1)
        if issue.field:
            assert flat(issue.field) in header or header.endswith(flat(issue.field)[:4]), (issue.field, header)
        placed.add((issue.code, d["sheet"], r, c))
    return placed


# ------------------------------------------------------------------------- building documents

def write_python_docx(path: Path) -> Path:
    import docx

    doc = docx.Document()
    for text in ABOVE2:
        doc.add_paragraph(text)
    t2 = doc.add_table(rows=1 + len(FORM2_ROWS), cols=len(FORM2))
    for r, values in enumerate([FORM2, *FORM2_ROWS]):
        for c, value in enumerate(values):
            if value and not any(r0 < r <= r1 and c == c0 for r0, c0, r1, _ in FORM2_MERGED):
                t2.cell(r, c).text = value
    for r0, c0, r1, c1 in FORM2_MERGED:
        t2.cell(r0, c0).merge(t2.cell(r1, c1))
    doc.add_paragraph("")
    for text in ABOVE5:
        doc.add_paragraph(text)
    t5 = doc.add_table(rows=2 + len(FORM5_ROWS), cols=len(FORM5_TOP))
    for c in (*range(7), 9, 10):
        t5.cell(0, c).merge(t5.cell(1, c)).text = FORM5_TOP[c]
    t5.cell(0, 7).merge(t5.cell(0, 8)).text = "类别"
    for c in (7, 8):
        t5.cell(1, c).text = FORM5_SUB[c]
    for r, values in enumerate(FORM5_ROWS, start=2):
        for c, value in enumerate(values):
            if value:
                t5.cell(r, c).text = value
    doc.add_paragraph("注：粉丝数量以填报日为准。")
    doc.save(path)
    return path


def write_libreoffice(tmp_path: Path) -> Path:
    from office import html_table, html_to_docx, require_soffice

    require_soffice()
    html = tmp_path / f"{UNIT}.html"
    html.write_text(
        '<html><head><meta charset="utf-8"></head><body>'
        + "".join(f"<p>{t}</p>" for t in ABOVE2) + html_table([FORM2, *FORM2_ROWS], FORM2_MERGED)
        + "".join(f"<p>{t}</p>" for t in ABOVE5)
        + html_table([FORM5_TOP, FORM5_SUB, *FORM5_ROWS], FORM5_MERGED)
        + "<p>注：粉丝数量以填报日为准。</p></body></html>", encoding="utf-8")
    return html_to_docx(html, tmp_path / "out")


@pytest.fixture(params=["python-docx", "libreoffice"])
def returned(request, tmp_path) -> Path:
    if request.param == "python-docx":
        return write_python_docx(tmp_path / f"{UNIT}.docx")
    return write_libreoffice(tmp_path)


# ------------------------------------------------------------------------------------ tests

def test_planted_problems_are_placed_as_word_counts_the_tables_rows_and_columns(returned):
    report = validate(returned)
    assert [(r.form.id, r.sheet, r.row) for r in report.records] == [
        (2, "表格1", 2), (2, "表格1", 3), (2, "表格1", 4), (2, "表格1", 5), (5, "表格2", 3), (5, "表格2", 4)]
    placed = check_places(report, returned)
    assert PLANTED <= placed, sorted(PLANTED - placed)
    # nothing else in a cell but the 视频号-style infos of the accounts (none here)
    assert placed == PLANTED, sorted(placed - PLANTED)


def test_the_paragraphs_above_a_table_are_in_no_row(tmp_path):
    """Before, the four paragraphs above 附件2 were rows 1-4 and its first account row 6 (F6
    in the terminal): Word has the account in the table's second row."""
    path = write_python_docx(tmp_path / f"{UNIT}.docx")
    import docx

    doc = docx.Document(str(path))
    assert [p.text for p in doc.paragraphs[:4]] == ABOVE2
    report = validate(path)
    phone = next(i for i in report.issues if i.code == "phone-invalid" and i.sheet == "表格1")
    assert (phone.row, phone.column, phone.cell) == (2, "I", "第2行 第9列")
    assert doc.tables[0].rows[1].cells[8].text == "1381234567"


def test_json_gives_the_table_its_row_and_its_column_number(tmp_path):
    from netreg.render.json import render_json

    report = validate(write_python_docx(tmp_path / f"{UNIT}.docx"))
    issues = json.loads(render_json(report))["issues"]
    phone = [i for i in issues if i["code"] == "phone-invalid" and i["sheet"] == "表格2"]
    assert [(i["sheet"], i["row"], i["column"], i["field"], i["value"]) for i in phone] == [
        ("表格2", 4, 10, "联系方式", "1391234567")]
    assert all(i["column"] is None or isinstance(i["column"], int) for i in issues if i["sheet"])


def test_terminal_letter_and_opinions_say_the_same_words(tmp_path):
    import openpyxl

    from netreg.excel.annotate import write_annotated
    from netreg.letters.plan import where
    from netreg.render.terminal import issue_line

    report = validate(write_python_docx(tmp_path / f"{UNIT}.docx"))
    phone = next(i for i in report.issues if i.code == "phone-invalid" and i.sheet == "表格2")
    words = "表格2（附件5） 第4行 第10列（联系方式）"
    assert phone.place() == words
    assert issue_line(phone).startswith(f"[电话号码无效] {words}：")
    assert where(phone, several_files=False) == words
    assert where(phone, several_files=True).endswith(f"{UNIT}.docx” {words}")
    (book,) = write_annotated(report, tmp_path / "out").written
    ws = openpyxl.load_workbook(book).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    head = next(i for i, r in enumerate(rows) if r[0] == "序号")
    listed = [dict(zip(rows[head], r)) for r in rows[head + 1:]]
    mine = next(r for r in listed if r["问题"] == "电话号码无效" and r["工作表"] == "表格2")
    assert (mine["单元格"], mine["列名"], mine["填写内容"]) == ("第4行 第10列", "联系方式", "1391234567")
    assert not any(re.fullmatch(r"[A-Z]+\d+", str(r["单元格"] or "")) for r in listed)


def test_a_header_mismatch_and_the_filler_are_placed_in_word_terms(tmp_path):
    """A header row is the table's row 1; the 填表人 paragraph above the table is in no row."""
    import docx

    doc = docx.Document()
    for text in ("附件2", "新媒体平台登记备案表", f"填报单位：{UNIT}", "填表人：张三    填表人电话：12345"):
        doc.add_paragraph(text)
    header = ["序号", "网络平台", "账号名称", "账号ID", "粉丝人数", "管理员姓名", "联系电话"]  # 开通日期, 主要用途 lacking
    table = doc.add_table(rows=2, cols=len(header))
    for c, (h, v) in enumerate(zip(header, ["1", "抖音", "信工青年", "xg_dy", "3000", "张三", "13912345678"])):
        table.cell(0, c).text, table.cell(1, c).text = h, v
    doc.save(tmp_path / f"{UNIT}.docx")
    report = validate(tmp_path / f"{UNIT}.docx")
    mismatch = next(i for i in report.issues if i.code == "header-mismatch")
    assert (mismatch.sheet, mismatch.row, mismatch.cell, mismatch.place()) == ("表格1", 1, None, "表格1（附件2） 第1行")
    filler = next(i for i in report.issues if i.code == "filler-missing")
    assert (filler.sheet, filler.row, filler.to_dict()["column"]) == ("表格1", None, None)
    assert filler.place() == "表格1（附件2） “填表人电话”"


def test_a_sheet_keeps_excels_cells(tmp_path):
    """The same table in a workbook: I8, as before (the Word words are for Word tables only)."""
    from builders import raw_workbook

    rows = [[t] for t in ABOVE2] + [FORM2, *FORM2_ROWS]
    path = raw_workbook(tmp_path / f"{UNIT}.xlsx", {"附件2": rows})
    report = validate(path)
    phone = next(i for i in report.issues if i.code == "phone-invalid")
    assert (phone.sheet, phone.row, phone.column, phone.to_dict()["column"]) == ("附件2", 6, "I", "I")
    assert phone.place() == "附件2 I6单元格 “联系电话”"
    assert not phone.in_table


def test_issues_keep_their_table_place_through_a_worker(tmp_path):
    """Issues travel from worker processes as pickled tuples: the table name keeps its kind."""
    import pickle

    report = validate(write_python_docx(tmp_path / f"{UNIT}.docx"))
    issue = next(i for i in report.issues if i.in_table and i.cell)
    back = Issue(*pickle.loads(pickle.dumps(tuple(getattr(issue, f) for f in Issue.__slots__))))
    assert back.in_table and back.cell == issue.cell and back == issue
