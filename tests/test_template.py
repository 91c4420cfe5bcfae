"""netreg template: the blank workbooks a unit receives, checked as the unit would check them."""

from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pytest

from netreg.config import Campaign, Choice
from netreg.model.forms import FORMAT_VERSION
from netreg.excel.template import build_workbook, safe_filename, write_templates

SCHOOL = "漯河职业技术学院"

# Typed out from the notice's attachment tables (seeds/000_487ad4bf4c4c58e6.txt), on purpose
# not derived from netreg.model.forms.
NOTICE_HEADERS = {
    "附件1": ["序号", "网站名称", "网站负责人", "网站管理员", "联系电话", "网站栏目", "最后更新日期"],
    "附件2": ["序号", "网络平台", "账号名称", "账号ID", "粉丝人数", "开通日期", "主要用途",
            "管理员姓名", "联系电话", "备注"],
    "附件3": ["序号", "群管理员姓名", "联系电话", "工作群名称", "清理原因", "是否已清理", "清理时间", "备注"],
    "附件4": ["序号", "群组类型（QQ群、微信群等）", "群名称", "群人数", "主要用途", "是否全部实名",
            "群管理员姓名", "联系电话", "备注"],
}
NOTICE_FORM5_ROW4 = ["序号", "账号平台", "账号ID", "账号名称", "粉丝数量", "创作方向", "姓名", "类别", None,
                     "联系方式", "备注"]
NOTICE_FORM5_ROW5 = [None] * 7 + ["职务职称（教师填写）", "专业年级（学生填写）", None, None]
NOTICE_TITLES = {
    "附件1": "漯河职业技术学院网站平台更新登记备案表",
    "附件2": "漯河职业技术学院新媒体平台登记备案表",
    "附件3": "漯河职业技术学院“僵尸”工作群清理备案表",
    "附件4": "漯河职业技术学院网络工作群组登记备案表",
    "附件5": "漯河职业技术学院“网络大V”信息统计表",
}
SIGNATURE_LABELS = {
    "附件1": ["单位负责人签名（盖章）：", "填表人：", "填表人电话："],
    "附件2": ["单位负责人签名（盖章）：", "填表人：", "填表人电话："],
    "附件3": ["单位负责人签字（盖章）：", "填表人：", "填表人电话："],
    "附件4": ["单位负责人签名（盖章）：", "填表人：", "填表人电话："],
    "附件5": ["单位负责人签名（盖章）：", "填表人：", "联系电话："],
}
PLATFORMS = ["微信公众号", "微博", "抖音", "视频号", "B站", "今日头条", "快手", "小红书", "其他"]
GROUP_TYPES = ["微信群", "QQ群", "企业微信群", "钉钉群", "其他"]
FORM_SHEETS = [f"附件{i}" for i in range(1, 6)]


def flat(value):
    return None if value is None else str(value).replace("\n", "")


def row_values(ws, row: int) -> list:
    return [flat(ws.cell(row, c).value) for c in range(1, ws.max_column + 1)]


def load(config: Campaign | None = None, unit: str = "医学院", tmp_path: Path | None = None):
    """Build, save and reload: what a unit opens, not the in-memory object."""
    wb = build_workbook(config or Campaign(), unit)
    path = tmp_path / "blank.xlsx"
    wb.save(path)
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def wb(tmp_path_factory):
    return load(tmp_path=tmp_path_factory.mktemp("wb"))


def validations(ws) -> dict[str, object]:
    """Column letter of the data area -> its validation."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            if rng.min_row != rng.max_row:  # the data area, not the row-3 input cell
                found[rng.coord.split(":")[0].rstrip("0123456789")] = dv
    return found


def test_sheets_in_order(wb):
    assert wb.sheetnames[:6] == ["填表说明", *FORM_SHEETS]
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert visible == ["填表说明", *FORM_SHEETS]
    assert wb.active.title == "填表说明"


@pytest.mark.parametrize("sheet", sorted(NOTICE_HEADERS))
def test_header_title_and_signature_line_as_in_the_notice(wb, sheet):
    ws = wb[sheet]
    assert ws["A1"].value == sheet
    assert ws["A2"].value == NOTICE_TITLES[sheet]
    assert ws["A2"].font.b and ws["A2"].font.sz >= 14
    assert any(str(r).startswith("A2:") for r in ws.merged_cells.ranges)
    assert row_values(ws, 4) == NOTICE_HEADERS[sheet]
    assert all(ws.cell(4, c).alignment.wrap_text for c in range(1, ws.max_column + 1))
    labels = [v for v in row_values(ws, 3) if v]
    assert labels == SIGNATURE_LABELS[sheet]
    assert ws.freeze_panes == "A5"


def test_form5_has_the_two_row_category_header(wb):
    ws = wb["附件5"]
    assert ws["A2"].value == NOTICE_TITLES["附件5"]
    assert [v for v in row_values(ws, 3) if v] == SIGNATURE_LABELS["附件5"]
    assert row_values(ws, 4)[: len(NOTICE_FORM5_ROW4)] == NOTICE_FORM5_ROW4
    assert row_values(ws, 5)[: len(NOTICE_FORM5_ROW5)] == NOTICE_FORM5_ROW5
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "H4:I4" in merged  # 类别 spans its two sub-columns
    assert {"A4:A5", "G4:G5", "J4:J5", "K4:K5"} <= merged
    assert ws.freeze_panes == "A6"
    assert ws["A6"].value == 1


def test_header_cells_of_the_workbook_keep_the_notice_line_breaks(wb):
    assert wb["附件4"]["B4"].value == "群组类型\n（QQ群、微信群等）"
    assert wb["附件5"]["H5"].value == "职务职称\n（教师填写）"


def test_unit_is_filled_in(wb):
    for sheet in FORM_SHEETS:
        assert "填报单位：医学院" in row_values(wb[sheet], 1)
    assert any("医学院" in (c.value or "") for c in wb["填表说明"]["A"])


def test_blank_rows_numbered_and_bordered(wb):
    ws = wb["附件2"]
    assert [ws.cell(r, 1).value for r in range(5, 20)] == list(range(1, 16))
    for cell in ws[19]:
        assert cell.border.left.style == "thin" and cell.border.bottom.style == "thin"
    assert ws["A20"].value is None


def test_footnote_of_form4(wb):
    ws = wb["附件4"]
    assert ws["A20"].value == "注：微信群无需填写群号码。"
    assert ws["A19"].value == 15


def test_print_setup(wb):
    for sheet in FORM_SHEETS:
        ws = wb[sheet]
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
        assert ws.print_options.horizontalCentered
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
        assert ws.print_title_rows == ("$4:$5" if sheet == "附件5" else "$4:$4")


def test_validations_guide_the_filler(wb):
    for sheet in FORM_SHEETS:
        ws = wb[sheet]
        dvs = ws.data_validations.dataValidation
        assert dvs
        for dv in dvs:
            assert dv.showInputMessage and dv.prompt and dv.promptTitle
            assert not dv.showDropDown  # True would hide the dropdown arrow
            assert len(dv.prompt) <= 255 and len(dv.promptTitle) <= 32
            if dv.type:
                assert dv.showErrorMessage and dv.error and dv.errorTitle
                assert len(dv.error) <= 224 and len(dv.errorTitle) <= 32
    # one range per column, over the data area
    assert str(validations(wb["附件2"])["B"].sqref) == "B5:B504"
    assert str(validations(wb["附件5"])["B"].sqref) == "B6:B505"


def test_dropdowns_and_checks_by_column(wb):
    form2 = validations(wb["附件2"])
    assert form2["B"].type == "list" and form2["B"].formula1 == '"' + ",".join(PLATFORMS) + '"'
    assert form2["B"].errorStyle == "warning"  # a platform off the list can be kept
    assert form2["E"].type == "whole" and form2["E"].formula1 == "0"
    assert form2["F"].type == "date" and "DATE(1990,1,1)" in form2["F"].formula1
    assert form2["I"].type == "textLength"
    form3 = validations(wb["附件3"])
    assert form3["F"].formula1 == '"是,否"' and form3["F"].errorStyle in (None, "stop")
    form4 = validations(wb["附件4"])
    assert form4["B"].formula1 == '"' + ",".join(GROUP_TYPES) + '"'
    assert form4["F"].formula1 == '"是,否"'
    form5 = validations(wb["附件5"])
    assert form5["B"].formula1 == '"' + ",".join(PLATFORMS) + '"'
    assert form5["E"].type == "whole" and form5["E"].formula1 == "2000"
    assert "网络大V" in form5["E"].error


def test_filler_phone_cell_is_checked(wb):
    for sheet in FORM_SHEETS:
        ws = wb[sheet]
        cells = [str(dv.sqref) for dv in ws.data_validations.dataValidation if dv.type == "textLength"]
        row3 = [c for c in cells if c.endswith("3") and ":" not in c]
        assert len(row3) == 1
        label = ws.cell(3, ws[row3[0]].column - 1).value  # the label is left of its input
        assert label == SIGNATURE_LABELS[sheet][-1]


def test_number_formats_keep_phones_and_ids_as_text(wb):
    ws = wb["附件2"]
    assert ws["I5"].number_format == "@" and ws["I504"].number_format == "@"  # 联系电话
    assert ws["D5"].number_format == "@"  # 账号ID
    assert ws["F5"].number_format == "yyyy-mm-dd"  # 开通日期


def test_follower_threshold_from_config(tmp_path):
    config = Campaign(follower_threshold=5000, deadline="12月1日")
    wb = load(config, tmp_path=tmp_path)
    assert validations(wb["附件5"])["E"].formula1 == "5000"
    text = "\n".join(c.value for c in wb["填表说明"]["A"] if c.value)
    assert "5000人及以上" in text and "12月1日" in text


def test_long_platform_list_goes_to_a_hidden_sheet(tmp_path):
    many = [Choice(name=f"平台名称很长的第{i}个平台") for i in range(40)]
    wb = load(Campaign(platforms=many), tmp_path=tmp_path)
    dv = validations(wb["附件2"])["B"]
    assert "_lists" in dv.formula1
    lists = wb["_lists"]
    assert lists.sheet_state == "hidden"
    column = dv.formula1.split("!")[1].split(":")[0].replace("$", "").rstrip("0123456789")
    assert [c.value for c in lists[column]] == [c.name for c in many]
    assert validations(wb["附件4"])["B"].formula1.startswith('"')  # short list stays inline


def test_instructions_sheet(wb):
    text = "\n".join(c.value for c in wb["填表说明"]["A"] if c.value)
    for needle in ("11月25日", "党委宣传统战部308室", "lhzyxc99@126.com", "一式两份", "盖", "2000人及以上",
                   "禁止使用学生手机号", "官方认证", "实名", "清理时间", "职务职称", "专业年级", "“无”",
                   "不要改动表头", "公式", "2024-05-01", "0395-1234567", "90天", "QQ群", "小红书"):
        assert needle in text, needle
    assert wb["填表说明"]["A1"].font.b


def test_metadata_sheet_and_document_properties(wb):
    ws = wb["_netreg"]
    assert ws.sheet_state == "veryHidden"
    meta = {row[0]: row[1] for row in ws.iter_rows(values_only=True)}
    assert meta["unit"] == "医学院" and meta["school"] == SCHOOL
    assert meta["forms"] == "1,2,3,4,5" and meta["format_version"] == str(FORMAT_VERSION)
    assert meta["generated"][:2] == "20"
    props = {p.name: p.value for p in wb.custom_doc_props}
    assert {k: props["netreg_" + k] for k in meta} == meta


def test_formula_like_unit_stays_text(tmp_path):
    wb = load(unit="=HYPERLINK(\"x\")", tmp_path=tmp_path)
    assert "填报单位：=HYPERLINK(\"x\")" in row_values(wb["附件1"], 1)
    meta = {row[0]: row[1] for row in wb["_netreg"].iter_rows(values_only=True)}
    assert meta["unit"] == "=HYPERLINK(\"x\")"
    assert wb["_netreg"]["B2"].data_type == "s"


# --------------------------------------------------------------------------- files

SMALL = Campaign(blank_rows=3, validation_rows=20)  # same layout, fewer cells: faster

@pytest.mark.parametrize(("unit", "expected"), [
    ("医学院", "医学院"),
    ("党委办公室/校长办公室", "党委办公室_校长办公室"),
    ("a\\b", "a_b"),
    ('x:*?"<>|', "x_______"),
    ("CON", "_CON"),
    ("lpt1.txt", "_lpt1.txt"),
    ("..", "未命名单位"),
    ("  ", "未命名单位"),
    ("", "未命名单位"),
    ("a..b", "a.b"),
    ("tab\there", "tab_here"),
])
def test_safe_filename(unit, expected):
    assert safe_filename(unit) == expected


def test_safe_filename_is_limited():
    assert len(safe_filename("院" * 300)) == 80
    assert len(safe_filename("x" * 300)) == 80
    assert len(safe_filename("\U0002a6a5" * 300).encode()) <= 240  # 4-byte CJK extension B


def test_unsafe_unit_names_stay_inside_the_output_folder(tmp_path):
    out = tmp_path / "out"
    units = ["../../etc/x", "a/b", "CON", 'x:*?"<>|', "医" * 300, "/abs/path", ".."]
    results = write_templates(SMALL, units, out)
    assert [r.unit for r in results] == units
    for r in results:
        assert r.status == "written"
        assert r.path.resolve().parent == out.resolve()
        assert r.path.suffix == ".xlsx" and r.path.is_file()
    assert sorted(p.name for p in out.iterdir()) == sorted(r.path.name for r in results)
    assert not list(tmp_path.glob("*.xlsx")) and not (tmp_path / "etc").exists()
    wb = openpyxl.load_workbook(results[0].path)
    assert "填报单位：../../etc/x" in row_values(wb["附件1"], 1)


def test_colliding_names_get_suffixes(tmp_path):
    results = write_templates(SMALL, ["a/b", "a_b", "A:B", "a/b"], tmp_path)
    assert [r.path.name for r in results] == ["a_b.xlsx", "a_b-2.xlsx", "A_B-3.xlsx"]
    units = {openpyxl.load_workbook(r.path)["_netreg"]["B2"].value for r in results}
    assert units == {"a/b", "a_b", "A:B"}


def test_existing_files_are_kept_unless_forced(tmp_path):
    first = write_templates(SMALL, ["医学院"], tmp_path)
    path = first[0].path
    path.write_bytes(b"filled in by the unit")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    seen = []
    again = write_templates(SMALL, ["医学院", "团委"], tmp_path, on_progress=seen.append)
    assert [r.status for r in again] == ["exists", "written"]
    assert seen == again
    assert path.read_bytes() == b"filled in by the unit"
    assert path.stat().st_mtime_ns == 1_000_000_000
    forced = write_templates(SMALL, ["医学院"], tmp_path, force=True)
    assert forced[0].status == "written"
    assert openpyxl.load_workbook(path).sheetnames[0] == "填表说明"


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def broken_save(self, filename):
        Path(filename).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    [result] = write_templates(SMALL, ["医学院"], tmp_path / "out")
    assert result.status == "failed" and result.why
    assert list((tmp_path / "out").iterdir()) == []


def test_many_units_are_written_on_both_cores_like_one_by_one(tmp_path, monkeypatch):
    """From PARALLEL_MIN_UNITS on, workbooks are built by forked workers: the same files, in
    the same order, with ordinary permissions (not a temp file's 0600)."""
    from netreg.excel import template as template

    units = [f"单位{i}" for i in range(10)]
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "单位3.xlsx").write_bytes(b"kept")
    seen = []
    monkeypatch.setattr(template, "PARALLEL_MIN_UNITS", 2)
    results = write_templates(SMALL, units, tmp_path / "p", on_progress=seen.append)
    assert [(r.unit, r.status) for r in results] == [(u, "exists" if u == "单位3" else "written") for u in units]
    assert seen == results
    assert (tmp_path / "p" / "单位3.xlsx").read_bytes() == b"kept"
    mask = os.umask(0)
    os.umask(mask)
    for r in results:
        if r.status == "written":
            assert r.path.stat().st_mode & 0o777 == 0o666 & ~mask
            wb = openpyxl.load_workbook(r.path)
            assert wb.sheetnames[1:6] == ["附件1", "附件2", "附件3", "附件4", "附件5"]
            assert any(r.unit in str(c.value) for row in wb["附件1"].iter_rows(max_row=3) for c in row)
