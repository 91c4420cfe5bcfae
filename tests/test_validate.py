"""netreg validate on what units really send back (SPEC §3–§6).

Every issue code of SPEC §4 is triggered at its cell and has a near miss that must stay
silent; the same content typed into our template, into a hand-made table and re-saved by
LibreOffice reads the same; row numbers are the ones Excel shows; the CLI keeps its contract.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from builders import (
    FILLER,
    edit,
    filled_template,
    first_data_row,
    hand_first_data_row,
    hand_layout,
    letter,
    libreoffice_resave,
    raw_workbook,
)
from typer.testing import CliRunner

from netreg.model import forms as F
from netreg.cli import app
from netreg.config import Campaign
from netreg.model.issues import CODES
from netreg.pipeline import validate_paths

AS_OF = date(2025, 11, 25)
UNIT = "医学院"
OTHER = "信息工程学院"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

VALID = {
    1: [{"site_name": "医学院官网", "owner": "张伟", "admin": "李娜", "phone": "13812345678",
         "sections": "学院概况、新闻动态", "last_update": date(2025, 11, 1)}],
    2: [{"platform": "微信公众号", "account_name": "漯职医学院", "account_id": "gh_0123456789ab",
         "followers": 5230, "opened": date(2019, 9, 1), "purpose": "信息发布", "admin": "李娜",
         "phone": "13812345678"},
        {"platform": "视频号", "account_name": "漯职医学院", "account_id": "sph1234", "followers": 800,
         "opened": date(2022, 3, 15), "purpose": "招生宣传", "admin": "李娜", "phone": "0395-3136789",
         "note": "已官方认证"}],
    3: [{"admin": "王强", "phone": "13912345678", "group_name": "2019级迎新工作群", "reason": "工作已结束",
         "cleaned": "是", "cleaned_on": date(2025, 10, 20)}],
    4: [{"group_type": "微信群", "group_name": "医学院教职工群", "members": 120, "purpose": "工作通知",
         "real_name": "是", "admin": "王强", "phone": "13912345678"},
        {"group_type": "QQ群", "group_name": "护理2023级1班", "members": 52, "purpose": "班级管理",
         "real_name": "是", "admin": "赵敏", "phone": "13612345678"}],
    5: [{"platform": "抖音", "account_id": "lhzy_doc", "account_name": "张医生说健康", "followers": 15000,
         "topic": "健康科普", "person": "张伟", "title": "副教授", "phone": "13712345678"},
        {"platform": "B站", "account_id": "12345678", "account_name": "小林的vlog", "followers": 2300,
         "topic": "校园生活", "person": "林晓", "major": "护理2023级", "phone": "15912345678"}],
}
STUDENT_PHONE, TEACHER_PHONE = "15912345678", "13712345678"


def rows(*changes: tuple[int, int, dict], base=None) -> dict:
    """VALID (or ``base``) with row ``index`` of form ``form`` updated; a None value blanks the cell."""
    out = copy.deepcopy(base if base is not None else VALID)
    for form, index, change in changes:
        row = out[form][index]
        for key, value in change.items():
            if value is None:
                row.pop(key, None)
            else:
                row[key] = value
    return out


def validate(*paths: Path, **kw):
    kw.setdefault("as_of", AS_OF)
    return validate_paths(list(paths), Campaign(), **kw)


def check(tmp_path: Path, content=None, name: str = f"{UNIT}.xlsx", filler=FILLER, **kw):
    """Our template filled with ``content`` (default VALID), validated."""
    path = filled_template(tmp_path / name, UNIT, VALID if content is None else content, filler)
    return validate(path, **kw)


def found(report, *codes: str) -> list[tuple]:
    """(code, sheet, row, column, field) of the issues with these codes (all when none given)."""
    return [(i.code, i.sheet, i.row, i.column, i.field) for i in report.issues if not codes or i.code in codes]


def cell(form_id: int, index: int, key: str) -> tuple[str, int, str, str]:
    """(sheet, row, column, field) of a data cell of our template."""
    form = F.FORMS_BY_ID[form_id]
    return form.sheet, first_data_row(form) + index, letter(form, key), form.column(key).label


# ---------------------------------------------------------------------------- the contract

SPEC_SEVERITIES = {  # SPEC §4, typed out from the table
    "file-unreadable": "error", "file-legacy-format": "error", "form-not-found": "warning",
    "header-mismatch": "error", "template-outdated": "warning", "unit-unknown": "warning",
    "unit-missing": "warning", "filler-missing": "error", "formula-cell": "warning",
    "extra-column": "warning", "required-missing": "error", "phone-invalid": "error",
    "date-invalid": "error", "date-in-future": "error", "date-imprecise": "warning",
    "number-invalid": "error", "number-approximate": "warning", "yes-no-invalid": "error",
    "choice-unknown": "warning", "website-stale": "warning", "student-phone-binding": "error",
    "video-account-uncertified": "info", "duplicate-account": "warning",
    "cleanup-date-missing": "error", "cleanup-pending": "warning", "real-name-incomplete": "error",
    "group-size-over-limit": "warning", "duplicate-group": "warning", "below-threshold": "warning",
    "category-missing": "error", "category-ambiguous": "warning", "duplicate-influencer": "warning",
    "file-unsupported": "error", "file-duplicate": "info", "netreg-output": "info", "sheet-ignored": "info",
    "form-empty": "info", "unit-not-listed": "warning",
    "cell-too-long": "warning",  # issue 15: a cell past Excel's 32,767 characters, cut in the summary
    "submission-late": "warning", "correction-late": "warning", "paper-missing": "warning", "file-superseded": "info",
}


def test_issue_codes_and_severities_are_the_public_contract():
    assert {code: str(c.severity) for code, c in CODES.items()} == SPEC_SEVERITIES


def test_a_valid_filled_template_has_no_issue_at_all(tmp_path):
    report = check(tmp_path)
    assert report.issues == ()
    assert report.exit_code(strict=True) == 0
    assert [(r.form.id, r.row) for r in report.records] == [
        (1, 5), (2, 5), (2, 6), (3, 5), (4, 5), (4, 6), (5, 6), (5, 7)]
    assert report.records[0].values == {
        "site_name": "医学院官网", "owner": "张伟", "admin": "李娜", "phone": "13812345678",
        "sections": "学院概况、新闻动态", "last_update": date(2025, 11, 1)}
    (f,) = report.files
    assert (f.unit, f.status, f.errors, f.warnings) == (UNIT, "ok", 0, 0)
    assert f.forms == {1: ("附件1", 1), 2: ("附件2", 2), 3: ("附件3", 1), 4: ("附件4", 2), 5: ("附件5", 2)}


# ---------------------------------------------------------------------------- cell rules

# (code, form, row index, change that triggers it, near miss that must not, key of the flagged cell)
CELL_CASES = [
    ("phone-invalid", 1, 0, {"phone": "0395-12345678"}, {"phone": "3136789"}, "phone"),
    ("phone-invalid", 2, 0, {"phone": "1381234567"}, {"phone": "+86 138 1234 5678"}, "phone"),
    ("phone-invalid", 4, 0, {"phone": "13912345678.5"}, {"phone": 13912345678}, "phone"),
    ("date-invalid", 1, 0, {"last_update": "2025-11-31"}, {"last_update": "2025年11月1日"}, "last_update"),
    ("date-invalid", 2, 0, {"opened": "去年"}, {"opened": "2019.9.1"}, "opened"),
    ("date-in-future", 2, 0, {"opened": date(2025, 11, 26)}, {"opened": date(2025, 11, 25)}, "opened"),
    ("date-in-future", 3, 0, {"cleaned_on": "2026-01-05"}, {"cleaned_on": "20251105"}, "cleaned_on"),
    ("date-imprecise", 2, 0, {"opened": "2019年9月"}, {"opened": "2019年9月1日"}, "opened"),
    ("number-invalid", 2, 0, {"followers": "五千"}, {"followers": "5,230"}, "followers"),
    ("number-invalid", 4, 0, {"members": -3}, {"members": 0}, "members"),
    ("number-approximate", 2, 0, {"followers": "约5000"}, {"followers": "5000"}, "followers"),
    ("number-approximate", 5, 0, {"followers": "1.5万+"}, {"followers": "1.5万"}, "followers"),
    ("yes-no-invalid", 4, 0, {"real_name": "大部分"}, {"real_name": "√"}, "real_name"),
    ("yes-no-invalid", 3, 0, {"cleaned": "是否"}, {"cleaned": "已解散"}, "cleaned"),
    ("choice-unknown", 2, 0, {"platform": "知乎"}, {"platform": "公众号"}, "platform"),
    ("choice-unknown", 4, 0, {"group_type": "飞书群"}, {"group_type": "企业微信"}, "group_type"),
    ("required-missing", 1, 0, {"owner": None}, {"owner": "张伟"}, "owner"),
    ("required-missing", 3, 0, {"reason": "无"}, {"note": "无"}, "reason"),
    ("required-missing", 5, 0, {"person": "/"}, {"person": "张 伟"}, "person"),
    ("website-stale", 1, 0, {"last_update": AS_OF - timedelta(days=91)},
     {"last_update": AS_OF - timedelta(days=90)}, "last_update"),
    ("video-account-uncertified", 2, 1, {"note": "未认证"}, {"note": "已官方认证"}, "note"),
    ("video-account-uncertified", 2, 1, {"note": None}, {"note": "官方认证（2023年）"}, "note"),
    ("cleanup-date-missing", 3, 0, {"cleaned_on": None}, {"cleaned_on": "2025/10/20"}, "cleaned_on"),
    ("cleanup-date-missing", 3, 0, {"cleaned_on": "无"}, {"cleaned_on": 45950}, "cleaned_on"),
    ("video-account-uncertified", 2, 1, {"note": "官方认证申请中，认证中"}, {"note": "已认证"}, "note"),
    ("cleanup-pending", 3, 0, {"cleaned": "否", "cleaned_on": None}, {"cleaned": "已清理"}, "cleaned"),
    ("real-name-incomplete", 4, 0, {"real_name": "否"}, {"real_name": "全部实名"}, "real_name"),
    ("group-size-over-limit", 4, 0, {"members": 501}, {"members": 500}, "members"),
    ("group-size-over-limit", 4, 1, {"members": "3001"}, {"members": "3000"}, "members"),
    ("below-threshold", 5, 0, {"followers": 1999}, {"followers": 2000}, "followers"),
    ("category-missing", 5, 0, {"title": None}, {"title": None, "major": "护理2023级"}, "title"),
    ("category-ambiguous", 5, 0, {"major": "护理2023级"}, {"title": "讲师"}, "major"),
]


@pytest.mark.parametrize("code, form, index, bad, good, key", CELL_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CELL_CASES)])
def test_cell_rule_and_its_near_miss(tmp_path, code, form, index, bad, good, key):
    report = check(tmp_path / "bad", rows((form, index, bad)))
    assert found(report, code) == [(code, *cell(form, index, key))]
    assert [i.code for i in report.issues] == [code]  # and nothing else
    assert report.issues[0].file == str(tmp_path / "bad" / f"{UNIT}.xlsx")
    assert (report.issues[0].unit, report.issues[0].form) == (UNIT, form)
    assert check(tmp_path / "good", rows((form, index, good))).issues == ()


def test_issue_values_are_as_typed(tmp_path):
    report = check(tmp_path, rows((1, 0, {"phone": "0395-12345678"}), (2, 0, {"followers": "约5000"}),
                                  (4, 0, {"members": 501})))
    assert [(i.code, i.value) for i in report.issues] == [
        ("phone-invalid", "0395-12345678"), ("number-approximate", "约5000"), ("group-size-over-limit", "501")]
    assert "5000" in report.issues[1].message and "500" in report.issues[2].message


def test_normalised_values(tmp_path):
    content = rows((1, 0, {"phone": "3136789"}), (2, 0, {"followers": "2.3万", "phone": "+86 138-1234-5678"}),
                   (3, 0, {"cleaned": "√", "cleaned_on": "2025.10.20"}), (4, 0, {"group_type": "企业微信"}))
    report = check(tmp_path, content)
    assert report.issues == ()
    values = {(r.form.id, r.row): r.values for r in report.records}
    assert values[1, 5]["phone"] == "0395-3136789"
    assert (values[2, 5]["followers"], values[2, 5]["phone"]) == (23000, "13812345678")
    assert (values[3, 5]["cleaned"], values[3, 5]["cleaned_on"]) == (True, date(2025, 10, 20))
    assert values[4, 5]["group_type"] == "企业微信群"


def test_cleanup_pending_is_not_also_missing_a_date(tmp_path):
    report = check(tmp_path, rows((3, 0, {"cleaned": "否", "cleaned_on": None})))
    assert [i.code for i in report.issues] == ["cleanup-pending"]


# ---------------------------------------------------------------------------- rules across rows and files

def test_student_phone_binding_from_another_units_form5(tmp_path):
    filled_template(tmp_path / f"{OTHER}.xlsx", OTHER, {5: [VALID[5][1]]})
    filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, rows((2, 0, {"phone": STUDENT_PHONE}), base={2: VALID[2]}))
    report = validate(tmp_path)
    assert found(report, "student-phone-binding") == [("student-phone-binding", *cell(2, 0, "phone"))]
    issue = next(i for i in report.issues if i.code == "student-phone-binding")
    assert (issue.unit, issue.value) == (UNIT, STUDENT_PHONE)
    assert OTHER in issue.message and "林晓" in issue.message


def test_a_teachers_phone_is_no_student_phone(tmp_path):
    report = check(tmp_path, rows((2, 0, {"phone": TEACHER_PHONE})))
    assert found(report, "student-phone-binding") == []


def test_student_phone_binding_within_one_unit_and_among_several_numbers(tmp_path):
    report = check(tmp_path, rows((2, 0, {"phone": f"13812345678/{STUDENT_PHONE}"})))
    assert found(report) == [("student-phone-binding", *cell(2, 0, "phone"))]


def test_student_phone_binding_from_a_roster(tmp_path):
    roster = tmp_path / "花名册.csv"
    roster.write_text("学号,姓名,手机号\n2023001,赵六,136 1234 9999\n", encoding="utf-8")
    content = rows((2, 1, {"phone": "13612349999"}))
    report = check(tmp_path / "a", content, roster=roster)
    assert found(report) == [("student-phone-binding", *cell(2, 1, "phone"))]
    assert "赵六" in report.issues[0].message
    roster.write_text("姓名,手机号\n赵六,13612340000\n", encoding="utf-8")
    assert check(tmp_path / "b", content, roster=roster).issues == ()


def test_duplicate_account_across_two_units(tmp_path):
    filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    filled_template(tmp_path / f"{OTHER}.xlsx", OTHER, rows((2, 0, {"account_id": "GH_0123456789AB "}),
                                                             base={2: [VALID[2][0]]}))
    report = validate(tmp_path)
    dup = [(i.unit, i.sheet, i.row, i.column, i.value) for i in report.issues if i.code == "duplicate-account"]
    assert dup == [(OTHER, "附件2", 5, "D", "GH_0123456789AB"), (UNIT, "附件2", 5, "D", "gh_0123456789ab")]


def test_same_account_id_on_another_platform_is_no_duplicate(tmp_path):
    report = check(tmp_path, rows((2, 1, {"account_id": "gh_0123456789ab"})))
    assert report.issues == ()


def test_duplicate_account_within_one_unit(tmp_path):
    report = check(tmp_path, rows((2, 1, {"platform": "公众号", "account_id": "gh_0123456789ab", "note": None})))
    assert found(report, "duplicate-account") == [
        ("duplicate-account", *cell(2, 0, "account_id")), ("duplicate-account", *cell(2, 1, "account_id"))]


def test_placeholder_account_ids_are_not_duplicates(tmp_path):
    content = rows((2, 0, {"account_id": "无"}), (2, 1, {"platform": "微信公众号", "account_id": "无", "note": None}))
    report = check(tmp_path, content)
    assert [i.code for i in report.issues] == ["required-missing", "required-missing"]


def test_duplicate_group(tmp_path):
    report = check(tmp_path, rows((4, 1, {"group_type": "微信", "group_name": "医学院教职工群 "})))
    assert found(report, "duplicate-group") == [
        ("duplicate-group", *cell(4, 0, "group_name")), ("duplicate-group", *cell(4, 1, "group_name"))]
    assert check(tmp_path / "qq", rows((4, 1, {"group_name": "医学院教职工群"}))).issues == ()


def test_groups_of_the_same_name_in_two_units_are_not_duplicates(tmp_path):
    filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    filled_template(tmp_path / f"{OTHER}.xlsx", OTHER, {4: VALID[4]})
    assert found(validate(tmp_path), "duplicate-group") == []


def test_duplicates_name_the_other_rows_sheet(tmp_path):
    hand_layout(tmp_path / f"{OTHER}.xlsx", OTHER, {2: [VALID[2][0]]})
    filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, {2: [VALID[2][0]]})
    messages = [i.message for i in validate(tmp_path).issues if i.code == "duplicate-account"]
    assert "另见 医学院 附件2 第5行" in messages[0] and "另见 信息工程学院 新媒体（附件2） 第6行" in messages[1]


def test_duplicate_influencer_across_units(tmp_path):
    filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    filled_template(tmp_path / f"{OTHER}.xlsx", OTHER, {5: [VALID[5][1]]})
    report = validate(tmp_path)
    dup = [(i.unit, i.sheet, i.row, i.column) for i in report.issues if i.code == "duplicate-influencer"]
    assert dup == [(OTHER, "附件5", 6, "C"), (UNIT, "附件5", 7, "C")]
    other = rows((5, 0, {"platform": "快手"}), base={5: [VALID[5][1]]})
    filled_template(tmp_path / f"{OTHER}.xlsx", OTHER, other)
    assert found(validate(tmp_path), "duplicate-influencer") == []


# ---------------------------------------------------------------------------- sheet and file rules

def test_form_not_found(tmp_path):
    content = {k: v for k, v in VALID.items() if k != 5}
    hand_layout(tmp_path / f"{UNIT}.xlsx", UNIT, content)
    report = validate(tmp_path)
    assert [(i.code, i.form, i.sheet, i.row) for i in report.issues] == [("form-not-found", 5, None, None)]
    assert report.issues[0].message.startswith("未找到附件5")


def test_form_left_blank_in_our_template_beside_filled_ones_is_information(tmp_path):
    report = check(tmp_path, {k: v for k, v in VALID.items() if k != 5})
    assert [(i.code, i.severity, i.form) for i in report.issues] == [("form-empty", "info", 5)]
    assert "没有填写任何内容" in report.issues[0].message and "“无”" in report.issues[0].message


def test_a_blank_template_sent_back_as_it_was_is_no_answer(tmp_path):
    report = check(tmp_path, {})
    assert [(i.code, i.form) for i in report.issues] == [("form-not-found", n) for n in range(1, 6)]
    assert report.issues[0].message.startswith("未填写附件1") and "“无”" in report.issues[0].message


def test_a_form_that_says_nothing_to_register(tmp_path):
    report = check(tmp_path, {**VALID, 5: [{"platform": "无"}]})
    assert report.issues == ()
    assert [r for r in report.records if r.form.id == 5] == []
    assert report.files[0].forms[5] == ("附件5", 0)


def test_form_found_in_another_file_of_the_same_unit(tmp_path):
    hand_layout(tmp_path / "分表", UNIT, VALID, separate=True)
    report = validate(tmp_path)
    assert report.issues == ()
    assert sorted(f.unit for f in report.files) == [UNIT] * 5
    assert len(report.records) == 8


def test_header_mismatch_when_a_required_column_is_missing(tmp_path):
    hand_layout(tmp_path / f"{UNIT}.xlsx", UNIT, rows((2, 0, {"opened": None}), (2, 1, {"opened": None})),
                headers={(2, "opened"): ""})
    report = validate(tmp_path)
    assert [(i.code, i.sheet, i.row) for i in report.issues] == [("header-mismatch", "新媒体", 5)]
    assert "缺少以下列：开通日期" in report.issues[0].message
    assert len([r for r in report.records if r.form.id == 2]) == 2


def test_header_with_an_alias_is_no_mismatch(tmp_path):
    hand_layout(tmp_path / f"{UNIT}.xlsx", UNIT, VALID,
                headers={(2, "opened"): "开通时间", (1, "owner"): "负责人", (5, "followers"): "粉丝数"})
    assert validate(tmp_path).issues == ()


def test_a_sheet_that_is_none_of_the_forms(tmp_path):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("统计")
    ws.append(["姓名", "部门", "备注"])
    ws.append(["张三", "教务处", ""])
    wb.save(path)
    report = validate(path)
    assert [(i.code, i.severity, i.sheet, i.row) for i in report.issues] == [("sheet-ignored", "info", "统计", None)]


def test_template_outdated(tmp_path):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID, meta={"format_version": "0"})
    report = validate(path)
    assert [(i.code, i.sheet, i.row) for i in report.issues] == [("template-outdated", None, None)]
    assert "版本 0" in report.issues[0].message
    for version in (str(F.FORMAT_VERSION), str(F.FORMAT_VERSION + 1)):
        path = filled_template(tmp_path / version / f"{UNIT}.xlsx", UNIT, VALID, meta={"format_version": version})
        assert validate(path).issues == ()


def test_unit_from_metadata_first(tmp_path):
    path = filled_template(tmp_path / f"{OTHER}.xlsx", UNIT, VALID)
    edit(path, "附件1", {"F1": "填报单位：团委"})
    report = validate(path)
    assert report.files[0].unit == UNIT and report.issues == ()


def test_unit_from_the_unit_text(tmp_path):
    hand_layout(tmp_path / "登记表.xlsx", OTHER, VALID)
    report = validate(tmp_path)
    assert report.files[0].unit == OTHER and report.issues == ()


def test_unit_from_the_file_name(tmp_path):
    hand_layout(tmp_path / f"{UNIT}-网络平台登记表（最终版）.xlsx", "", VALID, unit_text=False)
    report = validate(tmp_path)
    assert report.files[0].unit == UNIT and report.issues == ()


def test_unit_unknown_without_any_hint(tmp_path):
    hand_layout(tmp_path / "登记表.xlsx", "", VALID, unit_text=False)
    report = validate(tmp_path)
    assert [(i.code, i.sheet, i.row, i.column) for i in report.issues] == [("unit-unknown", None, None, None)]
    assert report.files[0].unit == "登记表"


def test_unit_not_listed_when_the_unit_text_is_not_on_the_list(tmp_path):
    hand_layout(tmp_path / "登记表.xlsx", "外语学院", VALID)
    report = validate(tmp_path)
    assert [(i.code, i.sheet, i.row, i.column, i.value) for i in report.issues] == [
        ("unit-not-listed", "大V", 2, "B", "外语学院")]
    assert report.files[0].unit == "外语学院"
    units = ["外语学院", UNIT]
    assert validate(tmp_path, units=units).issues == ()


def test_filler_missing_in_our_template(tmp_path):
    report = check(tmp_path, {1: VALID[1]}, filler=None)
    assert found(report, "filler-missing") == [("filler-missing", "附件1", 3, "E", "填表人")]
    message = next(i.message for i in report.issues if i.code == "filler-missing")
    assert "未填写填表人" in message and "未填写填表人电话" in message


def test_filler_phone_invalid_in_our_template(tmp_path):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID, filler=("王丽", "1391234567"))
    report = validate(path)
    assert [(i.code, i.sheet, i.row, i.column, i.field, i.value) for i in report.issues] == [
        ("filler-missing", f"附件{n}", 3, col, "联系电话" if n == 5 else "填表人电话", "1391234567")
        for n, col in ((1, "G"), (2, "J"), (3, "H"), (4, "I"), (5, "K"))]


def test_filler_name_present_phone_missing_points_at_the_phone_cell(tmp_path):
    report = check(tmp_path, {1: VALID[1]}, filler=("王丽", None))
    assert found(report, "filler-missing") == [("filler-missing", "附件1", 3, "G", "填表人电话")]


SITE_HEADER = [c.label for c in F.FORMS_BY_ID[1].columns]
SITE_ROW = [1, "医学院官网", "张伟", "李娜", "13812345678", "新闻动态", "2025-11-01"]


@pytest.mark.parametrize("line, problem", [
    (["填表人：王丽", None, None, "填表人电话：13912345678"], None),
    (["填表人：王丽   填表人电话：13912345678"], None),
    (["填表人：王丽  手机：13912345678"], None),
    (["填表人：王丽  电话：0395-3136789"], None),
    (["联系人：王丽  联系电话：13912345678"], None),
    (["填表人：", "王丽", "填表人联系电话：", 13912345678], None),
    (["单位负责人签名（盖章）：", None, "填表人：", "王丽", "填表人电话：", None], ("F1", "未填写填表人电话")),
    (["单位负责人签名（盖章）：", None, "填表人：", None, "填表人电话：", "13912345678"], ("D1", "未填写填表人")),
    (["填表人：王丽  手机：1391234567"], ("A1", "无效")),
])
def test_filler_lines_as_people_type_them(tmp_path, line, problem):
    path = raw_workbook(tmp_path / f"{UNIT}.xlsx", {"附件1": [line, SITE_HEADER, SITE_ROW]})
    report = validate(path)
    issues = [(i.cell, i.message) for i in report.issues if i.code == "filler-missing"]
    if problem is None:
        assert issues == []
    else:
        ((where, message),) = issues
        assert where == problem[0] and problem[1] in message
    assert [r.row for r in report.records] == [3]


def test_filler_read_from_one_line_of_text(tmp_path):
    hand_layout(tmp_path / "ok" / f"{UNIT}.xlsx", UNIT, VALID, filler=("王丽", "0395-3136789"))
    assert validate(tmp_path / "ok").issues == ()
    hand_layout(tmp_path / "bad" / f"{UNIT}.xlsx", UNIT, {1: VALID[1]}, filler=("", ""))
    report = validate(tmp_path / "bad")
    assert [(i.code, i.sheet, i.row, i.column) for i in report.issues if i.code == "filler-missing"] == [
        ("filler-missing", "网站", 4, "B")]


def test_filler_on_a_line_below_the_table(tmp_path):
    import xlsxwriter

    path = tmp_path / f"{UNIT}.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("附件1")
    form = F.FORMS_BY_ID[1]
    ws.write_row(0, 0, [c.label for c in form.columns])
    ws.write_row(1, 0, [1, "医学院官网", "张伟", "李娜", "13812345678", "新闻动态", "2025-11-01"])
    ws.write_row(3, 0, ["填表人：王丽", "", "", "填表人电话：13912345678"])
    ws = book.add_worksheet("附件2")
    ws.write_row(0, 0, [c.label for c in F.FORMS_BY_ID[2].columns])
    ws.write_row(1, 0, [1, "微信公众号", "漯职医学院", "gh_0123456789ab", 5230, "2019-09-01", "信息发布", "李娜",
                        "13812345678"])
    ws.write_row(2, 0, ["联系人：王丽  手机：139 1234 5678"])
    book.close()
    report = validate(path)
    assert [(i.code, i.form) for i in report.issues] == [("form-not-found", n) for n in (3, 4, 5)]
    assert [r.row for r in report.records] == [2, 2]


# ---------------------------------------------------------------------------- files

def test_random_bytes_are_unreadable_and_the_other_files_still_validated(tmp_path):
    (tmp_path / "坏文件.xlsx").write_bytes(os.urandom(3000))
    filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    report = validate(tmp_path)
    assert [(i.code, Path(i.file).name) for i in report.issues] == [("file-unreadable", "坏文件.xlsx")]
    assert [(Path(f.path).name, f.status) for f in report.files] == [
        ("医学院.xlsx", "ok"), ("坏文件.xlsx", "unreadable")]
    assert len(report.records) == 8
    assert report.exit_code() == 1


def test_only_unreadable_files_exit_2(tmp_path):
    (tmp_path / "坏文件.xlsx").write_bytes(b"not a workbook at all")
    report = validate(tmp_path)
    assert report.exit_code() == 2


def test_legacy_and_encrypted_files_are_classified_by_their_bytes(tmp_path):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")  # an .xls saved under an .xlsx name: read by its bytes
    sheet = book.add_sheet("附件1")
    for ci, col in enumerate(F.FORMS_BY_ID[1].columns):
        sheet.write(0, ci, col.label)
    book.save(str(tmp_path / "医学院.xlsx"))
    (tmp_path / "团委.xlsx").write_bytes(OLE2 + bytes(512) + "EncryptionInfo".encode("utf-16-le") + bytes(512))
    (tmp_path / "教务处.doc").write_bytes(OLE2 + bytes(512) + "WordDocument".encode("utf-16-le") + bytes(2048))
    (tmp_path / "图书馆.wps").write_bytes(OLE2 + bytes(512) + "WordDocument".encode("utf-16-le") + bytes(1024))
    report = validate(tmp_path)
    files = {Path(f.path).name: (f.status, f.format) for f in report.files}
    assert files["医学院.xlsx"] == ("ok", "xls")
    assert sorted((Path(i.file).name, i.code, i.unit) for i in report.issues if i.code.startswith("file-")) == [
        ("团委.xlsx", "file-unreadable", "团委"), ("图书馆.wps", "file-legacy-format", "图书馆"),
        ("教务处.doc", "file-legacy-format", "教务处")]
    messages = {Path(i.file).name: i.message for i in report.issues}
    assert "旧版 Word" in messages["教务处.doc"] and "另存为" in messages["教务处.doc"]
    assert "WPS 文字" in messages["图书馆.wps"]
    assert "密码" in messages["团委.xlsx"]


def test_an_xlsx_saved_under_an_xls_name_is_read(tmp_path):
    path = filled_template(tmp_path / "x.xlsx", UNIT, VALID)
    path.rename(tmp_path / f"{UNIT}.xls")
    report = validate(tmp_path)
    assert report.issues == () and len(report.records) == 8


def test_office_lock_files_are_skipped(tmp_path):
    filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    lock = tmp_path / f"~${UNIT}.xlsx"
    lock.write_bytes(b"\x06" + "王丽".encode("utf-16-le").ljust(160, b"\x00"))
    report = validate(tmp_path)
    assert [Path(f.path).name for f in report.files] == [f"{UNIT}.xlsx"] and report.issues == ()
    assert validate(lock).files == ()


def test_an_empty_workbook(tmp_path):
    import openpyxl

    openpyxl.Workbook().save(tmp_path / f"{UNIT}.xlsx")
    report = validate(tmp_path)
    assert [(i.code, i.form) for i in report.issues] == [("form-not-found", n) for n in range(1, 6)]
    assert report.files[0].status == "ok" and report.exit_code() == 1  # sent back with nothing in it: to fix


# ---------------------------------------------------------------------------- reading

def test_row_numbers_are_excels_after_blank_seq_only_and_placeholder_rows(tmp_path):
    r1 = VALID[1][0]
    content = {1: [r1, None, {}, {"site_name": "无", "owner": "无", "admin": "/", "phone": "—"},
                   {**r1, "site_name": "招生网"}, None, None, {**r1, "site_name": "就业网", "owner": None}]}
    report = check(tmp_path / "t", content)
    assert [r.row for r in report.records] == [5, 9, 12]
    assert found(report, "required-missing") == [("required-missing", "附件1", 12, "C", "网站负责人")]
    hand_layout(tmp_path / "h" / f"{UNIT}.xlsx", UNIT, content, preamble=6)
    report = validate(tmp_path / "h")
    first = hand_first_data_row(F.FORMS_BY_ID[1], preamble=6)
    assert first == 10
    assert [r.row for r in report.records] == [first, first + 4, first + 7]
    assert found(report, "required-missing") == [("required-missing", "网站", first + 7, "D", "网站负责人")]


def test_table_far_from_a1_keeps_excel_positions(tmp_path):
    hand_layout(tmp_path / f"{UNIT}.xlsx", UNIT, rows((1, 0, {"phone": "123"})), preamble=9, col0=3)
    report = validate(tmp_path)
    assert found(report) == [("phone-invalid", "网站", 13, "H", "联系电话")]


def test_data_in_an_extra_column_is_kept_and_flagged(tmp_path):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    edit(path, "附件1", {"H4": "网址", "H5": "https://yxy.lzvtc.edu.cn", "I5": "备用"})
    report = validate(path)
    assert found(report) == [("extra-column", "附件1", 5, "H", "网址"), ("extra-column", "附件1", 5, "I", "I列")]
    assert report.records[0].extras == {"网址": "https://yxy.lzvtc.edu.cn", "I列": "备用"}
    assert report.records[0].values == check(tmp_path / "plain").records[0].values


def test_an_extra_header_without_data_is_fine(tmp_path):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    edit(path, "附件1", {"H4": "网址"})
    assert validate(path).issues == ()


def test_a_row_with_data_only_in_an_extra_column_is_kept(tmp_path):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    edit(path, "附件1", {"H4": "网址", "H7": "https://old.example.cn"})
    report = validate(path)
    rec = [r for r in report.records if r.form.id == 1][-1]
    assert (rec.row, rec.extras) == (7, {"网址": "https://old.example.cn"})


def test_formula_cells_are_kept_as_text_and_never_evaluated(tmp_path):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    edit(path, "附件1", {"F5": "=A1&B1"})
    edit(path, "附件2", {"J5": '=DISPIMG("ID_1",1)', "E6": "=SUM(1,2)"})
    report = validate(path)
    assert found(report) == [("formula-cell", "附件1", 5, "F", "网站栏目"),
                             ("formula-cell", "附件2", 5, "J", "备注"),
                             ("formula-cell", "附件2", 6, "E", "粉丝人数")]
    values = {(r.form.id, r.row): r.values for r in report.records}
    assert values[1, 5]["sections"] == "=A1&B1"
    assert values[2, 5]["note"] == '=DISPIMG("ID_1",1)'
    assert values[2, 6]["followers"] == "=SUM(1,2)"
    assert [i.value for i in report.issues] == ["=A1&B1", '=DISPIMG("ID_1",1)', "=SUM(1,2)"]


def test_a_row_holding_only_a_picture_formula_is_kept(tmp_path):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    edit(path, "附件1", {"F7": '=DISPIMG("ID_2",1)'})
    report = validate(path)
    recs = [r for r in report.records if r.form.id == 1]
    assert [r.row for r in recs] == [5, 7]
    assert ("formula-cell", "附件1", 7, "F", "网站栏目") in found(report)


def test_text_that_looks_like_a_formula_is_plain_text(tmp_path):
    import openpyxl

    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    wb = openpyxl.load_workbook(path)
    c = wb["附件1"]["F5"]
    c.value, c.data_type = "=学院概况", "s"
    wb.save(path)
    report = validate(path)
    assert report.issues == () and report.records[0].values["sections"] == "=学院概况"


def test_a_sheet_whose_only_row_says_nothing(tmp_path):
    hand_layout(tmp_path / f"{UNIT}.xlsx", UNIT, {**VALID, 3: [{"admin": "无"}], 4: [{"group_name": "暂无"}]},
                filler=FILLER)
    report = validate(tmp_path)
    assert report.issues == ()
    assert sorted({r.form.id for r in report.records}) == [1, 2, 5]


@pytest.mark.parametrize("cells", [{"A5": "无"}, {"A5": None, "B5": "本单位暂无此类情况"},
                                   {"A5": "本部门没有需要登记的网站。"}, {"B5": "无", "G5": "/"}])
def test_ways_of_saying_nothing_to_register(tmp_path, cells):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, {k: v for k, v in VALID.items() if k != 1})
    edit(path, "附件1", cells)
    report = validate(path)
    assert report.issues == () and [r for r in report.records if r.form.id == 1] == []


def test_a_lone_value_that_merely_starts_with_wu_is_data(tmp_path):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, VALID)
    edit(path, "附件1", {"B6": "无锡校区网站"})
    report = validate(path)
    assert [r.row for r in report.records if r.form.id == 1] == [5, 6]


def test_a_data_row_whose_note_mentions_a_phone_label_is_kept(tmp_path):
    content = rows((2, 0, {"note": "联系电话：0395-3136789"}), (4, 0, {"purpose": "填表人：王丽", "note": "单位负责人：张伟"}))
    for how, path in ((filled_template, tmp_path / "t" / f"{UNIT}.xlsx"), (hand_layout, tmp_path / "h" / f"{UNIT}.xlsx")):
        how(path, UNIT, content)
        report = validate(path.parent)
        assert report.issues == (), how
        assert len(report.records) == 8


def test_a_data_row_that_starts_with_a_label_word_is_kept(tmp_path):
    content = rows((3, 0, {"admin": "填表人", "reason": "联系电话变更"}))
    report = check(tmp_path, content)
    assert report.issues == () and len(report.records) == 8


@pytest.mark.parametrize("row", [{"site_name": "附件1网站"}, {"sections": "注：栏目待定"},
                                 {"site_name": "联系电话"}, {"sections": "填表人：王丽"},
                                 {"owner": "单位负责人签名（盖章）：张伟"},
                                 {"site_name": "漯河职业技术学院网站平台更新登记备案表"}])
def test_a_row_with_only_one_cell_filled_is_kept(tmp_path, row):
    content = {**VALID, 1: [VALID[1][0], row, VALID[1][0]]}
    report = check(tmp_path / "t", content)
    assert [r.row for r in report.records if r.form.id == 1] == [5, 6, 7]
    hand_layout(tmp_path / "h" / f"{UNIT}.xlsx", UNIT, content, seq=False)
    report = validate(tmp_path / "h")
    assert [r.row for r in report.records if r.form.id == 1] == [6, 7, 8]
    typed = [r.values for r in report.records if r.form.id == 1]
    assert typed == [r.values for r in check(tmp_path / "t2", content).records if r.form.id == 1]


def test_lower_case_and_odd_header_texts(tmp_path):
    hand_layout(tmp_path / f"{UNIT}.xlsx", UNIT, VALID,
                headers={(2, "account_id"): "账号id", (5, "account_id"): "账号 Id", (4, "members"): "群 人 数",
                         (3, "cleaned"): "是否已清理\n（是/否）", (1, "last_update"): "最后更新日期*",
                         (1, "site_name"): "网站名称及网址", (2, "admin"): "管理员姓名（教职工）"})
    assert validate(tmp_path).issues == ()


def test_category_sub_headers_typed_with_separators(tmp_path):
    hand_layout(tmp_path / f"{UNIT}.xlsx", UNIT, VALID,
                headers={(5, "title"): "职务/职称（教师填写）", (5, "major"): "专业、年级\n(学生填写)"})
    report = validate(tmp_path)
    assert report.issues == ()
    assert comparable(report) == comparable(check(tmp_path / "t"))


def test_unrecognised_category_sub_headers_are_no_data_row(tmp_path):
    hand_layout(tmp_path / f"{UNIT}.xlsx", UNIT, VALID, headers={(5, "title"): "教师栏", (5, "major"): "学生栏"})
    report = validate(tmp_path)
    assert found(report) == [("header-mismatch", "大V", 5, None, None),
                             ("extra-column", "大V", 7, "I", "教师栏"), ("extra-column", "大V", 8, "J", "学生栏")]
    assert [r.row for r in report.records if r.form.id == 5] == [7, 8]
    assert report.records[0].extras == {"教师栏": "副教授"}


def test_issues_are_listed_in_workbook_sheet_order(tmp_path):
    hand_layout(tmp_path / f"{UNIT}.xlsx", UNIT, rows((3, 0, {"cleaned": "否", "cleaned_on": None}),
                                                      (5, 0, {"followers": 1999})))
    assert [(i.sheet, i.code) for i in validate(tmp_path).issues] == [
        ("大V", "below-threshold"), ("Sheet2", "cleanup-pending")]


def test_two_forms_in_one_sheet(tmp_path):
    hand_layout(tmp_path / "a", UNIT, VALID, separate=True)
    import openpyxl

    src1, src2 = openpyxl.load_workbook(tmp_path / "a" / "网站.xlsx"), openpyxl.load_workbook(tmp_path / "a" / "新媒体.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    for src in (src1, src2):
        for row in src.active.iter_rows(values_only=True):
            ws.append(row)
        ws.append([])
    wb.save(tmp_path / f"{UNIT}.xlsx")
    report = validate(tmp_path / f"{UNIT}.xlsx")
    assert [(r.form.id, r.row) for r in report.records] == [(1, 6), (2, 13), (2, 14)]
    assert [i.code for i in report.issues] == ["form-not-found"] * 3


# ---------------------------------------------------------------------------- three ways, one content

CONTENT = rows((1, 0, {"last_update": AS_OF - timedelta(days=200)}),
               (2, 0, {"followers": "约5000", "phone": "1381234567"}),
               (2, 1, {"note": None}),
               (3, 0, {"cleaned": "否", "cleaned_on": None}),
               (4, 1, {"members": 3500, "real_name": "否"}),
               (5, 0, {"followers": 1999, "major": "护理2023级"}))
CONTENT[1].append({"site_name": "招生网", "owner": "刘洋", "admin": "刘洋", "phone": "0395 3136789",
                   "sections": "招生计划", "last_update": date(2025, 9, 1)})
CONTENT[3].append({"admin": "王强", "phone": "13912345678", "group_name": "2020级实习群", "reason": "实习结束",
                   "cleaned": "是", "cleaned_on": "2025年10月"})


def comparable(report):
    records = sorted(((r.form.id, r.values) for r in report.records), key=lambda fv: fv[0])
    issues = sorted((i.code, i.form, i.field, i.value) for i in report.issues)
    return records, issues


@pytest.fixture(scope="module")
def three_ways(tmp_path_factory):
    root = tmp_path_factory.mktemp("three")
    template = filled_template(root / "t" / f"{UNIT}.xlsx", UNIT, CONTENT)
    (hand,) = hand_layout(root / "h" / f"{UNIT}.xlsx", UNIT, CONTENT)
    return root, template, hand


def test_template_and_hand_layout_read_the_same(three_ways):
    _root, template, hand = three_ways
    a, b = validate(template), validate(hand)
    assert comparable(a) == comparable(b)
    codes = sorted({i.code for i in a.issues})
    assert codes == ["below-threshold", "category-ambiguous", "cleanup-pending", "date-imprecise",
                     "group-size-over-limit", "number-approximate", "phone-invalid",
                     "real-name-incomplete", "video-account-uncertified", "website-stale"]
    assert len(a.records) == 10


def test_five_separate_workbooks_read_the_same(three_ways, tmp_path):
    _root, template, _hand = three_ways
    hand_layout(tmp_path / "分表", UNIT, CONTENT, separate=True)
    assert comparable(validate(tmp_path)) == comparable(validate(template))


@pytest.mark.parametrize("which", ["hand", "template"])
def test_libreoffice_resave_reads_the_same(three_ways, which):
    root, template, hand = three_ways
    src = hand if which == "hand" else template
    resaved = libreoffice_resave(src, root / f"lo-{which}")
    assert comparable(validate(resaved)) == comparable(validate(template))
    if which == "template":
        assert [(i.code, i.row, i.column) for i in validate(resaved).issues] == \
               [(i.code, i.row, i.column) for i in validate(template).issues]


# ---------------------------------------------------------------------------- command line

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["validate", *args])


def test_cli_json_is_one_document_equal_to_the_library_report(tmp_path):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, CONTENT)
    (tmp_path / "坏文件.xlsx").write_bytes(b"junk")
    result = invoke(str(tmp_path), "--as-of", "2025-11-25", "--format", "json")
    assert result.exit_code == 1, result.stderr
    doc = json.loads(result.stdout)
    assert doc == validate_paths([tmp_path], Campaign(), as_of=AS_OF).to_dict()
    assert set(doc) == {"summary", "files", "issues"}
    assert set(doc["summary"]) == {"files", "units", "rows", "errors", "warnings", "infos"}
    assert doc["summary"]["files"] == 2 and doc["summary"]["rows"] == 10
    for f in doc["files"]:
        assert set(f) == {"path", "unit", "status", "format", "reader", "forms", "errors", "warnings"}
    ok = next(f for f in doc["files"] if f["status"] == "ok")
    assert ok["path"] == str(path) and ok["forms"]["1"] == {"sheet": "附件1", "rows": 2}
    for i in doc["issues"]:
        file_level = {"reason"} if i["code"] in ("file-unreadable", "file-legacy-format") else set()
        assert set(i) == {"code", "severity", "file", "unit", "form", "sheet", "row", "column", "field",
                          "value", "message"} | file_level
    bad = next(i for i in doc["issues"] if i["code"] == "file-unreadable")
    assert bad["file"].endswith("坏文件.xlsx") and bad["reason"] == "corrupt"
    phone = next(i for i in doc["issues"] if i["code"] == "phone-invalid")
    assert phone == {**phone, "severity": "error", "unit": UNIT, "form": 2, "sheet": "附件2", "row": 5,
                     "column": "I", "field": "联系电话", "value": "1381234567"}


def test_cli_exit_codes(tmp_path):
    filled_template(tmp_path / "clean" / f"{UNIT}.xlsx", UNIT, VALID)
    filled_template(tmp_path / "warn" / f"{UNIT}.xlsx", UNIT, rows((5, 0, {"followers": 1999})))
    filled_template(tmp_path / "err" / f"{UNIT}.xlsx", UNIT, rows((1, 0, {"phone": "123"})))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "坏.xlsx").write_bytes(b"junk")
    (tmp_path / "empty").mkdir()
    day = ("--as-of", "2025-11-25")
    assert invoke(str(tmp_path / "clean"), *day).exit_code == 0
    assert invoke(str(tmp_path / "clean"), *day, "--strict").exit_code == 0
    assert invoke(str(tmp_path / "warn"), *day).exit_code == 0
    assert invoke(str(tmp_path / "warn"), *day, "--strict").exit_code == 1
    assert invoke(str(tmp_path / "err"), *day).exit_code == 1
    assert invoke(str(tmp_path / "junk"), *day).exit_code == 2
    assert invoke(str(tmp_path / "empty"), *day).exit_code == 2
    bad_format = invoke(str(tmp_path / "clean"), "--format", "xml")
    assert bad_format.exit_code == 2 and "--format" in bad_format.stderr
    bad_day = invoke(str(tmp_path / "clean"), "--as-of", "2025-13-45")
    assert bad_day.exit_code == 2 and "--as-of" in bad_day.stderr
    month = invoke(str(tmp_path / "clean"), "--as-of", "2025年11月")
    assert month.exit_code == 2


def test_cli_json_with_nothing_readable_is_still_one_document(tmp_path):
    (tmp_path / "坏.xlsx").write_bytes(b"junk")
    result = invoke(str(tmp_path), "--format", "json", "--as-of", "2025-11-25")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["files"][0]["status"] == "unreadable"


def test_cli_text_report_names_file_sheet_and_cell_and_masks_phones(tmp_path):
    filled_template(tmp_path / f"{OTHER}.xlsx", OTHER, {5: [VALID[5][1]]}, filler=("李梅", "13512345678"))
    filled_template(tmp_path / f"{UNIT}.xlsx", UNIT,
                    rows((2, 0, {"phone": STUDENT_PHONE}), (1, 0, {"phone": "138123456789"})),
                    filler=("王丽", "1391234567"))
    result = invoke(str(tmp_path), "--as-of", "2025-11-25")
    out = result.stdout
    assert result.exit_code == 1
    assert f"{UNIT}.xlsx" in out and "附件2" in out and "I5单元格" in out and "E5单元格" in out
    assert "“联系电话”" in out and "绑定学生手机号" in out
    assert re.findall(r"1[3-9]\d{9}", out) == []
    assert "159****5678" in out


def test_cli_never_modifies_the_input(tmp_path):
    path = filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, CONTENT)
    (hand,) = hand_layout(tmp_path / "手工表.xlsx", UNIT, CONTENT)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (path, hand)}
    stat = {p: p.stat().st_mtime_ns for p in (path, hand)}
    for fmt in ("text", "json"):
        invoke(str(tmp_path), "--format", fmt, "--as-of", "2025-11-25")
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (path, hand)} == before
    assert {p: p.stat().st_mtime_ns for p in (path, hand)} == stat
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, hand.name])


def test_cli_as_a_program(tmp_path):
    import subprocess
    import sys

    filled_template(tmp_path / f"{UNIT}.xlsx", UNIT, rows((1, 0, {"phone": "123"})))
    done = subprocess.run([sys.executable, "-m", "netreg", "validate", str(tmp_path), "--format", "json",
                           "--as-of", "2025-11-25"], capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout) == validate(tmp_path).to_dict()
    assert done.stderr == ""


def test_cli_roster_option(tmp_path):
    filled_template(tmp_path / "in" / f"{UNIT}.xlsx", UNIT, rows((2, 1, {"phone": "13612349999"})))
    roster = tmp_path / "roster.csv"
    roster.write_text("姓名,手机号\n赵六,13612349999\n", encoding="utf-8")
    result = invoke(str(tmp_path / "in"), "--roster", str(roster), "--format", "json", "--as-of", "2025-11-25")
    assert [i["code"] for i in json.loads(result.stdout)["issues"]] == ["student-phone-binding"]
    missing = invoke(str(tmp_path / "in"), "--roster", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2


def test_files_checked_on_several_cores_give_the_same_report(tmp_path, monkeypatch):
    import netreg.pipeline as V

    for i, unit in enumerate(["医学院", "图书馆", "团委", "教务处", "组织部", "信息工程学院"]):
        build = filled_template if i % 2 else hand_layout
        build(tmp_path / f"{unit}.xlsx", unit,
              {2: [{"platform": "公众号", "account_name": f"{unit}号", "account_id": f"gh_{i:012d}",
                    "followers": "约3000", "opened": "2024.5.1", "purpose": "宣传", "admin": "王丽",
                    "phone": "1381234567" if i == 3 else "13812345678", "note": ""}]})
    (tmp_path / "坏文件.xlsx").write_bytes(b"not a workbook")
    monkeypatch.setattr(V, "PARALLEL_MIN_FILES", 10**9)
    serial = validate_paths([tmp_path], Campaign(), as_of=AS_OF).to_dict()
    monkeypatch.setattr(V, "PARALLEL_MIN_FILES", 2)
    parallel = validate_paths([tmp_path], Campaign(), as_of=AS_OF).to_dict()
    assert parallel == serial
    assert serial["summary"]["files"] == 7 and serial["summary"]["rows"] == 6


# ------------------------------------------------------------------ 附件5 with one 类别 column

_F5_HEAD = ["序号", "账号平台", "账号ID", "账号名称", "粉丝数量", "创作方向", "姓名", "类别", "联系方式", "备注"]
_F5_PRE = [["附件5"], ["“网络大V”信息统计表"],
           [f"填报单位：{UNIT}", None, None, None, "填表人：王丽", None, "联系电话：13912345678"]]


def test_a_single_category_column_is_read_into_title_or_major(tmp_path):
    """A hand-made 附件5 with one 类别 column (no 职务职称/专业年级 row under it): every row is
    data, and each 类别 value goes to the teacher's or the student's column."""
    path = raw_workbook(tmp_path / f"{UNIT}.xlsx", {"附件5": _F5_PRE + [
        _F5_HEAD,
        [1, "抖音", "dy001", "医学小王", 5000, "科普", "王强", "副教授", "13812345678", None],
        [2, "微博", "wb002", "护理小李", 8000, "生活", "李梅", "护理2023级", "13712345678", None],
        [3, "B站", "bz003", "小张", 3000, "学习", "张三", "学生", "13612345678", None],
        [4, "快手", "ks004", "小赵", 4000, "学习", "赵六", None, "13512345678", None],
    ]})
    report = validate(path)
    recs = [(r.row, r.values["title"], r.values["major"]) for r in report.records]
    assert recs == [(5, "副教授", None), (6, None, "护理2023级"), (7, None, "学生"), (8, None, None)]
    form5 = [(i.code, i.cell) for i in report.issues if i.form == 5]
    assert form5 == [("category-missing", "H8")]


def test_the_row_under_a_category_header_is_data_when_it_looks_like_data(tmp_path):
    """类别 announces a second header row only when that row holds text under 类别 alone; a
    data row right below the header is never swallowed as a sub-header."""
    head2 = [None] * 7 + ["教师", "学生"]  # sub-headers typed beyond recognition, under 类别
    two_rows = ["序号", "账号平台", "账号ID", "账号名称", "粉丝数量", "创作方向", "姓名", "类别", None, "联系方式", "备注"]
    data = [1, "抖音", "dy001", "医学小王", 5000, "科普", "王强", "副教授", None, "13812345678", None]
    path = raw_workbook(tmp_path / f"{UNIT}.xlsx", {"附件5": _F5_PRE + [two_rows, head2, data]})
    report = validate(path)
    assert [r.row for r in report.records] == [6]
    path = raw_workbook(tmp_path / "b" / f"{UNIT}.xlsx", {"附件5": _F5_PRE + [two_rows, data]})
    report = validate(path)
    assert [r.row for r in report.records] == [5]


def test_meiyou_in_a_yes_no_column_answers_no(tmp_path):
    """没有 is a filler in other columns, but 是否已清理：没有 means 否, not a blank cell."""
    report = check(tmp_path, rows((3, 0, {"cleaned": "没有", "cleaned_on": None}), (4, 0, {"real_name": "没有"})))
    assert [(i.code, i.sheet, i.row) for i in report.issues] == [
        ("cleanup-pending", "附件3", first_data_row(F.FORMS_BY_ID[3])),
        ("real-name-incomplete", "附件4", first_data_row(F.FORMS_BY_ID[4]))]
    by_form = {}
    for r in report.records:
        by_form.setdefault(r.form.id, r.values)  # the first row of each form
    assert by_form[3]["cleaned"] is False and by_form[4]["real_name"] is False


# ------------------------------------------------------------------ merged cells in the data area

def _merged_sheet(path: Path, merges: list[tuple[int, int, int, int, object]], n_rows: int = 3,
                  blank_rows: int = 0) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("附件2")
    ws.write_row(0, 0, ["附件2"])
    ws.write_row(1, 0, ["新媒体平台登记备案表"])
    ws.write_row(2, 0, [f"填报单位：{UNIT}", "", "", "", "填表人：王丽", "", "联系电话：13912345678"])
    ws.write_row(3, 0, ["序号", "网络平台", "账号名称", "账号ID", "粉丝人数", "开通日期", "主要用途", "管理员姓名",
                        "联系电话", "备注"])
    for i in range(n_rows):
        ws.write_row(4 + i, 0, [i + 1, "抖音", f"医学院{i}号", f"dy00{i}", 3000, "2020-01-01", "宣传"])
    for i in range(n_rows, n_rows + blank_rows):  # numbered like the template, nothing typed
        ws.write(4 + i, 0, i + 1)
    for r0, c0, r1, c1, value in merges:
        ws.merge_range(r0, c0, r1, c1, value)
    book.close()
    return path


def test_a_value_merged_over_several_data_rows_belongs_to_each(tmp_path):
    """WPS users merge 管理员姓名/联系电话 over the rows of the accounts one person manages:
    every row shows the value, so every row has it (no false 必填 errors)."""
    # 李娜 is merged on over a blank row 8 (序号 4 only): a merged value alone makes no data row.
    path = _merged_sheet(tmp_path / f"{UNIT}.xlsx", [(4, 7, 7, 7, "李娜"), (4, 8, 7, 8, "13812345678"),
                                                    (4, 9, 5, 10, "共用")], blank_rows=1)
    report = validate(path)
    assert [(r.row, r.values["admin"], r.values["phone"], r.values.get("note"))
            for r in report.records if r.form.id == 2] == [
        (5, "李娜", "13812345678", "共用"), (6, "李娜", "13812345678", "共用"), (7, "李娜", "13812345678", None)]
    assert [i for i in report.issues if i.form == 2] == []


def test_a_merge_reaching_down_from_the_header_fills_no_data_row(tmp_path):
    path = _merged_sheet(tmp_path / f"{UNIT}.xlsx", [(3, 9, 4, 9, "备注")], n_rows=2)
    report = validate(path)
    assert [r.values.get("note") for r in report.records if r.form.id == 2] == [None, None]


def test_a_row_numbering_the_columns_under_the_header_is_no_data(tmp_path):
    """Official forms often number their columns (栏次) on the row under the header."""
    numbers = list(range(1, 11))
    row = [1, "抖音", "dy001", "医学小王", 5000, "科普", "王强", "副教授", "13812345678", None]
    head = _F5_HEAD[:7] + ["职务职称", "联系方式", "备注"]
    report = validate(raw_workbook(tmp_path / f"{UNIT}.xlsx", {"附件5": _F5_PRE + [head, numbers, row]}))
    assert [(r.row, r.values["account_id"]) for r in report.records] == [(6, "dy001")]
    assert [i for i in report.issues if i.form == 5] == []
    # text that float() reads as infinite is no column number (and no crash)
    odd = [1, "inf", "1e999", "nan", "-inf", "科普", "王强", "副教授", "13812345678", None]
    report = validate(raw_workbook(tmp_path / "c" / f"{UNIT}.xlsx", {"附件5": _F5_PRE + [head, odd, row]}))
    assert [r.row for r in report.records] == [5, 6]
    assert not [i for i in report.issues if i.code == "file-unreadable"]
    # the same numbers as a data row further down are data, and say so
    report = validate(raw_workbook(tmp_path / "b" / f"{UNIT}.xlsx", {"附件5": _F5_PRE + [head, row, numbers]}))
    assert [r.row for r in report.records] == [5, 6]


def test_a_totals_row_is_no_data_but_a_row_that_merely_says_heji_is(tmp_path):
    row = [1, "抖音", "dy001", "医学小王", 5000, "科普", "王强", "副教授", "13812345678", None]
    head = _F5_HEAD[:7] + ["职务职称", "联系方式", "备注"]
    totals = ["合 计", None, None, None, 5000]
    report = validate(raw_workbook(tmp_path / f"{UNIT}.xlsx", {"附件5": _F5_PRE + [head, row, totals]}))
    assert [r.row for r in report.records] == [5]
    assert [i for i in report.issues if i.form == 5] == []
    named = [2, "微博", "wb002", "合计", 3000, "科普", "李梅", "讲师", "13712345678", None]  # an account called 合计
    report = validate(raw_workbook(tmp_path / "b" / f"{UNIT}.xlsx", {"附件5": _F5_PRE + [head, row, named]}))
    assert [r.row for r in report.records] == [5, 6]
