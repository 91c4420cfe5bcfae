"""What units really send back, laid out by hand (xlsxwriter, openpyxl), and every file
accounted for: headers split over two rows, units in headers, lines typed or struck through
rows, sheets that are no form, byte-identical copies, netreg's own outputs, units named
almost right, kinds of file netreg does not read (SPEC §3, §4, §6)."""

from __future__ import annotations

import os
import shutil
import sys
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from builders import FILLER, filled_template, raw_workbook
from openpyxl.styles import Font

from netreg.config import Campaign
from netreg.model.report import UnitState, unit_statuses
from netreg.pipeline import validate_paths

AS_OF = date(2025, 11, 25)
UNITS = ["医学院", "经济管理学院", "信息工程学院", "团委"]
TOP = [["附件4"], ["漯河职业技术学院网络工作群组登记备案表"], ["填报单位：医学院", None, None, None, "填表人：王丽",
                                                         None, "填表人电话：13912345678"]]
GROUPS_HEADER = ["序号", "群组类型", "群名称", "群人数", "主要用途", "是否全部实名", "群管理员姓名", "联系电话", "备注"]
GROUP_ROW = [1, "微信群", "医学院教职工群", 120, "工作通知", "是", "王强", "13912345678", None]


def validate(*paths, units=UNITS):
    return validate_paths(list(paths), Campaign(), units=units, as_of=AS_OF)


def codes(report, *wanted):
    return [(i.code, i.sheet, i.cell) for i in report.issues if i.code in wanted]


def test_a_header_split_over_two_rows_is_one_header(tmp_path):
    below = [None, "（QQ群、微信群等）", None, None, None, None, None, None, None]
    path = raw_workbook(tmp_path / "医学院.xlsx", {"工作群": TOP + [GROUPS_HEADER, below, GROUP_ROW]})
    report = validate(path)
    assert [(r.form.id, r.row) for r in report.records] == [(4, 6)]
    assert codes(report, "header-mismatch", "choice-unknown", "required-missing") == []


def test_a_header_word_split_over_two_rows_is_joined(tmp_path):
    header = GROUPS_HEADER[:5] + ["是否全部"] + GROUPS_HEADER[6:]
    below = [None] * 5 + ["实名"] + [None] * 3
    report = validate(raw_workbook(tmp_path / "医学院.xlsx", {"工作群": TOP + [header, below, GROUP_ROW]}))
    assert [(r.row, r.values["real_name"]) for r in report.records] == [(6, True)]
    assert codes(report, "header-mismatch", "yes-no-invalid", "required-missing") == []


def test_a_data_row_under_the_header_is_never_taken_for_its_second_line(tmp_path):
    report = validate(raw_workbook(tmp_path / "医学院.xlsx", {"工作群": TOP + [GROUPS_HEADER, GROUP_ROW,
                                                                          [2, *GROUP_ROW[1:2], "团学群", 80, *GROUP_ROW[4:]]]}))
    assert [r.row for r in report.records] == [5, 6]


def test_a_unit_in_the_followers_header_scales_the_numbers(tmp_path):
    header = ["序号", "账号平台", "账号ID", "账号名称", "粉丝数量（万）", "创作方向", "姓名", "职务职称", "专业年级", "联系方式"]
    rows = [[1, "抖音", "dy001", "小王说", 1.2, "校园", "王一", "讲师", None, "13812340001"],
            [2, "B站", "1234567", "阿李", "3.8", "技能", "李二", None, "护理2023级", "13812340002"],
            [3, "微博", "7654321", "小赵", 0.15, "生活", "赵三", "辅导员", None, "13812340003"]]
    report = validate(raw_workbook(tmp_path / "医学院.xlsx", {"大V": [["填报单位：医学院"], header, *rows]}))
    assert [r.values["followers"] for r in report.records] == [12000, 38000, 1500]
    assert codes(report, "number-invalid") == []
    assert codes(report, "below-threshold") == [("below-threshold", "大V", "E5")]


def test_lines_typed_or_struck_through_a_row_are_not_data(tmp_path):
    path = tmp_path / "医学院.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工作群"
    for row in TOP + [GROUPS_HEADER, GROUP_ROW, [2, "————", "———", "——", "—————", "———", "——", "————", None],
                      [3, "QQ群", "撤回的群", 50, "作废", "否", "某人", "138", None]]:
        ws.append(row)
    for cell in ws[7]:  # the withdrawn row, struck through end to end
        cell.font = Font(strike=True)
    wb.save(path)
    report = validate(path)
    assert [r.row for r in report.records] == [5]
    assert codes(report, "required-missing", "phone-invalid", "real-name-incomplete") == []


def test_sheets_that_are_no_form_are_listed_as_information_not_errors(tmp_path):
    path = filled_template(tmp_path / "医学院.xlsx", "医学院", {4: [dict(zip(
        ("group_type", "group_name", "members", "purpose", "real_name", "admin", "phone"),
        GROUP_ROW[1:8]))]})
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("通讯录").append(["姓名", "电话"])
    wb["通讯录"].append(["王丽", "13912345678"])
    wb.create_sheet("统计").append(["合计", 3])
    wb.save(path)
    report = validate(path)
    assert [(i.code, i.severity, i.sheet) for i in report.issues if i.sheet in ("通讯录", "统计")] == [
        ("sheet-ignored", "info", "通讯录"), ("sheet-ignored", "info", "统计")]
    assert report.errors == 0


def test_a_byte_identical_copy_is_read_once(tmp_path):
    one = filled_template(tmp_path / "in" / "医学院.xlsx", "医学院", {4: [dict(zip(
        ("group_type", "group_name", "members", "purpose", "real_name", "admin", "phone"), GROUP_ROW[1:8]))]})
    shutil.copy(one, tmp_path / "in" / "医学院（副本）.xlsx")
    report = validate(tmp_path / "in")
    assert len(report.records) == 1
    dup = [i for i in report.issues if i.code == "file-duplicate"]
    assert [(Path(i.file).name, i.severity) for i in dup] == [("医学院（副本）.xlsx", "info")]
    assert "医学院.xlsx" in dup[0].message
    assert [f.status for f in report.files] == ["ok", "skipped"]


def test_netregs_own_summary_and_annotated_copies_among_the_inputs_are_named_not_read(tmp_path):
    from netreg.excel.annotate import write_annotated
    from netreg.app.merge import merge

    folder = tmp_path / "回收"
    filled_template(folder / "医学院.xlsx", "医学院", {4: [dict(zip(
        ("group_type", "group_name", "members", "purpose", "real_name", "admin", "phone"),
        ("微信群", "医学院教职工群", 120, "工作通知", "否", "王强", "13912345678")))]})
    first = validate(folder)
    merge(first, folder / "汇总.xlsx", school="漯河职业技术学院")
    write_annotated(first, folder / "修改意见")
    again = validate(folder)
    assert len(again.records) == len(first.records) == 1
    outputs = sorted((Path(i.file).name, i.message) for i in again.issues if i.code == "netreg-output")
    assert [name for name, _ in outputs] == ["医学院-修改意见.xlsx", "汇总.xlsx"]
    assert "修改意见表" in outputs[0][1] and "汇总表" in outputs[1][1]
    assert [s.unit for s in unit_statuses(again) if s.state is not UnitState.MISSING] == ["医学院"]


def test_a_longer_name_that_starts_with_a_listed_unit_is_not_that_unit(tmp_path):
    rows = [["填报单位：经济管理学院团总支"], GROUPS_HEADER, GROUP_ROW]
    report = validate(raw_workbook(tmp_path / "登记表.xlsx", {"工作群": rows}))
    assert report.files[0].unit == "经济管理学院团总支"
    issue = next(i for i in report.issues if i.code == "unit-not-listed")
    assert (issue.severity, issue.value, issue.cell) == ("warning", "经济管理学院团总支", "A1")
    assert "经济管理学院" in issue.message


def test_the_unit_written_exactly_or_with_the_school_name_is_the_unit(tmp_path):
    for typed in ("经济管理学院", "漯河职业技术学院经济管理学院", " 经济管理 学院 "):
        rows = [[f"填报单位：{typed}"], GROUPS_HEADER, GROUP_ROW]
        report = validate(raw_workbook(tmp_path / typed.strip() / "登记表.xlsx", {"工作群": rows}))
        assert report.files[0].unit == "经济管理学院", typed
        assert codes(report, "unit-not-listed", "unit-unknown") == []


def test_our_own_template_knows_its_unit_even_off_the_list(tmp_path):
    path = filled_template(tmp_path / "x.xlsx", "往返学院", {4: [dict(zip(
        ("group_type", "group_name", "members", "purpose", "real_name", "admin", "phone"), GROUP_ROW[1:8]))]})
    report = validate(path)
    assert report.files[0].unit == "往返学院"
    assert codes(report, "unit-not-listed", "unit-unknown") == []


def test_two_of_five_forms_is_to_be_completed_and_an_empty_table_beside_filled_ones_is_information(tmp_path):
    group = dict(zip(("group_type", "group_name", "members", "purpose", "real_name", "admin", "phone"), GROUP_ROW[1:8]))
    site = {"site_name": "医学院官网", "owner": "张伟", "admin": "李娜", "phone": "13812345678",
            "sections": "学院概况", "last_update": date(2025, 11, 1)}
    # our template holds all five tables: three left blank beside two filled ones
    blank_beside = validate(filled_template(tmp_path / "a" / "医学院.xlsx", "医学院", {1: [site], 4: [group]}))
    assert sorted(i.form for i in blank_beside.issues if i.code == "form-empty") == [2, 3, 5]
    assert [s.state for s in unit_statuses(blank_beside) if s.unit == "医学院"] == [UnitState.OK]
    # a hand-made file holding two forms only: the other three were not sent
    rows = [["填报单位：医学院", None, "填表人：王丽", None, "填表人电话：13912345678"], GROUPS_HEADER, GROUP_ROW]
    two = validate(raw_workbook(tmp_path / "b" / "医学院.xlsx", {"工作群": rows}))
    assert sorted(i.form for i in two.issues if i.code == "form-not-found") == [1, 2, 3, 5]
    state = next(s for s in unit_statuses(two) if s.unit == "医学院")
    assert (state.state, state.label) == (UnitState.INCOMPLETE, "需补报")


@pytest.mark.parametrize("name, data, code, words", [
    ("盖章版.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", "file-unsupported", "PDF"),
    ("扫描件.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "file-unsupported", "图片"),
    ("材料.rar", b"Rar!\x1a\x07\x01\x00" + bytes(40), "file-unsupported", "RAR"),
    ("登记表.xlsx", b"this is not a workbook at all", "file-unreadable", ".xlsx"),
])
def test_kinds_netreg_does_not_read_get_one_line_saying_what_to_send(tmp_path, name, data, code, words):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / name).write_bytes(data)
    filled_template(tmp_path / "in" / "团委.xlsx", "团委", {}, FILLER)
    report = validate(tmp_path / "in")
    mine = [i for i in report.issues if i.file and i.file.endswith(name)]
    assert [(i.code, i.severity) for i in mine] == [(code, "error")]
    assert words in mine[0].message
    assert next(f for f in report.files if f.path.endswith(name)).status in ("unsupported", "unreadable")


def test_a_zip_with_gbk_names_is_read_member_by_member(tmp_path):
    inner = filled_template(tmp_path / "src" / "医学院.xlsx", "医学院", {4: [dict(zip(
        ("group_type", "group_name", "members", "purpose", "real_name", "admin", "phone"), GROUP_ROW[1:8]))]})
    archive = tmp_path / "in" / "医学院报送材料.zip"
    archive.parent.mkdir()

    class Gbk(zipfile.ZipInfo):  # what Windows' "send to compressed folder" writes
        def _encodeFilenameFlags(self):
            return self.filename.encode("gbk"), self.flag_bits & ~0x800

    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(Gbk("附件4-医学院.xlsx"), inner.read_bytes())
        zf.writestr(Gbk("说明.pdf"), b"%PDF-1.4 scan")
    report = validate(tmp_path / "in")
    shown = [f.path.replace("\\", "/") for f in report.files]
    assert [s.split("/in/", 1)[1] for s in shown] == ["医学院报送材料.zip/附件4-医学院.xlsx", "医学院报送材料.zip/说明.pdf"]
    assert [(f.status, f.unit) for f in report.files][0] == ("ok", "医学院")
    assert [r.unit for r in report.records] == ["医学院"]
    assert [i.code for i in report.issues if i.file == report.files[1].path] == ["file-unsupported"]


def test_every_file_in_a_folder_is_accounted_for_in_the_terminal(tmp_path):
    from typer.testing import CliRunner

    from netreg.cli import app

    (tmp_path / "in").mkdir()
    filled_template(tmp_path / "in" / "团委.xlsx", "团委", {}, FILLER)
    (tmp_path / "in" / "a.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "in" / "~$团委.xlsx").write_bytes(b"lock")
    (tmp_path / "in" / "Thumbs.db").write_bytes(b"x")
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "in"), "--as-of", "2025-11-25"])
    assert "读取 1 个文件（xlsx 1）；未读取 1 个（不是登记表文件 1，原因见下）" in result.output
    assert "~$" not in result.output and "Thumbs" not in result.output


def test_a_summary_given_as_input_is_read_as_its_units_rows(tmp_path):
    """A 二级学院 returns the merge of its departments: each row keeps its 填报单位."""
    from netreg.app.merge import merge

    group = dict(zip(("group_type", "group_name", "members", "purpose", "real_name", "admin", "phone"), GROUP_ROW[1:8]))
    filled_template(tmp_path / "系" / "医学院.xlsx", "医学院", {4: [group, {**group, "group_name": "医学院学生群"}]})
    filled_template(tmp_path / "系" / "团委.xlsx", "团委", {4: [{**group, "group_name": "团委工作群"}]})
    first = validate(tmp_path / "系")
    merge(first, tmp_path / "交回" / "汇总.xlsx", school="漯河职业技术学院")
    again = validate(tmp_path / "交回")
    assert sorted((r.unit, r.values["group_name"]) for r in again.records) == [
        ("医学院", "医学院学生群"), ("医学院", "医学院教职工群"), ("团委", "团委工作群")]
    assert [(f.status, f.unit, f.rows) for f in again.files] == [("ok", None, 3)]
    assert [i.code for i in again.issues if i.code in ("extra-column", "unit-unknown", "sheet-ignored")] == []
    states = {s.unit: s.state for s in unit_statuses(again)}
    assert states["医学院"] is states["团委"] is UnitState.OK


def test_a_unit_column_names_each_rows_unit(tmp_path):
    header = ["单位", *GROUPS_HEADER]
    rows = [["填报单位：团委", None, None, None, None, "填表人：王丽", None, "填表人电话：13912345678"], header,
            ["团委", *GROUP_ROW], ["经济管理学院", 2, "QQ群", "经管学生群", 300, "通知", "是", "赵六", "13912345670", None],
            ["团委", None, None, None, None, None, None, None, None, None]]
    report = validate(raw_workbook(tmp_path / "登记表.xlsx", {"工作群": rows}))
    assert [(r.unit, r.row) for r in report.records] == [("团委", 3), ("经济管理学院", 4)]
    assert [i.code for i in report.issues if i.code in ("extra-column", "unit-not-listed")] == []


def test_the_notices_word_tables_pasted_into_a_spreadsheet_are_read(tmp_path):
    """What a paste from Word into Calc looks like (PITFALLS): all five forms stacked on one
    sheet, on a shared grid with merged ranges, phones and counts turned into numbers."""
    import os
    import subprocess

    import formats_corpus as fc
    from office import _profile, require_soffice

    exe = require_soffice()
    unit = fc.units()["教务处"]
    rows = unit.planted_rows()
    blocks = [fc.make_block(unit, rows[f], f) for f in (1, 2, 3, 4, 5)]
    html = fc.write_html(tmp_path / "教务处.html", blocks, "iso")
    subprocess.run([exe, "--headless", "--norestore", f"-env:UserInstallation={_profile().as_uri()}",
                    "--infilter=HTML (StarCalc)", "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(html)],
                   check=True, capture_output=True, timeout=120, start_new_session=os.name == "posix")
    report = validate(tmp_path / "out" / "教务处.xlsx", units=["教务处"])
    assert report.files[0].unit == "教务处"
    assert {f: n for f, (_sheet, n) in report.files[0].forms.items()} == {f: len(rows[f]) for f in rows}
    planted = sorted(p.code for p in unit.plants)
    assert sorted(i.code for i in report.issues if i.code in planted) == planted
    assert report.errors == sum(1 for i in report.issues if i.code in planted and i.severity == "error")


def _utf16_sheet(src: Path, out: Path) -> Path:
    """``src`` with its first sheet part re-encoded as UTF-16 (as some libraries write it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                text = text.split("?>", 1)[1] if text.startswith("<?xml") else text
                data = ('<?xml version="1.0" encoding="UTF-16"?>' + text).encode("utf-16")
            zout.writestr(info, data)
    return out


def test_a_sheet_calamine_would_read_as_empty_is_read_by_the_second_reader(tmp_path):
    """python-calamine returns a UTF-16 sheet as an empty grid, without an error: such a file
    is read with openpyxl, and the JSON says which reader read it."""
    import json as json_

    wb = openpyxl.Workbook()
    wb.active.title = "工作群"
    for row in TOP + [GROUPS_HEADER, GROUP_ROW]:
        wb.active.append(row)
    wb.save(tmp_path / "src.xlsx")
    (tmp_path / "in").mkdir()
    path = _utf16_sheet(tmp_path / "src.xlsx", tmp_path / "in" / "医学院.xlsx")
    report = validate(path)
    assert [(r.unit, r.values["group_name"]) for r in report.records] == [("医学院", "医学院教职工群")]
    from netreg.render.json import render_json

    doc = json_.loads(render_json(report))
    assert [(f["format"], f["reader"]) for f in doc["files"]] == [("xlsx", "openpyxl")]


def test_a_package_calamine_refuses_is_read_by_the_second_reader(tmp_path, monkeypatch):
    import python_calamine

    path = raw_workbook(tmp_path / "医学院.xlsx", {"工作群": TOP + [GROUPS_HEADER, GROUP_ROW]})

    class Refusing:
        @staticmethod
        def from_filelike(fh):
            raise python_calamine.CalamineError("XmlError: unexpected")  # as on POI / SheetJS files

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Refusing)
    report = validate(path)
    assert [r.values["group_name"] for r in report.records] == ["医学院教职工群"]
    assert report.files[0].reader == "openpyxl" and not [i for i in report.issues if i.code.startswith("file-")]


def test_an_entity_declaration_in_a_utf16_part_is_refused_before_any_parser(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(GROUPS_HEADER)
    wb.save(tmp_path / "src.xlsx")
    with zipfile.ZipFile(tmp_path / "src.xlsx") as zin, zipfile.ZipFile(tmp_path / "x.xlsx", "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = data.decode("utf-8")
                body = body.split("?>", 1)[1] if body.startswith("<?xml") else body
                data = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY xxe SYSTEM '
                        '"file:///etc/passwd">]>' + body).encode("utf-16")
            zout.writestr(info, data)
    report = validate(tmp_path / "x.xlsx")
    assert [(i.code, i.reason) for i in report.issues] == [("file-unreadable", "malicious")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_a_file_that_makes_its_reader_abort_costs_only_that_file(tmp_path, monkeypatch):
    """A native reader that aborts the process (calamine once asked for 103 GB and got signal 6)
    must not take the run with it: the file is unreadable and the summary of the others is
    written. No file makes this calamine build abort, so the reader of one file here calls
    os.abort() itself, in the worker process that reads it, as the native library would."""
    from netreg import pipeline
    from netreg.app.merge import merge

    real = pipeline.check_file

    def aborting(inp, *args, **kwargs):
        if "坏" in Path(inp.shown).name:
            os.abort()
        return real(inp, *args, **kwargs)

    monkeypatch.setattr(pipeline, "check_file", aborting)
    for unit in ("医学院", "团委", "图书馆"):
        filled_template(tmp_path / "in" / f"{unit}.xlsx", unit, {1: [{"site_name": f"{unit}网站"}]})
    filled_template(tmp_path / "in" / "坏文件.xlsx", "药学院", {1: [{"site_name": "药学院网站"}]})
    for files in ([tmp_path / "in"], [tmp_path / "in" / "坏文件.xlsx"]):  # with others, and alone
        report = validate_paths(files, Campaign(), as_of=date(2025, 11, 25))
        bad = next(f for f in report.files if "坏文件" in f.path)
        assert bad.status == "unreadable"
        assert any(i.code == "file-unreadable" and "异常退出" in i.message for i in report.issues if i.file == bad.path)
    report = validate_paths([tmp_path / "in"], Campaign(), as_of=date(2025, 11, 25))
    assert sorted(f.unit for f in report.files if f.ok) == sorted(["团委", "图书馆", "医学院"])
    result = merge(report, tmp_path / "汇总.xlsx", school="漯河职业技术学院")
    assert result.output and result.rows_in == result.rows_out == 3


def test_a_reader_bug_is_said_in_chinese_and_its_class_only_in_the_debug_log(tmp_path, monkeypatch, capsys):
    from netreg import pipeline

    filled_template(tmp_path / "医学院.xlsx", "医学院", {1: [{"site_name": "医学院网站"}]})

    def broken(path, limits):
        raise KeyError("sheet1.xml")  # as a library's own bug would

    monkeypatch.setattr(pipeline, "open_book", broken)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_FILES", 10**9)
    monkeypatch.delenv("NETREG_DEBUG", raising=False)
    monkeypatch.setenv("NETREG_START_METHOD", "spawn")  # in this process: the patch applies
    report = validate_paths([tmp_path], Campaign(), as_of=date(2025, 11, 25))
    [issue] = [i for i in report.issues if i.code == "file-unreadable"]
    assert "意外错误" in issue.message and "KeyError" not in issue.message and "sheet1" not in issue.message
    assert "KeyError" not in capsys.readouterr().err
    monkeypatch.setenv("NETREG_DEBUG", "1")
    validate_paths([tmp_path], Campaign(), as_of=date(2025, 11, 25))
    assert "KeyError" in capsys.readouterr().err
