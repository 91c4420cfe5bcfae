"""The Word reader (``netreg.sources.docx``): files written by python-docx and by LibreOffice
Writer at test time, hostile packages, and format sniffing. Nothing binary is committed."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from office import html_table, html_to_docx, require_soffice

from netreg.config import Limits
from netreg.sources.base import Reason, Unreadable
from netreg.sources.docx import SOURCE

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

FORM1 = ["序号", "网站名称", "网站负责人", "网站管理员", "联系电话", "网站栏目", "最后更新日期"]
FORM1_ROWS = [["1", "信息工程学院网站", "王五", "赵六", "0395-1234567", "学院新闻\n通知公告", "2024年5月1日"],
              ["2", "招生网", "王五", "钱七", "13812345678", "招生信息", "2024-06-01"]]
# 附件5, laid out as in the notice: two header rows, 类别 over its two sub-columns.
FORM5_TOP = ["序号", "账号\n平台", "账号ID", "账号\n名称", "粉丝数量", "创作\n方向", "姓名", "类别", "",
             "联系方式", "备注"]
FORM5_SUB = ["", "", "", "", "", "", "", "职务职称\n（教师填写）", "专业年级\n（学生填写）", "", ""]
FORM5_ROWS = [  # 李四 (and his phone) merged down over the first two rows; the third struck
    ["1", "抖音", "dy_lisi", "李四说校园", "5000", "校园生活", "李四", "讲师", "", "13912345678", ""],
    ["2", "微博", "wb_lisi", "李四老师", "2.3万", "技能教学", "", "讲师", "", "", "同一人"],
    ["3", "快手", "ks_old", "已注销账号", "100", "其他", "孙八", "", "2022级护理", "13700001111", "已注销"],
]
FORM5_MERGED = [(0, c, 1, c) for c in range(7)] + [(0, 7, 0, 8), (0, 9, 1, 9), (0, 10, 1, 10),
                                                   (2, 6, 3, 6), (2, 9, 3, 9)]
FILLER = "单位负责人签名（盖章）：    填表人：张三    填表人电话：13812345678"


def _shift(merged, top):
    return sorted((r0 + top, c0, r1 + top, c1) for r0, c0, r1, c1 in merged)


# --- building documents -------------------------------------------------------------------

def _notice_docx(path: Path) -> Path:
    """附件1 and 附件5 as the notice lays them out, filled in with python-docx."""
    import docx

    doc = docx.Document()
    for text in ("附件1", "漯河职业技术学院网站平台更新登记备案表", "填报单位：信息工程学院", FILLER):
        doc.add_paragraph(text)
    t1 = doc.add_table(rows=3, cols=7)
    for r, values in enumerate([FORM1, *FORM1_ROWS]):
        for c, value in enumerate(values):
            t1.cell(r, c).text = value
    doc.add_paragraph("")  # an empty paragraph between the tables is skipped
    for text in ("附件5", "漯河职业技术学院“网络大V”信息统计表", FILLER.replace("填表人电话", "联系电话")):
        doc.add_paragraph(text)
    t5 = doc.add_table(rows=5, cols=11)
    for c in [*range(7), 9, 10]:
        t5.cell(0, c).merge(t5.cell(1, c)).text = FORM5_TOP[c]
    t5.cell(0, 7).merge(t5.cell(0, 8)).text = "类别"
    for c in (7, 8):  # the sub-headers as two paragraphs each
        head, tail = FORM5_SUB[c].split("\n")
        t5.cell(1, c).text = head
        t5.cell(1, c).add_paragraph(tail)
    for r, values in enumerate(FORM5_ROWS, start=2):
        for c, value in enumerate(values):
            if value and not (r == 3 and c in (6, 9)):
                t5.cell(r, c).text = value
    t5.cell(2, 6).merge(t5.cell(3, 6))
    t5.cell(2, 9).merge(t5.cell(3, 9))
    for cell in t5.rows[4].cells:  # the last data row struck through from end to end
        for paragraph in cell.paragraphs:
            for run in paragraph.runs:
                run.font.strike = True
    t5.cell(3, 10).paragraphs[0].runs[0].font.strike = True  # one struck cell: row not struck
    doc.add_paragraph("注：粉丝数量以填报日为准。")
    doc.save(path)
    return path


def _docx_with_body(path: Path, body: str | None = None, *, document: bytes | None = None) -> Path:
    """A real package (python-docx's blank document) whose word/document.xml is replaced."""
    from builders import docx_with_document

    if document is None:
        document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>').encode()
    return docx_with_document(path, document)


def _p(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def _tbl(rows: list[list[str]]) -> str:
    return "<w:tbl>" + "".join(
        "<w:tr>" + "".join(f"<w:tc>{_p(v)}</w:tc>" for v in row) + "</w:tr>" for row in rows) + "</w:tbl>"


def _read(path: Path, **limits):
    return SOURCE.read(path, Limits(**limits))


# --- 1. python-docx, laid out like the notice ---------------------------------------------

def test_notice_layout_written_by_python_docx(tmp_path):
    book = _read(_notice_docx(tmp_path / "信息工程学院.docx"))
    assert (book.format, book.reader, book.meta) == ("docx", "lxml", {})
    assert [g.name for g in book.sheets] == ["表格1", "表格2"]
    g1, g5 = book.sheets

    assert g1.cells[:4] == [["附件1"], ["漯河职业技术学院网站平台更新登记备案表"], ["填报单位：信息工程学院"], [FILLER]]
    assert g1.cells[4:] == [FORM1, *FORM1_ROWS]
    assert (g1.merged, g1.struck) == ((), frozenset())

    assert g5.cells[0] == ["附件5"]
    assert g5.cells[1] == ["漯河职业技术学院“网络大V”信息统计表"]
    assert g5.cells[2][0].startswith("单位负责人签名（盖章）：") and "联系电话：13812345678" in g5.cells[2][0]
    assert g5.cells[3] == FORM5_TOP
    assert g5.cells[4] == FORM5_SUB
    assert g5.cells[5:8] == FORM5_ROWS
    assert g5.cells[8] == ["注：粉丝数量以填报日为准。"]  # after the last table: appended to it
    assert list(g5.merged) == _shift(FORM5_MERGED, 3)
    assert g5.struck == frozenset({7})


def test_sdt_nested_tables_breaks_gridbefore_and_vmerge_text(tmp_path):
    nested = _tbl([["内1", "内2"]])
    body = (
        _p("附件2") + _p("   ") + "<w:sdt><w:sdtContent>" + _p("填报单位：团委  ") +
        "<w:tbl><w:tr><w:trPr><w:gridBefore w:val=\"1\"/></w:trPr>"
        "<w:tc><w:tcPr><w:gridSpan w:val=\"2\"/></w:tcPr>" + _p("甲") + "</w:tc></w:tr>"
        "<w:tr><w:tc>" + _p("a") + "</w:tc><w:tc><w:tcPr><w:vMerge w:val=\"restart\"/></w:tcPr>" + _p("上") +
        "</w:tc><w:tc>" + _p("x") + nested + _p("") + "</w:tc></w:tr>"
        "<w:tr><w:tc>" + _p("b") + "</w:tc><w:tc><w:tcPr><w:vMerge/></w:tcPr>" + _p("下") + "</w:tc>"
        "<w:tc><w:p><w:r><w:t>一</w:t><w:br/><w:t>二</w:t><w:tab/><w:t>三</w:t></w:r></w:p></w:tc></w:tr>"
        "</w:tbl></w:sdtContent></w:sdt>" +
        "<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val=\"junk\"/></w:tcPr>" + _p("only") + "</w:tc></w:tr></w:tbl>"
        "<w:sectPr/>")
    book = _read(_docx_with_body(tmp_path / "x.docx", body))
    g1, g2 = book.sheets
    assert g1.cells == [["附件2"], ["填报单位：团委"],
                        ["", "甲", ""],
                        ["a", "上\n下", "x\n内1\n内2"],  # text in a covered cell is kept
                        ["b", "", "一\n二\t三"]]
    assert g1.merged == ((2, 1, 2, 2), (3, 1, 4, 1))
    assert g2.cells == [["only"]]


def test_runs_strike_hmerge_and_what_is_not_text(tmp_path):
    def run(text, props=""):
        return f'<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>'

    struck, off = '<w:strike/>', '<w:strike w:val="0"/>'
    textbox = ('<w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox><w:txbxContent>'
               + _p("框内") + '</w:txbxContent></v:textbox></v:shape></w:pict></w:r>')
    cell = lambda *runs, props="": f"<w:tc>{props}<w:p>{''.join(runs)}</w:p></w:tc>"
    body = ("<w:tbl>"
            "<w:tr>" + cell(run("甲", struck), run("乙", '<w:dstrike w:val="true"/>')) + cell() + cell(run(" ", ""))
            + "</w:tr>"  # every non-empty cell struck (a lone space is empty): struck
            "<w:tr>" + cell(run("丙", struck)) + cell(run("丁", off)) + cell() + "</w:tr>"
            "<w:tr>" + cell(run("左")) + cell(run("并"), props="<w:tcPr><w:hMerge/></w:tcPr>")
            + cell(run("右")) + "</w:tr>"
            "<w:tr>" + cell(run("续"), props="<w:tcPr><w:vMerge/></w:tcPr>") + cell(run("x")) + cell() + "</w:tr>"
            "<w:tr>" + cell(run("y"), props="<w:tcPr><w:vMerge/></w:tcPr>") + cell() + cell() + "</w:tr>"
            "</w:tbl>"
            '<w:p><w:r><w:t>正文</w:t></w:r><w:r><w:br w:type="page"/></w:r>'
            '<w:del><w:r><w:delText>删掉的</w:delText></w:r></w:del>'
            '<w:ins><w:r><w:t>插入的</w:t></w:r></w:ins>' + textbox + "<w:r><w:t>后</w:t></w:r></w:p>")
    (grid,) = _read(_docx_with_body(tmp_path / "x.docx", body)).sheets
    assert grid.cells == [["甲乙", "", ""], ["丙", "丁", ""], ["左\n并", "", "右"], ["续\ny", "x", ""],
                          ["", "", ""], ["正文插入的后"]]
    assert grid.struck == frozenset({0})
    # a w:hMerge continuation joins the cell before; a w:vMerge without a start opens one
    assert grid.merged == ((2, 0, 2, 1), (3, 0, 4, 0))


def test_huge_span_is_refused_before_allocating(tmp_path):
    body = '<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="999999999999"/></w:tcPr>' + _p("x") + "</w:tc></w:tr></w:tbl>"
    start = time.perf_counter()
    with pytest.raises(Unreadable) as err:
        _read(_docx_with_body(tmp_path / "span.docx", body))
    assert err.value.reason is Reason.TOO_LARGE and time.perf_counter() - start < 2


def test_no_table_gives_one_grid_of_paragraphs(tmp_path):
    book = _read(_docx_with_body(tmp_path / "无.docx", _p("本单位无网络大V") + _p("")))
    assert [(g.name, g.cells) for g in book.sheets] == [("正文", [["本单位无网络大V"]])]


# --- 2. LibreOffice Writer ----------------------------------------------------------------

def test_notice_layout_written_by_libreoffice_writer(tmp_path):
    require_soffice()
    html = tmp_path / "科研处.html"
    html.write_text(
        '<html><head><meta charset="utf-8"></head><body>'
        "<p>附件1</p><p>漯河职业技术学院网站平台更新登记备案表</p><p>" + FILLER + "</p>"
        + html_table([FORM1, *FORM1_ROWS]) +
        "<p>附件5</p><p>漯河职业技术学院“网络大V”信息统计表</p>"
        + html_table([FORM5_TOP, FORM5_SUB, *FORM5_ROWS], FORM5_MERGED, struck_row=4) +
        "</body></html>", encoding="utf-8")
    out = html_to_docx(html, tmp_path / "out")  # skipped without Writer (only libreoffice-calc-nogui), not in CI
    book = _read(out)
    assert [g.name for g in book.sheets] == ["表格1", "表格2"]
    g1, g5 = book.sheets

    top = next(i for i, row in enumerate(g1.cells) if row[0] == "序号")
    assert "附件1" in [row[0] for row in g1.cells[:top]]
    assert g1.cells[top:top + 3] == [FORM1, *FORM1_ROWS]

    top = next(i for i, row in enumerate(g5.cells) if row[0] == "序号")
    assert g5.cells[top] == FORM5_TOP
    assert g5.cells[top + 1] == FORM5_SUB
    assert g5.cells[top + 2:top + 5] == FORM5_ROWS
    assert list(g5.merged) == _shift(FORM5_MERGED, top)
    assert g5.struck == frozenset({top + 4})


# --- 3. hostile and broken files ----------------------------------------------------------

def test_zip_bomb_is_refused_quickly(tmp_path):
    import docx

    path = tmp_path / "bomb.docx"
    blank = tmp_path / "blank.docx"
    docx.Document().save(blank)
    with zipfile.ZipFile(blank) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                dst.writestr(info, src.read(info))
        with dst.open("word/document.xml", "w") as part:  # 200 MB of spaces in one paragraph
            part.write(f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>'.encode())
            chunk = b" " * (1 << 20)
            for _ in range(200):
                part.write(chunk)
            part.write(b"</w:t></w:r></w:p></w:body></w:document>")
    assert path.stat().st_size < 2 * 1024 * 1024
    start = time.perf_counter()
    with pytest.raises(Unreadable) as err:
        _read(path)
    assert time.perf_counter() - start < 2
    assert err.value.reason is Reason.TOO_LARGE


def test_file_over_size_limit(tmp_path):
    path = _docx_with_body(tmp_path / "big.docx", _p("x" * 100) + "<w:sectPr/>")
    with pytest.raises(Unreadable) as err:
        SOURCE.read(path, Limits(max_file_mb=0.001))
    assert err.value.reason is Reason.TOO_LARGE and "Word" in err.value.text


def test_doctype_entity_is_malicious(tmp_path):
    document = (f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
                f'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                f'<w:document xmlns:w="{W_NS}"><w:body>{_p("&b;")}</w:body></w:document>').encode()
    with pytest.raises(Unreadable) as err:
        _read(_docx_with_body(tmp_path / "xxe.docx", document=document))
    assert err.value.reason is Reason.MALICIOUS
    assert "Word" in err.value.text and "Excel" not in err.value.text


@pytest.mark.parametrize("kind", ["truncated", "no-main-part", "bad-xml", "no-body", "not-a-zip", "missing"])
def test_broken_files_are_unreadable(tmp_path, kind):
    good = _notice_docx(tmp_path / "good.docx")
    path = tmp_path / f"{kind}.docx"
    if kind == "truncated":
        data = good.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "no-main-part":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("word/document.xml", "<w:document/>")
    elif kind == "bad-xml":
        _docx_with_body(path, document=b"<w:document><w:body><w:p>")
    elif kind == "no-body":
        _docx_with_body(path, document=f'<w:document xmlns:w="{W_NS}"/>'.encode())
    elif kind == "not-a-zip":
        path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 10)
    with pytest.raises(Unreadable) as err:
        _read(path)
    assert err.value.reason is (Reason.MISSING if kind == "missing" else Reason.CORRUPT)
    assert "\n" not in err.value.text


_MEASURE = """
import json, resource, sys, time
from pathlib import Path
from netreg.config import Limits
from netreg.sources import docx as reader
from netreg.sources.base import Unreadable
reader.MAX_TABLES = int(sys.argv[3])
start = time.perf_counter()
try:
    result = len(reader.SOURCE.read(Path(sys.argv[1]), Limits(max_cells=int(sys.argv[2]))).sheets)
except Unreadable as exc:
    result = exc.reason.value
seconds = time.perf_counter() - start
try:  # this process's own peak (ru_maxrss would include the parent's, inherited at fork)
    status = Path("/proc/self/status").read_text()
    rss_mb = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024
except OSError:
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1 << 20 if sys.platform == "darwin" else 1 << 10)
print(json.dumps({"result": result, "seconds": seconds, "rss_mb": rss_mb}))
"""


@pytest.fixture(scope="module")
def many_tables(tmp_path_factory):
    body = "".join(_p(f"附件{i}") + _tbl([["序号", "名称", "电话"], [str(i), "某群", "13812345678"]])
                   for i in range(10_000)) + _p("完") + "<w:sectPr/>"
    return _docx_with_body(tmp_path_factory.mktemp("many") / "many.docx", body)


@pytest.mark.parametrize("max_cells, max_tables, expected", [
    (2_000_000, 1000, "too-large"),     # the default: more tables than any form has
    (1000, 100_000, "too-large"),       # cells over the limit
    (2_000_000, 100_000, 10_000),       # read in full when allowed
])
def test_ten_thousand_tables(many_tables, max_cells, max_tables, expected):
    measured = _measure(many_tables, max_cells, max_tables)
    print(f"10,000 tables, max_cells={max_cells}, max_tables={max_tables}: {measured}")
    assert measured["result"] == expected
    assert measured["seconds"] < 10
    assert measured["rss_mb"] < 500


def _measure(path: Path, max_cells: int = 2_000_000, max_tables: int = 1000) -> dict:
    pytest.importorskip("resource")
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(path), str(max_cells), str(max_tables)],
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_memory_is_bounded_by_a_row_not_the_document(tmp_path):
    """600,000 paragraphs (15 MB of XML): a whole lxml tree would take ~180 MB more;
    streamed, memory stays near the size of the part itself."""
    rng = random.Random(5)
    body = "".join(f'<w:p w:rsidR="{rng.getrandbits(32):08X}"/>' for _ in range(600_000)) + _p("完")
    measured = _measure(_docx_with_body(tmp_path / "long.docx", body))
    print(f"600,000 paragraphs: {measured}")
    assert measured["result"] == 1 and measured["rss_mb"] < 150


def test_one_long_table_is_read(tmp_path):
    rows = [FORM5_TOP] + [[str(i), "抖音", f"dy{i}", "某某", "5000", "生活", "某", "讲师", "", "13812345678", ""]
                          for i in range(5000)]
    measured = _measure(_docx_with_body(tmp_path / "long.docx", _tbl(rows)))
    print(f"one table of 5,001 rows × 11 columns: {measured}")
    assert measured["result"] == 1 and measured["seconds"] < 10


# --- 4. sniffing ----------------------------------------------------------------------------

def _head(path: Path) -> bytes:
    return path.read_bytes()[:4096]


def test_accepts(tmp_path):
    import openpyxl

    renamed = tmp_path / "附件5.xlsx"
    renamed.write_bytes(_notice_docx(tmp_path / "a.docx").read_bytes())
    assert SOURCE.accepts(_head(renamed), renamed)
    assert SOURCE.read(renamed, Limits()).sheets[1].cells[3] == FORM5_TOP

    workbook = tmp_path / "book.xlsx"
    openpyxl.Workbook().save(workbook)
    assert not SOURCE.accepts(_head(workbook), workbook)

    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("医学院.xlsx", b"x")
        zf.writestr("word/readme.txt", b"x")
    assert not SOURCE.accepts(_head(plain), plain)

    broken = tmp_path / "broken.docx"  # an unreadable zip named .docx: ours, to say it is broken
    broken.write_bytes(renamed.read_bytes()[:2000])
    assert SOURCE.accepts(_head(broken), broken)
    assert not SOURCE.accepts(_head(broken), broken.rename(tmp_path / "broken.bin"))
    assert not SOURCE.accepts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", renamed)  # OLE2 (.doc, encrypted)
    assert SOURCE.format == "docx"


def test_import_is_light():
    code = ("import sys, netreg.sources.docx; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'docx', 'lxml', 'openpyxl'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
