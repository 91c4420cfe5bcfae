"""Annotated copies (validate --annotate): the file sent back to each unit."""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from office import convert

from netreg.excel import annotate as annotate
from netreg.excel.annotate import SHEET, safe_name, write_annotated
from netreg.config import Campaign
from netreg.model.issues import make, title
from netreg.model.report import FileResult, Report
from netreg.excel.template import build_workbook
from netreg.pipeline import validate_paths

AS_OF = date(2025, 11, 25)
RED, AMBER = "FFC7CE", "FFEB9C"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def returned(path: Path, unit: str = "医学院") -> Path:
    """Our template for ``unit`` with two 附件2 rows full of mistakes (filler left empty).

    Fewer pre-formatted rows than the default keep the tests fast; the layout is the same."""
    wb = build_workbook(Campaign(validation_rows=40), unit)
    ws = wb["附件2"]
    row5 = ["微信公众号", "医学院官微", "gh_0123456789ab", "约5000", "2024-05-01", "信息发布", "张三",
            "1381234567", None]
    row6 = ["视频号", "=1+1", "sph123", "=2*3", "2024-06-01", "宣传", None, "13812345678", None]
    for col, a, b in zip("BCDEFGHIJ", row5, row6):
        ws[f"{col}5"] = a
        ws[f"{col}6"] = b
    for coord in ("C6", "E6"):  # typed as text, as Excel stores '=1+1
        ws[coord].data_type = "s"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def opinion_rows(ws) -> tuple[list[str], list[dict[str, object]]]:
    """(header, data rows as dicts) of a 修改意见 sheet."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "序号")
    header = [h for h in rows[start] if h]
    data = [dict(zip(header, r)) for r in rows[start + 1:] if r[0] is not None]
    return header, data


def sheet_text(ws) -> str:
    return "\n".join(str(v) for r in ws.iter_rows(values_only=True) for v in r if v is not None)


@pytest.fixture
def medical(tmp_path):
    src = returned(tmp_path / "in" / "医学院.xlsx")
    before = sha256(src)
    report = validate_paths([src], Campaign(), as_of=AS_OF)
    out = tmp_path / "out"
    written = write_annotated(report, out).written
    return src, before, report, out, written


def test_one_copy_per_unit_with_the_opinion_sheet_first(medical):
    src, _, report, out, written = medical
    assert written == [out / "医学院-修改意见.xlsx"]
    assert sorted(p.name for p in out.iterdir()) == ["医学院-修改意见.xlsx"]  # no temp files left
    wb = openpyxl.load_workbook(written[0])
    source = openpyxl.load_workbook(src)
    assert wb.sheetnames == [SHEET] + source.sheetnames
    assert wb.active.title == SHEET
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [SHEET]
    assert wb["_netreg"].sheet_state == "veryHidden"  # metadata untouched
    assert wb["_netreg"]["B2"].value == source["_netreg"]["B2"].value
    assert wb["附件2"]["C5"].value == "医学院官微"


def test_opinion_sheet_lists_exactly_the_units_issues(medical):
    _, _, report, _, written = medical
    codes = {i.code for i in report.issues}
    assert {"phone-invalid", "number-approximate", "required-missing", "number-invalid",
            "video-account-uncertified", "filler-missing"} <= codes
    ws = openpyxl.load_workbook(written[0])[SHEET]
    assert ws["A1"].value == "医学院 登记表修改意见"
    header, rows = opinion_rows(ws)
    assert header == ["序号", "级别", "工作表", "单元格", "列名", "填写内容", "问题", "修改意见"]
    assert len(rows) == len(report.issues)
    assert [r["序号"] for r in rows] == list(range(1, len(rows) + 1))
    assert sorted(r["修改意见"] for r in rows) == sorted(i.message for i in report.issues)
    assert {r["问题"] for r in rows} == {title(c) for c in codes}
    rank = {"错误": 0, "警告": 1, "提示": 2}
    levels = [rank[r["级别"]] for r in rows]
    assert levels == sorted(levels)  # errors first
    phone = next(r for r in rows if r["问题"] == title("phone-invalid"))
    assert (phone["工作表"], phone["单元格"], phone["列名"]) == ("附件2", "I5", "联系电话")
    assert phone["填写内容"] == "1381234567"  # not masked: the unit sees its own value
    text = sheet_text(ws)
    assert f"错误 {report.errors} 处" in text and "红色" in text and "公式" in text
    assert ws.freeze_panes is not None and ws.auto_filter.ref
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1


def test_bad_cells_are_filled_and_commented(medical):
    _, _, report, _, written = medical
    wb = openpyxl.load_workbook(written[0])
    ws = wb["附件2"]
    expected = {"I5": RED, "H6": RED, "E6": RED, "E5": AMBER}
    for coord, color in expected.items():
        assert ws[coord].fill.fgColor.rgb.endswith(color), coord
    for issue in report.issues:
        if issue.sheet == "附件2" and issue.cell:
            comment = wb[issue.sheet][issue.cell].comment
            assert comment is not None and comment.author == "netreg", issue.cell
            assert issue.message in comment.text
    assert ws["I5"].comment.text.startswith("【错误】")
    assert ws["E5"].comment.text.startswith("【警告】")
    assert ws["C5"].comment is None and ws["C5"].fill.fgColor.rgb in ("00000000", None)


def test_formula_like_text_stays_text(medical):
    _, _, report, _, written = medical
    wb = openpyxl.load_workbook(written[0])
    for coord, text in (("C6", "=1+1"), ("E6", "=2*3")):
        cell = wb["附件2"][coord]
        assert cell.value == text and cell.data_type == "s"
    _, rows = opinion_rows(wb[SHEET])
    shown = next(r for r in rows if r["填写内容"] == "=2*3")
    assert shown["问题"] == title("number-invalid")
    ws = wb[SHEET]
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)


def test_input_file_is_never_modified(medical):
    src, before, *_ = medical
    assert sha256(src) == before


def test_unreadable_file_gets_an_opinion_only_workbook(tmp_path):
    bad = tmp_path / "in" / "信息工程学院.xlsx"
    bad.parent.mkdir()
    bad.write_bytes(os.urandom(4096))
    good = returned(tmp_path / "in" / "医学院.xlsx")
    report = validate_paths([bad, good], Campaign(), as_of=AS_OF)
    written = write_annotated(report, tmp_path / "out").written
    assert sorted(p.name for p in written) == ["信息工程学院-修改意见.xlsx", "医学院-修改意见.xlsx"]
    wb = openpyxl.load_workbook(tmp_path / "out" / "信息工程学院-修改意见.xlsx")
    assert wb.sheetnames == [SHEET]
    text = sheet_text(wb[SHEET])
    assert "信息工程学院 登记表修改意见" in text
    assert "无法读取" in text and ".xlsx" in text
    _, rows = opinion_rows(wb[SHEET])
    assert [r["问题"] for r in rows] == [title("file-unreadable")]
    # the other unit's copy does not list this unit's issue
    _, rows = opinion_rows(openpyxl.load_workbook(tmp_path / "out" / "医学院-修改意见.xlsx")[SHEET])
    assert title("file-unreadable") not in {r["问题"] for r in rows}


def test_unit_with_several_files_gets_one_copy_per_file(tmp_path):
    a = returned(tmp_path / "in" / "医学院-第一批.xlsx")
    b = returned(tmp_path / "in" / "医学院-第二批.xlsx")
    wb = openpyxl.load_workbook(b)  # a second batch, not a byte-identical copy (that is read once)
    wb["填表说明"]["A40"] = "第二批"
    wb.save(b)
    report = validate_paths([a, b], Campaign(), as_of=AS_OF)
    assert {f.unit for f in report.files} == {"医学院"}
    written = write_annotated(report, tmp_path / "out").written
    assert [p.name for p in written] == ["医学院-第一批-修改意见.xlsx", "医学院-第二批-修改意见.xlsx"]
    for path, own, other in ((written[0], a, b), (written[1], b, a)):
        header, rows = opinion_rows(openpyxl.load_workbook(path)[SHEET])
        assert "文件" in header
        assert len(rows) == len(report.issues)  # issues of both files
        assert {r["文件"] for r in rows} == {f"{own.name}（本文件）", other.name}


def _report(src: Path, unit: str, issues) -> Report:
    return Report([FileResult(str(src), unit, "ok", {})], [], list(issues), [], AS_OF)


def test_merged_cells_and_rows_without_column(tmp_path):
    src = returned(tmp_path / "医学院.xlsx")
    f = str(src)
    issues = [
        make("required-missing", file=f, unit="医学院", sheet="附件2", row=2, column="C", field="标题"),
        make("header-mismatch", file=f, unit="医学院", sheet="附件3", row=4, what="缺少列", missing="“清理原因”"),
        make("header-mismatch", file=f, unit="医学院", sheet="不存在的表", what="x", missing="y"),
        make("phone-invalid", file=f, unit="医学院", sheet="附件2", row=5, column="I", value="12\x07=3"),
        make("date-imprecise", file=f, unit="医学院", sheet="附件2", row=5, column="I", value="2024年5月"),
    ]
    written = write_annotated(_report(src, "医学院", issues), tmp_path / "out").written
    wb = openpyxl.load_workbook(written[0])
    title_cell = wb["附件2"]["A2"]  # A2:J2 is merged: C2 is marked on A2
    assert "“标题”为必填项" in title_cell.comment.text and title_cell.fill.fgColor.rgb.endswith(RED)
    assert "缺少列" in wb["附件3"]["A4"].comment.text
    both = wb["附件2"]["I5"].comment.text.split("\n")
    assert both[0].startswith("【错误】") and both[1].startswith("【警告】")  # errors first
    assert wb["附件2"]["I5"].fill.fgColor.rgb.endswith(RED)  # errors win
    _, rows = opinion_rows(wb[SHEET])
    assert len(rows) == len(issues)
    assert "12=3" in {r["填写内容"] for r in rows}  # control character stripped


def test_unsafe_unit_names_stay_inside_out_dir(tmp_path):
    src = returned(tmp_path / "in" / "x.xlsx")
    out = tmp_path / "deep" / "out"
    for unit in ("a/../b", "../../evil", "..", "C:\\x", ".hidden", "名" * 300):
        report = _report(src, unit, [make("unit-unknown", file=str(src), unit=unit, detail="")])
        written = write_annotated(report, out).written
        assert len(written) == 1, unit
        path = written[0]
        assert path.resolve().parent == out.resolve(), unit
        assert not path.name.startswith(".") and ".." not in path.name and "/" not in path.name
        assert len(path.stem) <= 80 + len("-修改意见")
    assert safe_name("a/../b") == "a_._b"
    twins = Report([FileResult(str(src), "a/b", "ok", {}), FileResult(str(src), "a_b", "ok", {})],
                   [], [make("unit-unknown", unit=u, detail="") for u in ("a/b", "a_b")], [], AS_OF)
    names = [p.name for p in write_annotated(twins, tmp_path / "twins").written]
    assert names == ["a_b-修改意见.xlsx", "a_b-2-修改意见.xlsx"]
    assert not (tmp_path / "evil-修改意见.xlsx").exists()


def test_an_output_never_overwrites_an_input(tmp_path):
    folder = tmp_path / "both"
    src = returned(folder / "医学院-修改意见.xlsx")
    before = sha256(src)
    report = validate_paths([src], Campaign(), as_of=AS_OF)
    written = write_annotated(report, folder).written
    assert written and written[0] != src and sha256(src) == before


def test_openpyxl_failure_falls_back_to_opinion_only(tmp_path, monkeypatch):
    src = returned(tmp_path / "医学院.xlsx")
    report = validate_paths([src], Campaign(), as_of=AS_OF)

    def boom(path):
        raise KeyError("broken part")

    monkeypatch.setattr(annotate, "_load_copy", boom)
    written = write_annotated(report, tmp_path / "out").written
    wb = openpyxl.load_workbook(written[0])
    assert wb.sheetnames == [SHEET]
    text = sheet_text(wb[SHEET])
    assert "无法为它生成带批注的副本" in text and "未能检查" not in text
    assert len(opinion_rows(wb[SHEET])[1]) == len(report.issues)


def _fail_unit(monkeypatch, unit: str) -> None:
    """Writing ``unit``'s copy fails as on a full disk; the other units' copies are real."""
    real = annotate._write_job

    def flaky(job, *args):
        if job.unit == unit:
            raise OSError("disk full")
        return real(job, *args)

    monkeypatch.setattr(annotate, "_write_job", flaky)


def test_one_units_failure_does_not_stop_the_others(tmp_path, monkeypatch):
    a = returned(tmp_path / "in" / "医学院.xlsx", "医学院")
    b = returned(tmp_path / "in" / "图书馆.xlsx", "图书馆")
    report = validate_paths([a, b], Campaign(), as_of=AS_OF)
    _fail_unit(monkeypatch, "医学院")
    written = write_annotated(report, tmp_path / "out").written
    assert [p.name for p in written] == ["图书馆-修改意见.xlsx"]


def test_campaign_details_in_the_intro(tmp_path):
    src = returned(tmp_path / "医学院.xlsx")
    report = validate_paths([src], Campaign(), as_of=AS_OF)
    written = write_annotated(report, tmp_path / "out", config=Campaign()).written
    text = sheet_text(openpyxl.load_workbook(written[0])[SHEET])
    assert "11月25日前重新报送" in text and "lhzyxc99@126.com" in text and "2025-11-25" in text


def test_a_returned_annotated_copy_is_annotated_afresh(medical, tmp_path):
    _, _, _, _, written = medical
    # the unit fixes the phone and sends our copy back
    wb = openpyxl.load_workbook(written[0])
    wb["附件2"]["I5"] = "13812345678"
    again = tmp_path / "again" / "医学院.xlsx"
    again.parent.mkdir()
    wb.save(again)
    report = validate_paths([again], Campaign(), as_of=AS_OF)
    second = write_annotated(report, tmp_path / "out2").written
    wb = openpyxl.load_workbook(second[0])
    assert wb.sheetnames.count(SHEET) == 1 and wb.sheetnames[0] == SHEET
    assert wb["附件2"]["I5"].comment is None  # last round's comment is gone with the problem
    assert not wb["附件2"]["I5"].fill.fgColor.rgb.endswith(RED)
    assert wb["附件2"]["E5"].comment is not None  # still a problem: commented again


def test_opens_in_libreoffice(medical, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    *_, written = medical
    pdf = pypdf.PdfReader(convert(written[0], "pdf", tmp_path / "pdf"))
    first = pdf.pages[0]
    assert float(first.mediabox.width) > float(first.mediabox.height)  # landscape
    text = first.extract_text() or ""
    assert "修改意见" in text and "1381234567" in text


def _workbook_cells(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): (c.value, c.font.b, c.fill.fgColor.rgb, c.alignment.horizontal,
                                       c.comment.text if c.comment else None,
                                       c.hyperlink.location if c.hyperlink else None)
            for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None or c.comment}


@pytest.mark.parametrize("fail", [False, True])
def test_copies_written_on_both_cores_equal_the_serial_ones(tmp_path, monkeypatch, fail):
    """From PARALLEL_MIN_JOBS units on, copies are written by forked workers: the same files,
    and one unit's failure inside a worker still costs no other unit."""
    units = ["医学院", "图书馆", "教务处", "团委", "护理学院", "信息工程学院", "经济管理学院"]
    paths = [returned(tmp_path / "in" / f"{u}.xlsx", u) for u in units]
    report = validate_paths(paths, Campaign(), as_of=AS_OF)
    if fail:
        _fail_unit(monkeypatch, "团委")
    monkeypatch.setattr(annotate, "PARALLEL_MIN_JOBS", 10**9)
    serial = write_annotated(report, tmp_path / "serial").written
    monkeypatch.setattr(annotate, "PARALLEL_MIN_JOBS", 2)
    parallel = write_annotated(report, tmp_path / "parallel").written
    assert [p.name for p in parallel] == [p.name for p in serial]
    assert len(serial) == len(units) - fail
    for a, b in zip(serial, parallel):
        assert _workbook_cells(a) == _workbook_cells(b)
