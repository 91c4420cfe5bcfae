"""A label/value form, one account per table (issue 26 item 5c, SPEC §3): 账号名称：… 粉丝数：… in the
cells of a small table, one table per account or group, as some schools' Word notices lay out
a 备案表. Each table is one row of the right 附件 with every label mapped, and a planted problem
is reported where the value was typed (表格N 第r行 第c列, checked against python-docx)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from netreg.config import Campaign
from netreg.pipeline import validate_paths

AS_OF = date(2025, 11, 25)
UNIT = "信息工程学院"
ABOVE = ["附件2", "新媒体账号备案表", f"填报单位：{UNIT}"]
BELOW = "填表人：王丽    填表人电话：13912345678"

# Table 1: label | value | label | value, 备注's value merged over the last three cells.
ACCOUNT = [["账号名称", "信工之声", "账号类型", "微信公众号"],
           ["账号ID", "gh_xg001", "粉丝数", "5230"],
           ["开通时间", "2019-03-01", "主要用途", "信息发布"],
           ["管理员", "李明", "联系电话", "1381234567"],  # phone-invalid: 第4行 第4列
           ["备注", "", "", ""]]
ACCOUNT_MERGED = [(4, 1, 4, 3)]
# Table 2: a title row, then 'label：value' pairs in the cells themselves.
PAIRS = [["新媒体账号备案表（二）", ""],
         ["账号名称：信工官微", "账号类型：微博"],
         ["账号ID：xg_wb", "粉丝数：很多"],  # number-invalid: 第3行 第2列
         ["开通时间：2020-05-01", "主要用途：宣传"],
         ["管理员：张三", "联系电话：13912345679"]]
PAIRS_MERGED = [(0, 0, 0, 1)]
# Table 3: a work group, label | value on each row.
GROUP = [["群名称", "信工教职工群"], ["群类型", "微信群"], ["群人数", "120"], ["主要用途", "工作通知"],
         ["是否全部实名", "否"],  # real-name-incomplete: 第5行 第2列
         ["群管理员", "王强"], ["联系电话", "13912345678"]]

PLANTED = {("phone-invalid", "表格1", 4, 4, "1381234567"), ("number-invalid", "表格2", 3, 2, "粉丝数：很多"),
           ("real-name-incomplete", "表格3", 5, 2, "否")}
TABLES = [(ACCOUNT, ACCOUNT_MERGED), (PAIRS, PAIRS_MERGED), (GROUP, [])]


def write_python_docx(path: Path) -> Path:
    import docx

    doc = docx.Document()
    for text in ABOVE:
        doc.add_paragraph(text)
    for n, (rows, merged) in enumerate(TABLES):
        if n:
            doc.add_paragraph("附件4" if rows is GROUP else "")
        table = doc.add_table(rows=len(rows), cols=len(rows[0]))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                if value:
                    table.cell(r, c).text = value
        for r0, c0, r1, c1 in merged:
            table.cell(r0, c0).merge(table.cell(r1, c1))
    doc.add_paragraph(BELOW)
    doc.save(path)
    return path


def write_libreoffice(tmp_path: Path) -> Path:
    from office import html_table, html_to_docx, require_soffice

    require_soffice()

    body = "".join(f"<p>{t}</p>" for t in ABOVE)
    for n, (rows, merged) in enumerate(TABLES):
        body += ("<p>附件4</p>" if rows is GROUP else "<p></p>" if n else "") + html_table(rows, merged)
    html = tmp_path / f"{UNIT}.html"
    html.write_text(f'<html><head><meta charset="utf-8"></head><body>{body}<p>{BELOW}</p></body></html>',
                    encoding="utf-8")
    return html_to_docx(html, tmp_path / "out")


@pytest.fixture(params=["python-docx", "libreoffice"])
def returned(request, tmp_path) -> Path:
    if request.param == "python-docx":
        return write_python_docx(tmp_path / f"{UNIT}.docx")
    return write_libreoffice(tmp_path)


def validate(path: Path):
    return validate_paths([path], Campaign(), units=[UNIT], as_of=AS_OF)


def flat(text) -> str:
    return re.sub(r"\s", "", str(text or ""))


def test_one_account_per_table_is_one_row_of_its_form(returned):
    report = validate(returned)
    assert [(r.form.id, r.sheet) for r in report.records] == [(2, "表格1"), (2, "表格2"), (4, "表格3")]
    first, second, group = (r.values for r in report.records)
    assert (first["platform"], first["account_name"], first["account_id"], first["followers"], first["opened"],
            first["purpose"], first["admin"], first["phone"]) == (
        "微信公众号", "信工之声", "gh_xg001", 5230, date(2019, 3, 1), "信息发布", "李明", "1381234567")
    assert (second["platform"], second["account_name"], second["account_id"], second["admin"]) == (
        "微博", "信工官微", "xg_wb", "张三")
    assert (group["group_type"], group["group_name"], group["members"], group["real_name"], group["admin"]) == (
        "微信群", "信工教职工群", 120, False, "王强")
    for rec in report.records:  # every label mapped: nothing left over as an extra column
        assert rec.extras == {}, rec.extras
    codes = {i.code for i in report.issues}
    assert not codes & {"header-mismatch", "extra-column", "sheet-ignored", "filler-missing", "required-missing",
                        "unit-unknown"}, sorted(codes)


def test_problems_are_reported_where_the_value_was_typed(returned):
    import docx

    report = validate(returned)
    tables = docx.Document(str(returned)).tables
    placed = set()
    for issue in report.issues:
        if issue.table_place is None:
            continue
        d = issue.to_dict()
        cell = tables[int(d["sheet"].removeprefix("表格")) - 1].cell(d["row"] - 1, d["column"] - 1)
        placed.add((issue.code, d["sheet"], d["row"], d["column"], cell.text.strip()))
        assert flat(issue.value) in flat(cell.text), (issue, cell.text)
    assert placed == PLANTED


def test_a_label_value_table_is_said_in_words_the_unit_finds(tmp_path):
    from netreg.render.terminal import issue_line

    report = validate(write_python_docx(tmp_path / f"{UNIT}.docx"))
    phone = next(i for i in report.issues if i.code == "phone-invalid")
    assert issue_line(phone).startswith("[电话号码无效] 表格1（附件2） 第4行 第4列（联系电话）：")


def test_a_table_of_ordinary_rows_is_not_read_as_pairs(tmp_path):
    """A note that only names a phone (联系人：… 联系电话：…) is no account."""
    import docx

    doc = docx.Document()
    table = doc.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "联系人：王丽", (0, 1): "联系电话：13912345678", (1, 0): "说明", (1, 1): "按要求报送"}.items():
        table.cell(r, c).text = text
    doc.save(tmp_path / f"{UNIT}.docx")
    report = validate(tmp_path / f"{UNIT}.docx")
    assert report.records == ()
    assert [i.code for i in report.issues if i.sheet] == ["sheet-ignored"]
