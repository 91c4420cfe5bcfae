""".xls, .et, .ods and .xlsb through python-calamine (sources/calamine.py).

Every fixture is made here: a hand-laid .xlsx converted by LibreOffice (.xls, .ods), .xls
written with xlwt as an old Excel/WPS would, .xlsb written record by record (LibreOffice
imports .xlsb but cannot write it), hostile files patched or built by hand.
"""

from __future__ import annotations

import datetime as dt
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from measure import measured_read
from office import convert

from netreg.config import Limits
from netreg.sources.base import HEAD_BYTES, Reason, Unreadable
from netreg.sources.calamine import SOURCE, ole2_kind

LIMITS = Limits()
TITLE, UNIT, HEADER = "附件1 网络平台账号登记表", "填报单位：医学院", ["序号", "平台", "账号名称", "开通日期", "联系电话"]


def _read(path: Path):
    assert SOURCE.accepts(path.read_bytes()[:HEAD_BYTES], path)
    return SOURCE.read(path, LIMITS)


def _refused(path: Path, reason: Reason, limits=LIMITS) -> Unreadable:
    with pytest.raises(Unreadable) as info:
        SOURCE.read(path, limits)
    assert info.value.reason == reason, info.value.text
    assert "\n" not in info.value.text and any("\u4e00" <= ch <= "\u9fff" for ch in info.value.text)
    return info.value


# ---------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def hand_xlsx(tmp_path_factory) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "附件1"
    ws["A1"] = TITLE
    ws.merge_cells("A1:E1")
    ws["A2"] = UNIT
    ws.append(HEADER)
    ws.append([1, "微信公众号", "漯职医学院", dt.date(2019, 9, 1), 13812345678])
    ws.append([2, "抖音", "医学院抖音号", dt.date(2020, 5, 1), 13912345678])
    for cell in ("D4", "D5"):
        ws[cell].number_format = "yyyy-mm-dd"
    ws["B6"] = "合并"
    ws.merge_cells("B6:C7")
    wb.create_sheet("说明")["C3"] = "备注"
    path = tmp_path_factory.mktemp("hand") / "医学院.xlsx"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def office_files(hand_xlsx, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("lo")
    return {fmt: convert(hand_xlsx, fmt, out) for fmt in ("xls", "ods")}


def _xlwt_book(path: Path, far: tuple[int, int] | None = None) -> Path:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("附件1")
    ws.write_merge(0, 0, 0, 4, TITLE)
    ws.write(1, 0, UNIT)
    for col, text in enumerate(HEADER):
        ws.write(2, col, text)
    for col, value in enumerate([1, "微信公众号", "漯职医学院", dt.date(2019, 9, 1), 13812345678]):
        ws.write(3, col, value, xlwt.easyxf(num_format_str="YYYY-MM-DD") if col == 3 else xlwt.Style.default_style)
    if far:
        ws.write(*far, "far")
    wb.save(str(path))
    return path


def _rec(typ: int, body: bytes = b"") -> bytes:
    """One BIFF12 record: type (1–2 bytes) and size (7 bits a byte), then the body."""
    head = bytes([typ]) if typ < 0x80 else bytes([(typ & 0x7F) | 0x80, typ >> 7])
    size, n = b"", len(body)
    while True:
        size, n = size + bytes([(n & 0x7F) | (0x80 if n >> 7 else 0)]), n >> 7
        if not n:
            return head + size + body


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def write_xlsb(path: Path, sheets: dict[str, tuple[list, list]]) -> Path:
    """A minimal .xlsb: per sheet, cells (row, col, value; a date gets the date style) and
    merged ranges (r0, c0, r1, c1)."""
    book = b"".join(_rec(0x9C, struct.pack("<II", 0, i + 1) + _wide(f"rId{i + 1}") + _wide(name))
                    for i, name in enumerate(sheets)) + _rec(0x90) + _rec(0x9D, bytes(4))
    styles = _rec(0x269, struct.pack("<I", 2)) + _rec(0x2F, struct.pack("<HH", 0, 0) + bytes(12)) \
        + _rec(0x2F, struct.pack("<HH", 0, 14) + bytes(12))
    rels = "".join(f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   f'relationships/worksheet" Target="worksheets/sheet{i + 1}.bin"/>' for i in range(len(sheets)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                    'package/2006/content-types"/>')
        zf.writestr("xl/workbook.bin", book)
        zf.writestr("xl/styles.bin", styles)
        zf.writestr("xl/_rels/workbook.bin.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                    f'openxmlformats.org/package/2006/relationships">{rels}</Relationships>')
        for i, (cells, merged) in enumerate(sheets.values()):
            body, last = [_rec(0x94, bytes(16)), _rec(0x91)], None
            for row, col, value in sorted(cells, key=lambda c: c[:2]):
                if row != last:
                    body.append(_rec(0x00, struct.pack("<I", row) + bytes(13)))
                    last = row
                if isinstance(value, str):
                    body.append(_rec(0x06, struct.pack("<II", col, 0) + _wide(value)))
                elif isinstance(value, dt.date):
                    serial = (value - dt.date(1899, 12, 30)).days
                    body.append(_rec(0x05, struct.pack("<IId", col, 1, serial)))
                else:
                    body.append(_rec(0x05, struct.pack("<IId", col, 0, value)))
            body.append(_rec(0x92))
            if merged:
                body += [_rec(0xB1, struct.pack("<I", len(merged)))]
                body += [_rec(0xB0, struct.pack("<4I", r0, r1, c0, c1)) for r0, c0, r1, c1 in merged]
                body.append(_rec(0xB2))
            zf.writestr(f"xl/worksheets/sheet{i + 1}.bin", b"".join(body))
    return path


def _replace_part(path: Path, name: str, data: bytes) -> None:
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, content in parts.items():
            zf.writestr(part, data if part == name else content)


FORM_CELLS = [(0, 0, TITLE), (1, 0, UNIT), *((2, c, h) for c, h in enumerate(HEADER)),
              (3, 0, 1), (3, 1, "微信公众号"), (3, 2, "漯职医学院"), (3, 3, dt.date(2019, 9, 1)), (3, 4, 13812345678),
              (5, 1, "合并")]

ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def write_ods(path: Path, tables: dict[str, str]) -> Path:
    """An .ods holding the given tables (name → the rows' XML), as small as calamine accepts."""
    body = "".join(f'<table:table table:name="{name}">{rows}</table:table>' for name, rows in tables.items())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:'
                    'manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
                    'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
        zf.writestr("content.xml", f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS}>'
                    f'<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>'
                    f'</office:document-content>')
    return path


def _text(value: str, attrs: str = "") -> str:
    return f'<table:table-cell office:value-type="string"{attrs}><text:p>{value}</text:p></table:table-cell>'


# ---------------------------------------------------------------------------- good files

def _assert_form(grid, *, date_col: bool = True) -> None:
    assert grid.cells[0][0] == TITLE and grid.cells[1][0] == UNIT
    assert grid.cells[2] == HEADER
    row = grid.cells[3]
    assert row[0] == 1 and row[1:3] == ["微信公众号", "漯职医学院"]
    assert row[3] == dt.date(2019, 9, 1)
    assert row[4] == 13812345678  # a phone typed as a number comes back as a number
    assert all(len(r) == len(grid.cells[0]) for r in grid.cells)
    assert grid.formulas == {}


def test_libreoffice_xls(office_files):
    book = _read(office_files["xls"])
    assert (book.format, book.reader, [g.name for g in book.sheets]) == ("xls", "calamine", ["附件1", "说明"])
    form, notes = book.sheets
    _assert_form(form)
    assert form.cells[5][1] == "合并" and form.cells[4][3] == dt.date(2020, 5, 1)
    assert set(form.merged) == {(0, 0, 0, 4), (5, 1, 6, 2)}  # B6:C7 reaches past the last value
    assert notes.cells[2][2] == "备注" and notes.cells[0] == ["", "", ""]  # kept at C3, not moved to A1


def test_libreoffice_ods(office_files):
    book = _read(office_files["ods"])
    assert book.format == "ods" and [g.name for g in book.sheets] == ["附件1", "说明"]
    form, notes = book.sheets
    _assert_form(form)
    assert set(form.merged) == {(0, 0, 0, 4), (5, 1, 6, 2)}  # from number-*-spanned: calamine gives none
    assert notes.cells[2][2] == "备注"
    # LibreOffice writes the rest of the sheet as 1,048,568 repeated formatted rows: not refused
    assert b'number-rows-repeated="10485' in zipfile.ZipFile(office_files["ods"]).read("content.xml")


def test_xlwt_xls_and_renamed_et(tmp_path):
    path = _xlwt_book(tmp_path / "表格.xls")
    book = _read(path)
    assert book.format == "xls"
    _assert_form(book.sheets[0])
    assert book.sheets[0].merged == ((0, 0, 0, 4),)
    et = path.rename(tmp_path / "表格.et")
    book = _read(et)
    assert book.format == "et" and book.sheets[0].cells[3][3] == dt.date(2019, 9, 1)
    assert ole2_kind(et) == "xls"


def test_xlsb(tmp_path):
    path = write_xlsb(tmp_path / "表格.xlsb", {"附件1": (FORM_CELLS, [(0, 0, 0, 4), (5, 1, 6, 2)]),
                                               "说明": ([(2, 2, "备注")], [])})
    book = _read(path)
    assert book.format == "xlsb" and [g.name for g in book.sheets] == ["附件1", "说明"]
    _assert_form(book.sheets[0])
    assert book.sheets[0].merged == ((0, 0, 0, 4), (5, 1, 6, 2))
    assert book.sheets[1].cells[2][2] == "备注"


def test_accepts_by_content_not_extension(tmp_path, office_files, hand_xlsx):
    head = lambda p: p.read_bytes()[:HEAD_BYTES]  # noqa: E731
    renamed = tmp_path / "其实是xls.xlsx"
    renamed.write_bytes(office_files["xls"].read_bytes())
    assert SOURCE.accepts(head(renamed), renamed) and SOURCE.read(renamed, LIMITS).format == "xls"
    assert not SOURCE.accepts(head(hand_xlsx), hand_xlsx)
    junk = tmp_path / "乱码.xls"
    junk.write_bytes(bytes(range(256)) * 20)
    assert not SOURCE.accepts(head(junk), junk)
    _refused(junk, Reason.CORRUPT)


def test_import_is_light():
    code = ("import sys, netreg.sources.calamine, netreg.sources.delimited; "
            "print(sorted(m for m in ('python_calamine', 'defusedxml', 'openpyxl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------- hostile files

def _measured(path: Path) -> tuple[str, float, int]:
    """Read in a fresh interpreter: (outcome, seconds, peak RSS in MB)."""
    return measured_read("calamine", path, '"read"', cap_gb=3)


def _patch(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1
    return data.replace(old, new)


def _far_xls(tmp_path: Path) -> list[Path]:
    """Values at A1 and IV65536 (xlwt's limit: 1.1 GB RSS without the scan), the same cell
    patched to column 65535 (calamine asks 137 GB and aborts), and a DIMENSIONS record declaring
    4 billion rows (calamine reserves them)."""
    far = _xlwt_book(tmp_path / "远端.xls", far=(65535, 255))
    data = far.read_bytes()
    cell = struct.pack("<HHHH", 0x00FD, 10, 65535, 255)
    wide = tmp_path / "远端列.xls"
    wide.write_bytes(_patch(data, cell, struct.pack("<HHHH", 0x00FD, 10, 65535, 65535)))
    dims = _xlwt_book(tmp_path / "声明.xls")
    data = dims.read_bytes()
    at = data.index(struct.pack("<HH", 0x0200, 14))
    dims.write_bytes(data[:at + 4] + struct.pack("<IIHH", 0, 0xFFFFFFFF, 0, 256) + data[at + 16:])
    return [far, wide, dims]


def test_far_cells_refused_fast_with_bounded_memory(tmp_path):
    ods_far = write_ods(tmp_path / "远端.ods", {"附件1": (
        f'<table:table-row>{_text("a")}</table:table-row>'
        '<table:table-row table:number-rows-repeated="999998"><table:table-cell/></table:table-row>'
        f'<table:table-row><table:table-cell table:number-columns-repeated="16383"/>{_text("far")}</table:table-row>')})
    ods_rep = write_ods(tmp_path / "重复.ods", {"附件1": (
        '<table:table-row table:number-rows-repeated="10000"><table:table-cell office:value-type="float" '
        'office:value="1" table:number-columns-repeated="16384"/></table:table-row>')})
    xlsb = write_xlsb(tmp_path / "远端.xlsb", {"附件1": ([(0, 0, "a"), (1_000_000, 16383, "far")], [])})
    # calamine reads a cell's column from a reused buffer: an empty BrtCellRk after a record
    # starting with 1,000,000 sits in column 1,000,001 (it asks 32 GB and aborts)
    stale = write_xlsb(tmp_path / "短记录.xlsb", {"附件1": ([(0, 0, "a")], [])})
    _replace_part(stale, "xl/worksheets/sheet1.bin", _rec(0x94, bytes(16)) + _rec(0x91) + _rec(0x00, bytes(17))
                  + _rec(0x06, bytes(8) + _wide("a")) + _rec(0x00, struct.pack("<I", 1000) + bytes(13))
                  + _rec(0x25, struct.pack("<I", 1_000_000) + bytes(12)) + _rec(0x02) + _rec(0x92))
    for path in [ods_far, ods_rep, xlsb, stale, *_far_xls(tmp_path)]:
        outcome, seconds, rss = _measured(path)
        assert (outcome, path.name) == ("too-large", path.name)
        assert seconds < 5 and rss < 200, (path.name, seconds, rss)
    text = _refused(ods_far, Reason.TOO_LARGE).text
    assert "附件1" in text and "1000000 行" in text and "请删除多余的空行空列" in text


def test_formatted_empty_rows_are_not_refused(tmp_path):
    empty = '<table:table-cell table:style-name="ce1" table:number-columns-repeated="16384"/>'
    spanned = _text("平台", " table:number-columns-spanned='2'")
    path = write_ods(tmp_path / "格式.ods", {"附件1": (
        f'<table:table-row>{_text("序号")}{spanned}<table:covered-table-cell/>{_text("x")}</table:table-row>'
        f'<table:table-row table:number-rows-repeated="1048575">{empty}</table:table-row>')})
    grid = _read(path).sheets[0]
    assert grid.cells == [["序号", "平台", "", "x"]] and grid.merged == ((0, 1, 0, 2),)


def test_limit_is_rows_times_columns_of_farthest_value(tmp_path):
    path = write_ods(tmp_path / "边界.ods", {"S": f'<table:table-row table:number-rows-repeated="999">'
                                                     f'<table:table-cell/></table:table-row>'
                                                     f'<table:table-row><table:table-cell table:number-'
                                                     f'columns-repeated="1"/>{_text("x")}</table:table-row>'})
    assert len(_read(path).sheets[0].cells) == 1000  # 1000 × 2 = 2000 cells
    _refused(path, Reason.TOO_LARGE, Limits(max_cells=1999))
    xlsb = write_xlsb(tmp_path / "边界.xlsb", {"S": ([(999, 1, "x")], [])})
    assert len(SOURCE.read(xlsb, Limits(max_cells=2000)).sheets[0].cells) == 1000
    _refused(xlsb, Reason.TOO_LARGE, Limits(max_cells=1999))
    xls = _xlwt_book(tmp_path / "边界.xls", far=(999, 9))
    assert len(SOURCE.read(xls, Limits(max_cells=10000)).sheets[0].cells) == 1000
    _refused(xls, Reason.TOO_LARGE, Limits(max_cells=9999))


def test_broken_xls(tmp_path):
    good = _xlwt_book(tmp_path / "好.xls").read_bytes()
    truncated = tmp_path / "截断.xls"
    truncated.write_bytes(good[:len(good) // 2])
    _refused(truncated, Reason.CORRUPT)
    # the directory's sector chain points at itself: calamine would grow a buffer without end
    sectors = good[48:52]  # first directory sector
    fat_at = (struct.unpack("<I", good[76:80])[0] + 1) * 512 + 4 * struct.unpack("<I", sectors)[0]
    looping = tmp_path / "循环.xls"
    looping.write_bytes(good[:fat_at] + sectors + good[fat_at + 4:])
    assert _measured(looping)[0] == "corrupt"
    junk_ole = tmp_path / "空壳.xls"
    junk_ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert SOURCE.accepts(junk_ole.read_bytes(), junk_ole)  # a broken container: judged by extension
    _refused(junk_ole, Reason.CORRUPT)


def test_encrypted(tmp_path, hand_xlsx):
    from msoffcrypto.format.ooxml import OOXMLFile

    xlsx = tmp_path / "加密.xlsx"
    with hand_xlsx.open("rb") as src, xlsx.open("wb") as out:
        OOXMLFile(src).encrypt("secret", out)
    assert ole2_kind(xlsx) == "encrypted"
    assert not SOURCE.accepts(xlsx.read_bytes()[:HEAD_BYTES], xlsx)  # the registry names it
    assert "密码" in _refused(xlsx, Reason.ENCRYPTED).text
    # an .xls with a FILEPASS record (RC4) where xlwt writes INTERFACEHDR
    data = _xlwt_book(tmp_path / "x.xls").read_bytes()
    xls = tmp_path / "加密.xls"
    xls.write_bytes(_patch(data, struct.pack("<HHH", 0x00E1, 2, 0x04B0), struct.pack("<HHH", 0x002F, 2, 1)))
    assert ole2_kind(xls) == "encrypted" and SOURCE.accepts(xls.read_bytes()[:HEAD_BYTES], xls)
    _refused(xls, Reason.ENCRYPTED)


def test_ole2_kind_of_word_files(tmp_path):
    html = tmp_path / "附件1.html"
    html.write_text("<html><body><p>附件1</p><table><tr><td>序号</td></tr></table></body></html>", encoding="utf-8")
    doc = convert(html, "doc:MS Word 97", tmp_path / "out")
    assert ole2_kind(doc) == "doc"
    assert not SOURCE.accepts(doc.read_bytes()[:HEAD_BYTES], doc)
    wps = doc.rename(tmp_path / "附件1.wps")
    assert ole2_kind(wps) == "wps"
    err = _refused(wps, Reason.CORRUPT)
    assert err.code == "file-legacy-format"
