"""netreg template --prefill: last year's rows in each unit's workbook, checked as the
coordinator and the unit would: read back, they are the same rows; the sheets still guide and
check the filler; the CLI says which unit got what."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from builders import (
    FILLER,
    SCHOOL,
    column_index,
    filled_template,
    first_data_row,
    hand_layout,
)
from office import convert, require_soffice
from typer.testing import CliRunner

from netreg.cli import app
from netreg.config import Campaign
from netreg.app.check import read_prefill
from netreg.excel.prefill import build_prefilled, write_prefilled
from netreg.app.merge import merge
from netreg.model.forms import FORMS_BY_ID
from netreg.pipeline import validate_paths

AS_OF = date(2025, 11, 25)
LISTED = ["医学院", "信息工程学院", "图书馆"]  # this year's list: 团委 is gone, 图书馆 sent nothing last year
SECTIONS = "学院概况、新闻动态、通知公告、教学科研、学生工作、招生就业、党建思政、校友风采、联系我们"

WEBSITE = {"site_name": "医学院网站", "owner": "李强", "admin": "王丽", "phone": "0395-3136789",
           "sections": SECTIONS, "last_update": date(2025, 11, 1)}
ACCOUNT = {"platform": "微博", "account_name": "漯职医学院", "account_id": "0123456789",
           "followers": "2.3万", "opened": "2019.9.1", "purpose": "信息发布", "admin": "王丽",
           "phone": "13812345678", "note": ""}
ZOMBIE = {"admin": "赵敏", "phone": "13700001111", "group_name": "2019级实习群", "reason": "实习结束",
          "cleaned": "否", "cleaned_on": None, "note": "正在解散"}
GROUP = {"group_type": "微信群", "group_name": "医学院教职工群", "members": 120, "purpose": "工作通知",
         "real_name": "是", "admin": "王丽", "phone": "13812345678", "note": ""}
TEACHER = {"platform": "抖音", "account_id": "dy_teacher", "account_name": "李老师讲护理", "followers": 12000,
           "topic": "技能分享", "person": "李红", "title": "副教授", "major": "", "phone": "13598765432", "note": ""}
STUDENT = {**TEACHER, "account_id": "dy_nurse", "account_name": "护理小王", "person": "王小二", "title": "",
           "major": "护理2023级", "phone": "13598760000"}


def _site(n: int) -> dict:
    return {**WEBSITE, "site_name": f"信工网站{n}", "sections": "新闻动态"}


def _group(n: int) -> dict:
    return {**GROUP, "group_name": f"信工工作群{n}"}


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> Path:
    """Last year's summary, merged from three units' returned workbooks."""
    tmp = tmp_path_factory.mktemp("last-year")
    filled_template(tmp / "in" / "医学院.xlsx", "医学院",
                    {1: [WEBSITE], 2: [ACCOUNT], 3: [ZOMBIE], 4: [GROUP], 5: [TEACHER, STUDENT]})
    # 20 rows run over our template's footnote under 附件4: this unit built its own table.
    hand_layout(tmp / "in" / "信息工程学院.xlsx", "信息工程学院",
                {1: [_site(n) for n in range(1, 21)], 4: [_group(n) for n in range(1, 21)]}, typed=False)
    filled_template(tmp / "in" / "团委.xlsx", "团委", {2: [{**ACCOUNT, "account_id": "9988776655"}]})
    units = ["医学院", "信息工程学院", "团委"]
    report = validate_paths([tmp / "in"], Campaign(), units=units, as_of=AS_OF)
    merge(report, tmp / "汇总.xlsx", school=SCHOOL, inputs=[tmp / "in"])
    return tmp / "汇总.xlsx"


@pytest.fixture(scope="module")
def prefilled(summary, tmp_path_factory) -> dict[str, Path]:
    config = Campaign()
    rows = read_prefill(summary, config, LISTED)
    out = tmp_path_factory.mktemp("prefilled")
    written = write_prefilled(config, LISTED + ["团委"], rows, out)
    assert [w.status for w in written] == ["written"] * 4
    return {w.unit: w.path for w in written}


def _rows(report, unit: str) -> list[tuple[int, dict]]:
    return [(r.form.id, r.values) for r in report.records if r.unit == unit]


def _errors(report) -> list[str]:
    return [i.code for i in report.issues if i.severity.name == "ERROR"]


def _sign(path: Path) -> None:
    """What the unit does before anything else: this year's 填表人 and phone on every sheet."""
    wb = openpyxl.load_workbook(path)
    for form in FORMS_BY_ID.values():
        ws = wb[form.sheet]
        for row in ws.iter_rows(min_row=3, max_row=3):
            for cell in row:
                if cell.value in ("填表人：", form.phone_label + "："):
                    end = next((r.max_col for r in ws.merged_cells.ranges if cell.coordinate in r), cell.column)
                    ws.cell(3, end + 1).value = FILLER[0] if cell.value == "填表人：" else FILLER[1]
    wb.save(path)


def test_a_prefilled_workbook_reads_back_as_last_years_rows(summary, prefilled, tmp_path):
    last_year = validate_paths([summary], Campaign(), units=LISTED, as_of=AS_OF)
    for unit in ("医学院", "信息工程学院", "团委"):
        report = validate_paths([prefilled[unit]], Campaign(), units=LISTED, as_of=AS_OF)
        assert report.files[0].unit == unit
        assert _rows(report, unit) == _rows(last_year, unit), unit
        # Nothing to fix in the rows: only this year's 填表人, which last year's summary cannot give.
        assert set(_errors(report)) == {"filler-missing"}, unit
    copy = tmp_path / "医学院.xlsx"
    copy.write_bytes(prefilled["医学院"].read_bytes())
    _sign(copy)
    report = validate_paths([copy], Campaign(), units=LISTED, as_of=AS_OF)
    assert _errors(report) == [] and len(report.records) == 6
    assert report.exit_code() == 0


def test_values_keep_their_kind_and_meaning(prefilled):
    wb = openpyxl.load_workbook(prefilled["医学院"])
    accounts, form2 = wb["附件2"], FORMS_BY_ID[2]
    row = first_data_row(form2)
    account_id = accounts.cell(row, column_index(form2, "account_id"))
    assert account_id.value == "0123456789" and account_id.data_type == "s"  # leading zero kept
    phone = accounts.cell(row, column_index(form2, "phone"))
    assert phone.value == "13812345678" and phone.data_type == "s"
    followers = accounts.cell(row, column_index(form2, "followers"))
    assert followers.value == 23000 and followers.data_type == "n"
    opened = accounts.cell(row, column_index(form2, "opened"))
    assert opened.value == datetime(2019, 9, 1) and opened.number_format == "yyyy-mm-dd"
    assert accounts.cell(row, column_index(form2, "platform")).value == "微博"
    assert accounts.cell(row, 1).value == 1

    zombies, form3 = wb["附件3"], FORMS_BY_ID[3]
    assert zombies.cell(first_data_row(form3), column_index(form3, "cleaned")).value == "否"
    assert zombies.cell(first_data_row(form3), column_index(form3, "cleaned_on")).value is None

    stars, form5 = wb["附件5"], FORMS_BY_ID[5]
    first = first_data_row(form5)
    title, major = column_index(form5, "title"), column_index(form5, "major")
    assert [stars.cell(first, title).value, stars.cell(first, major).value] == ["副教授", None]
    assert [stars.cell(first + 1, title).value, stars.cell(first + 1, major).value] == [None, "护理2023级"]
    assert stars.cell(first + 2, column_index(form5, "person")).value is None  # nothing more


def test_more_rows_than_the_blank_ones_keep_borders_checks_and_the_footnote(prefilled):
    config = Campaign()
    assert config.blank_rows < 20
    wb = openpyxl.load_workbook(prefilled["信息工程学院"])
    for form_id in (1, 4):
        form = FORMS_BY_ID[form_id]
        ws = wb[form.sheet]
        first = first_data_row(form)
        last = first + 19
        assert [ws.cell(r, 1).value for r in range(first, last + 1)] == list(range(1, 21))
        assert ws.cell(last, 2).value == ("信工网站20" if form_id == 1 else "微信群")
        for col in range(1, len(form.columns) + 1):
            assert ws.cell(last, col).border.bottom.style == "thin", (form.sheet, col)
        checked = [dv for dv in ws.data_validations.dataValidation
                   if any(r.min_row == first for r in dv.sqref.ranges)]
        assert checked
        for dv in checked:
            assert all(r.max_row >= last for r in dv.sqref.ranges), (form.sheet, dv.sqref)
    dropdowns = [dv for dv in wb["附件4"].data_validations.dataValidation if dv.type == "list"]
    assert f"B{first_data_row(FORMS_BY_ID[4]) + 19}" in dropdowns[0].sqref  # 群组类型 of the 20th group
    groups, form4 = wb["附件4"], FORMS_BY_ID[4]
    note_row = first_data_row(form4) + 20
    assert groups.cell(note_row, 1).value == form4.footnote
    assert any(r.min_row == note_row for r in groups.merged_cells.ranges)
    # The old footnote row is an ordinary bordered data row now, not merged.
    old = first_data_row(form4) + config.blank_rows
    assert not any(r.min_row == old for r in groups.merged_cells.ranges)


def test_checks_reach_rows_beyond_the_validated_area(tmp_path):
    config = Campaign(blank_rows=3, validation_rows=5)
    form = FORMS_BY_ID[1]
    wb = build_prefilled(config, "信息工程学院", {1: [_site(n) for n in range(1, 9)]})
    ws = wb[form.sheet]
    last = first_data_row(form) + 7
    for dv in ws.data_validations.dataValidation:
        if any(r.min_row == first_data_row(form) for r in dv.sqref.ranges):
            assert all(r.max_row == last for r in dv.sqref.ranges), dv.sqref
    assert ws.cell(last, column_index(form, "phone")).number_format == "@"
    assert ws.cell(last, column_index(form, "last_update")).number_format == "yyyy-mm-dd"
    path = tmp_path / "x.xlsx"
    wb.save(path)
    report = validate_paths([path], config, units=["信息工程学院"], as_of=AS_OF)
    assert [r.values["site_name"] for r in report.records] == [f"信工网站{n}" for n in range(1, 9)]


def test_instructions_say_the_rows_are_last_years_and_long_text_rows_are_tall(prefilled):
    wb = openpyxl.load_workbook(prefilled["医学院"])
    notes = [c.value for c in wb["填表说明"]["A"] if isinstance(c.value, str) and "上一年度" in c.value]
    assert len(notes) == 1 and "核对" in notes[0] and "更新" in notes[0] and "删除" in notes[0]
    ws, form = wb["附件1"], FORMS_BY_ID[1]
    assert (ws.row_dimensions[first_data_row(form)].height or 0) >= 30  # the long 网站栏目 prints whole
    assert ws.row_dimensions[first_data_row(form) + 1].height is None  # a blank row grows as typed
    blank = openpyxl.load_workbook(prefilled["图书馆"])
    assert not any("上一年度" in (c.value or "") for c in blank["填表说明"]["A"])
    assert all(blank[f.sheet].cell(first_data_row(f), 2).value is None for f in FORMS_BY_ID.values())


def test_cli_prefills_listed_units_and_those_only_in_the_summary(summary, tmp_path):
    units = tmp_path / "units.txt"
    units.write_text("\n".join(LISTED) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["template", "--units", str(units), "--prefill", str(summary), "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") >= 3}
    assert "预填 6 行" in lines["医学院"] and "不在单位名单" not in lines["医学院"]
    assert "预填 40 行" in lines["信息工程学院"]
    assert "空白" in lines["图书馆"]
    assert "预填 1 行" in lines["团委"] and "不在单位名单中" in lines["团委"]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{u}.xlsx" for u in [*LISTED, "团委"])

    only = CliRunner().invoke(app, ["template", "--unit", "医学院", "--prefill", str(summary), "-o", str(tmp_path / "one")])
    assert only.exit_code == 0, only.output
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["医学院.xlsx"]


def test_cli_an_unreadable_summary_is_one_chinese_line_and_exit_2(tmp_path):
    bad = tmp_path / "汇总.xlsx"
    bad.write_bytes(b"this is not a workbook")
    result = CliRunner().invoke(app, ["template", "--unit", "医学院", "--prefill", str(bad), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert result.output.startswith("错误：无法读取汇总表") and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    missing = CliRunner().invoke(app, ["template", "--unit", "医学院", "--prefill", str(tmp_path / "无.xlsx")])
    assert missing.exit_code == 2 and "无法读取汇总表" in missing.output


def test_a_prefilled_workbook_opens_and_prints_in_libreoffice(prefilled, tmp_path):
    require_soffice()
    pypdf = pytest.importorskip("pypdf")
    pdf = pypdf.PdfReader(convert(prefilled["信息工程学院"], "pdf", tmp_path))
    text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert "信工网站20" in text and "信工工作群20" in text and "上一年度" in text


def test_spawned_workers_write_each_unit_its_own_rows(tmp_path, monkeypatch):
    """The Windows way (spawn): the rows travel to the workers with the items."""
    from netreg.excel import template

    monkeypatch.setenv("NETREG_START_METHOD", "spawn")
    monkeypatch.setattr(template, "PARALLEL_MIN_UNITS", 1)  # one setting for blank and pre-filled
    config = Campaign(blank_rows=3, validation_rows=20)
    units = [f"单位{i}" for i in range(4)]
    rows = {u: {1: [_site(i)] * (i + 1)} for i, u in enumerate(units)}
    written = write_prefilled(config, units, rows, tmp_path)
    for i, w in enumerate(written):
        report = validate_paths([w.path], config, units=units, as_of=AS_OF)
        assert [r.values["site_name"] for r in report.records] == [f"信工网站{i}"] * (i + 1)


def test_with_a_unit_table_the_contact_is_the_filler_and_an_unchanged_workbook_has_no_errors(summary, tmp_path):
    """Last year's summary does not say who filled in; the unit table's 联系人 and 电话 do, so a
    pre-filled workbook sent back unchanged is a clean return."""
    table = tmp_path / "单位名单.csv"
    table.write_text("单位,联系人,电话,邮箱\n" + "".join(f"{u},王老师,1391234567{n},u{n}@x.edu.cn\n"
                                                        for n, u in enumerate(LISTED)), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["template", "--units", str(table), "--prefill", str(summary), "-o", str(out)])
    assert result.exit_code == 0, result.output
    report = validate_paths([out / "医学院.xlsx"], Campaign(), units=LISTED, as_of=AS_OF)
    assert report.records and report.errors == 0, [(i.code, i.message) for i in report.issues]
    ws = openpyxl.load_workbook(out / "医学院.xlsx")[FORMS_BY_ID[2].sheet]
    assert "王老师" in [c.value for row in ws.iter_rows(max_row=6) for c in row]
