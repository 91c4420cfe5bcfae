"""The blank workbooks written from their parts (excel/blankbook.py) against the openpyxl path
they skip (template.build_workbook + save): the same parts byte for byte, the same workbook read
back with openpyxl, the same reading by netreg, the same validation once filled in; names the
fast path cannot write go through openpyxl."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from netreg.config import Campaign, Choice
from netreg.excel import blankbook, prefill, template
from netreg.excel.blankbook import BlankBooks
from netreg.excel.template import build_workbook, write_templates
from netreg.model import forms as F

GENERATED = "2026-11-01T09:30:00+08:00"
UNITS = [
    "医学院", "x", "党委办公室/校长办公室", "A&B <c> \"q\" 'a'", "😀学院", "a  b", "体育学院（筹）",
    "医" * 40, "Abcdefghijklmnopqrstuvwxyz 0123456789 Abcdefghijklmnopqrstuvwxyz",
    "一、总则",  # a 填表说明 heading if it began a line: here it follows 填报单位：
    "&#38468;", "]]>",
]
NOT_PLAIN = ["=HYPERLINK(\"x\")", "+1", "-学院", "@x", "a\nb", "tab\there", " 前空格", "后空格 ", "", "医" * 201,
             "ctl\x01", "\u3000全角空格", "\u00a0中文"]
CONFIGS = {
    "default": Campaign(),
    "small": Campaign(blank_rows=3, validation_rows=20),
    "long lists": Campaign(platforms=[Choice(name=f"平台名称很长的第{i}个平台") for i in range(40)],
                           school="一个名字相当长的学校（含分校区）&<>", follower_threshold=5000, deadline="2026-12-01",
                           email="a&b@example.com", stale_days=30),
}


def parts(path: Path) -> dict[str, bytes]:
    """Every member's bytes; the creation/modification times and the order of the merged
    ranges (openpyxl writes a set) made comparable."""
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        found = {info.filename: zf.read(info.filename) for info in zf.infolist()}
    for name, xml in found.items():
        xml = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*<", rb"\1T<", xml)
        found[name] = re.sub(rb"(<mergeCells[^>]*>)(.*?)(</mergeCells>)",
                             lambda m: m[1] + b"".join(sorted(re.findall(rb"<mergeCell [^>]*/>", m[2]))) + m[3], xml)
    return found


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def books(request, tmp_path_factory):
    config = CONFIGS[request.param]
    books = BlankBooks(config, build_workbook)
    books.prepare(tmp_path_factory.mktemp("prepare"))
    assert books.parts is not None, books.why
    return config, books


def slow(config: Campaign, unit: str, path: Path) -> Path:
    build_workbook(config, unit, generated=GENERATED).save(path)
    return path


def fast(books: BlankBooks, unit: str, path: Path) -> Path:
    assert books.fits(unit)
    books.write(unit, path, generated=GENERATED)
    return path


@pytest.mark.parametrize("unit", UNITS)
def test_every_part_is_what_openpyxl_writes(books, unit, tmp_path):
    config, books = books
    want = parts(slow(config, unit, tmp_path / "slow.xlsx"))
    got = parts(fast(books, unit, tmp_path / "fast.xlsx"))
    assert list(got) == list(want)
    for name in want:
        assert got[name] == want[name], name


def _cell(c) -> tuple:
    return (c.value, c.data_type, c.number_format, c.quotePrefix, repr(c.font), repr(c.fill), repr(c.border),
            repr(c.alignment), repr(c.protection))


def _sheet(ws) -> dict:
    return {
        "state": ws.sheet_state,
        "cells": {c.coordinate: _cell(c) for row in ws.iter_rows() for c in row},
        "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        "validations": sorted(repr(dv) for dv in ws.data_validations.dataValidation),
        "widths": {k: d.width for k, d in ws.column_dimensions.items()},
        "heights": {k: d.height for k, d in ws.row_dimensions.items()},
        "freeze": ws.freeze_panes,
        "print": (ws.print_title_rows, repr(ws.page_setup), repr(ws.page_margins), repr(ws.print_options),
                  repr(ws.sheet_properties), ws.oddFooter.center.text),
    }


@pytest.mark.parametrize("unit", ["医学院", "A&B <c>", "医" * 40])
def test_read_back_with_openpyxl_it_is_the_same_workbook(books, unit, tmp_path):
    config, books = books
    want = openpyxl.load_workbook(slow(config, unit, tmp_path / "slow.xlsx"))
    got = openpyxl.load_workbook(fast(books, unit, tmp_path / "fast.xlsx"))
    assert got.sheetnames == want.sheetnames
    assert got.active.title == want.active.title
    for name in want.sheetnames:
        assert _sheet(got[name]) == _sheet(want[name]), name
    assert {n: repr(d) for n, d in got.defined_names.items()} == {n: repr(d) for n, d in want.defined_names.items()}
    assert [(p.name, p.value) for p in got.custom_doc_props] == [(p.name, p.value) for p in want.custom_doc_props]
    props = {p.name: p.value for p in got.custom_doc_props}
    assert props["netreg_unit"] == unit and props["netreg_generated"] == GENERATED
    assert "填报单位：" + unit in [c.value for c in got["附件1"][1]]


def test_the_metadata_time_and_document_times_are_the_writing_time(tmp_path):
    books = BlankBooks(Campaign(), build_workbook)
    books.prepare(tmp_path)
    books.write("医学院", tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "a.xlsx")
    meta = {r[0]: r[1] for r in wb[F.META_SHEET].iter_rows(values_only=True)}
    assert meta["generated"][:2] == "20" and "PLACEHOLDER" not in meta["generated"]
    assert {p.name: p.value for p in wb.custom_doc_props}["netreg_generated"] == meta["generated"]
    assert wb.properties.created.year >= 2025 and wb.properties.modified.year >= 2025


@pytest.mark.parametrize("unit", NOT_PLAIN)
def test_names_it_cannot_write_go_through_openpyxl(unit, tmp_path):
    books = BlankBooks(Campaign(), build_workbook)
    books.prepare(tmp_path)
    assert not books.fits(unit)
    [written] = write_templates(Campaign(blank_rows=3, validation_rows=20), [unit], tmp_path / "out")
    assert written.status == "written"
    meta = {r[0]: r[1] for r in openpyxl.load_workbook(written.path)[F.META_SHEET].iter_rows(values_only=True)}
    assert (meta["unit"] or "") == template._clean(unit)


def _counting_saves(monkeypatch) -> list:
    saves = []
    original = openpyxl.Workbook.save

    def save(self, filename):
        saves.append(filename)
        return original(self, filename)

    monkeypatch.setattr(openpyxl.Workbook, "save", save)
    return saves


def test_write_templates_builds_one_workbook_with_openpyxl_for_all_plain_names(tmp_path, monkeypatch):
    saves = _counting_saves(monkeypatch)
    units = ["医学院", "护理学院", "=SUM(1)", "药学院"]
    results = write_templates(Campaign(), units, tmp_path / "out")
    assert [r.status for r in results] == ["written"] * 4
    assert len(saves) == 2  # the campaign's workbook, and the formula-like name's own
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(r.path.name for r in results)
    for r in results:
        got = openpyxl.load_workbook(r.path)
        assert {p.name: p.value for p in got.custom_doc_props}["netreg_unit"] == r.unit


def test_the_cli_path_writes_blank_units_from_parts_and_prefilled_ones_with_openpyxl(tmp_path, monkeypatch):
    saves = _counting_saves(monkeypatch)
    site = {"site_name": "学院网站", "owner": "办公室", "admin": "王强", "phone": "13912345678", "sections": "新闻",
            "last_update": date(2025, 11, 10)}
    rows = {"医学院": {1: [site]}, "护理学院": {}}
    results = prefill.write_prefilled(Campaign(), ["医学院", "护理学院", "药学院"], rows, tmp_path / "out",
                                      fillers={"医学院": ("王丽", "13912345678")})
    assert [r.status for r in results] == ["written"] * 3
    assert len(saves) == 2  # the campaign's workbook and 医学院's pre-filled one
    assert openpyxl.load_workbook(results[0].path)["附件1"]["B5"].value == "学院网站"
    for r in results[1:]:
        assert parts(r.path).keys() == parts(slow(Campaign(), r.unit, tmp_path / "slow.xlsx")).keys()
        assert openpyxl.load_workbook(r.path)["附件1"]["B5"].value is None


def test_only_prefilled_units_build_no_campaign_workbook(tmp_path, monkeypatch):
    saves = _counting_saves(monkeypatch)
    prefill.write_prefilled(Campaign(), ["医学院"], {"医学院": {4: [{"group_name": "群"}]}}, tmp_path / "out")
    assert len(saves) == 1


def test_a_layout_it_does_not_know_leaves_every_unit_to_openpyxl(tmp_path):
    def build(config, unit, generated=None):  # the unit's name somewhere the parts do not expect it
        wb = build_workbook(config, unit, generated=generated)
        wb["附件1"]["A30"] = unit
        return wb

    books = BlankBooks(Campaign(), build)
    books.prepare(tmp_path)
    assert books.parts is None and "not known" in books.why
    assert not books.fits("医学院")
    assert list(tmp_path.iterdir()) == []  # the campaign's workbook is not left behind


def test_a_folder_it_cannot_write_leaves_every_unit_to_openpyxl(tmp_path, monkeypatch):
    def broken(self, filename):
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken)
    books = BlankBooks(Campaign(), build_workbook)
    books.prepare(tmp_path)
    assert books.parts is None and books.why == "disk full"
    assert list(tmp_path.iterdir()) == []


def test_workers_write_the_same_files(tmp_path, monkeypatch):
    monkeypatch.setattr(template, "PARALLEL_MIN_UNITS", 2)
    units = [f"单位{i}" for i in range(6)]
    results = write_templates(Campaign(blank_rows=3, validation_rows=20), units, tmp_path / "p")
    assert [r.status for r in results] == ["written"] * 6
    for r in results:
        want = parts(slow(Campaign(blank_rows=3, validation_rows=20), r.unit, tmp_path / "slow.xlsx"))
        got = parts(r.path)
        for name in want:
            if name != "xl/worksheets/sheet7.xml" and not name.endswith("custom.xml"):  # the time written
                assert got[name] == want[name], (r.unit, name)


def _fill(wb, rows_by_form, filler=("王丽", "13912345678")) -> None:
    """As builders.filled_template fills our template in."""
    from builders import _input_right_of, column_index, first_data_row

    for form_id, rows in rows_by_form.items():
        form = F.FORMS_BY_ID[form_id]
        ws = wb[form.sheet]
        for n, row in enumerate(rows):
            ws.cell(first_data_row(form) + n, 1).value = n + 1
            for key, value in row.items():
                ws.cell(first_data_row(form) + n, column_index(form, key)).value = value
        for label, value in zip(("填表人：", form.phone_label + "："), filler):
            r, c = _input_right_of(ws, label)
            ws.cell(r, c).value = value


def test_netreg_reads_and_checks_a_filled_in_fast_template_as_the_openpyxl_one(tmp_path):
    from builders import ACCOUNT, GROUP, SITE

    from netreg.pipeline import validate_paths
    from netreg.sources import open_book

    config = Campaign()
    books = BlankBooks(config, build_workbook)
    books.prepare(tmp_path)
    rows = {1: [SITE, {**SITE, "phone": "12345"}], 2: [ACCOUNT, {**ACCOUNT, "followers": "约3000"}], 4: [GROUP]}
    reports, metas = [], []
    for kind in ("slow", "fast"):
        blank = tmp_path / kind / "blank.xlsx"
        blank.parent.mkdir()
        slow(config, "医学院", blank) if kind == "slow" else fast(books, "医学院", blank)
        metas.append(open_book(blank, config.limits).meta)
        wb = openpyxl.load_workbook(blank)
        _fill(wb, rows)
        wb.save(tmp_path / kind / "医学院.xlsx")
        reports.append(validate_paths([tmp_path / kind / "医学院.xlsx"], config, as_of=date(2025, 12, 1)))
    assert metas[0] == metas[1] and metas[0]["unit"] == "医学院"
    slow_report, fast_report = reports

    def issues(report, kind):
        return [(i.code, i.severity, i.sheet, i.row, i.column, i.field, i.value, i.message.replace(kind, "")) for i in report.issues]

    def records(report):
        return [(r.form.id, r.unit, r.sheet, r.row, r.values) for r in report.records]

    assert issues(fast_report, "fast") == issues(slow_report, "slow")
    assert records(fast_report) == records(slow_report)
    assert len(fast_report.records) == 5 and any(i.code for i in fast_report.issues)


def test_the_deflate_pieces_make_one_stream():
    import zlib

    data = [b"<a>" * 1000, b"x", b"", "填报单位".encode() * 50]
    stream = b"".join(blankbook._deflate(d) for d in data) + blankbook._END
    assert zlib.decompress(stream, -15) == b"".join(data)


def test_libreoffice_opens_a_fast_written_template(tmp_path):
    from office import convert, require_soffice

    require_soffice()
    [written] = write_templates(Campaign(), ["医学院"], tmp_path / "out")
    resaved = openpyxl.load_workbook(convert(written.path, "xlsx", tmp_path))
    assert "填报单位：医学院" in [c.value for c in resaved["附件1"][1]]
    assert resaved["附件2"]["A5"].value == 1
    assert {p.name: p.value for p in resaved.custom_doc_props}["netreg_unit"] == "医学院"
