"""The Word reader's shortcuts (issue 24) against the general path they skip.

``netreg.sources.docx.SHORTCUTS = False`` reads as before: ``guard.check_zip``, then
word/document.xml streamed and every row read by ``_row``. With the shortcuts the package
is checked through ``guard.opened``, a small document part is parsed whole and walked in C,
and plain rows are read by ``_fast_row``. Both must give the same ``Book``
(grids' cells, merged ranges, struck rows, places) or the same refusal, for every file:
the files the other Word tests build (run again with this module as a plugin, which reads
every .docx both ways), the benchmark's python-docx files, and hand-made XML.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from netreg.config import Limits
from netreg.sources import docx as reader
from netreg.sources.base import Unreadable

ROOT = Path(__file__).resolve().parents[1]
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_COMPARE = "NETREG_DOCX_COMPARE"


def outcome(path: Path, limits=None, *, shortcuts: bool, **patch):
    """What reading ``path`` gives: the Book, or the refusal's (class, text, reason, code)."""
    limits = limits or Limits()
    saved = {name: getattr(reader, name) for name in ("SHORTCUTS", *patch)}
    try:
        reader.SHORTCUTS = shortcuts
        for name, value in patch.items():
            setattr(reader, name, value)
        return reader.SOURCE.read(path, limits)
    except Unreadable as exc:
        return (type(exc).__name__, str(exc), exc.reason, getattr(exc, "code", None))
    finally:
        for name, value in saved.items():
            setattr(reader, name, value)


def assert_same(path: Path, limits=None):
    slow = outcome(path, limits, shortcuts=False)
    assert outcome(path, limits, shortcuts=True) == slow, path.name
    assert outcome(path, limits, shortcuts=True, TREE_BYTES=-1) == slow, path.name  # the part streamed
    return slow


# --- a plugin: every .docx the other Word tests read, read both ways ---------------------------
def pytest_configure(config):
    if os.environ.get(_COMPARE) != "1":
        return
    original = reader.DocxSource.read

    def read(self, path, limits):
        results = []
        for shortcuts in (False, True):
            saved = reader.SHORTCUTS
            reader.SHORTCUTS = shortcuts
            try:
                results.append(("book", original(self, path, limits)))
            except Unreadable as exc:
                results.append(("refused", exc, (str(exc), exc.reason, getattr(exc, "code", None))))
            finally:
                reader.SHORTCUTS = saved
        slow, fast = results
        if slow[0] != fast[0] or (slow[1] if slow[0] == "book" else slow[2]) != (
                fast[1] if fast[0] == "book" else fast[2]):
            with open(os.environ["NETREG_DOCX_DIFFS"], "a", encoding="utf-8") as fh:
                fh.write(f"{path}\n")
        count = os.environ["NETREG_DOCX_DIFFS"] + ".count"
        with open(count, "a", encoding="utf-8") as fh:
            fh.write("1\n")
        if fast[0] == "refused":
            raise fast[1]
        return fast[1]

    reader.DocxSource.read = read


def test_every_docx_the_word_tests_build_reads_the_same(tmp_path):
    """The Word tests again (python-docx, LibreOffice Writer, hand-made XML, hostile and broken
    files, the formats corpus, the fuzzer), each .docx they read read both ways."""
    diffs = tmp_path / "diffs.txt"
    env = {**os.environ, _COMPARE: "1", "NETREG_DOCX_DIFFS": str(diffs),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    files = ["tests/test_source_docx.py", "tests/test_word_places.py", "tests/test_label_value.py",
             "tests/test_formats_corpus.py", "tests/test_fuzz.py", "tests/test_hostile.py"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "test_docx_fast", "-p", "no:cacheprovider",
                          *files], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert not diffs.exists(), diffs.read_text(encoding="utf-8")
    read = Path(str(diffs) + ".count")
    assert read.exists() and len(read.read_text().split()) >= 20  # not vacuous


# --- the benchmark's files (python-docx, as units' Word returns) --------------------------------
def test_benchmark_files_read_the_same(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench

    rng = random.Random(7)
    for i in range(4):
        unit = bench._unit(i)
        path = tmp_path / f"{i}.docx"
        bench._write_docx(path, unit, bench._tables(rng, unit))
        book = assert_same(path)
        assert len(book.sheets) == 5 and any(g.merged for g in book.sheets)
    corpus = sorted(Path("/tmp").glob("netreg-bench-*/in/*.docx"))[:30]  # a local corpus, when there is one
    for path in corpus:
        assert_same(path)


# --- hand-made XML -------------------------------------------------------------------------------
def _package(path: Path, body: str, *, head: str = "") -> Path:
    from builders import docx_with_document

    return docx_with_document(path, (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{W_NS}" '
        f'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
        f'xmlns:x="urn:x"{head}><w:body>{body}</w:body></w:document>').encode())


def _r(text: str, props: str = "") -> str:
    return f'<w:r>{f"<w:rPr>{props}</w:rPr>" if props else ""}<w:t xml:space="preserve">{text}</w:t></w:r>'


def _c(inner: str, props: str = "") -> str:
    return f'<w:tc>{f"<w:tcPr>{props}</w:tcPr>" if props else ""}{inner}</w:tc>'


def _pp(*runs: str) -> str:
    return "<w:p>" + "".join(runs) + "</w:p>"


def _row(*cells: str, props: str = "") -> str:
    return f'<w:tr>{f"<w:trPr>{props}</w:trPr>" if props else ""}{"".join(cells)}</w:tr>'


def _table(*rows: str) -> str:
    return '<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid><w:gridCol/></w:tblGrid>' + \
        "".join(rows) + "</w:tbl>"


PLAIN = _row(_c(_pp(_r("1"))), _c(_pp(_r("张三"), _r(" 李"))), _c(_pp()), _c(_pp(_r("x  "))))
CELLS = {
    "plain": PLAIN,
    "two paragraphs": _row(_c(_pp() + _pp(_r("a")) + _pp() + _pp(_r("b")) + _pp()), _c(_pp(_r("c")))),
    "no paragraph": _row(_c(""), _c("<w:tcPr/>"), _c(_pp(_r("d")))),
    "span": _row(_c(_pp(_r("s")), '<w:gridSpan w:val="3"/>'), _c(_pp(_r("t")))),
    "bad span": _row(_c(_pp(_r("s")), '<w:gridSpan w:val="x"/><w:gridSpan w:val="-2"/>'), _c(_pp(_r("t")))),
    "vmerge": _row(_c(_pp(_r("v")), '<w:vMerge w:val="restart"/>'), _c(_pp(_r("w")))) +
              _row(_c(_pp(_r("under")), "<w:vMerge/>"), _c(_pp(_r("y")), '<w:vMerge w:val="continue"/>')) +
              _row(_c(_pp(), '<w:tcW w:w="1"/><w:vMerge/>'), _c(_pp(_r("z")))),
    "hmerge": _row(_c(_pp(_r("h")), '<w:hMerge w:val="restart"/>'), _c(_pp(_r("i")), "<w:hMerge/>"),
                   _c(_pp(_r("j")), '<w:hMerge w:val="continue"/>')),
    "props third child": _row('<w:tc><w:p/><w:p/><w:tcPr><w:gridSpan w:val="4"/></w:tcPr></w:tc>', _c(_pp(_r("k")))),
    "two tcPr": _row('<w:tc><w:tcPr/><w:tcPr><w:gridSpan w:val="4"/></w:tcPr><w:p/></w:tc>', _c(_pp(_r("k")))),
    "span out of props": _row(_c(_pp(_r("l"), '<w:r><w:gridSpan w:val="5"/></w:r>')), _c(_pp(_r("m")))),
    "breaks": _row(_c(_pp(_r("a"), "<w:r><w:br/><w:t>b</w:t><w:br w:type=\"page\"/><w:tab/><w:ptab/>"
                                    "<w:noBreakHyphen/><w:cr/><w:br w:type=\"textWrapping\"/></w:r>"))),
    "tab stops": _row(_c('<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>' + _r("tt") + "</w:p>")),
    "strike": _row(_c(_pp(_r("gone", "<w:strike/>"))), _c(_pp(_r("too", '<w:dstrike w:val="1"/>')))),
    "strike off": _row(_c(_pp(_r("kept", '<w:strike w:val="false"/>'))), _c(_pp(_r("x", "<w:b/><w:strike/>")))),
    "half struck": _row(_c(_pp(_r("gone", "<w:strike/>"), _r("kept"))), _c(_pp(_r("  ", "<w:strike/>")))),
    "grid before": _row(_c(_pp(_r("g"))), props='<w:gridBefore w:val="2"/>') + PLAIN,
    "sdt cell": _row("<w:sdt><w:sdtContent>" + _c(_pp(_r("in sdt"))) + "</w:sdtContent></w:sdt>", _c(_pp(_r("o")))),
    "sdt paragraph": _row(_c("<w:sdt><w:sdtContent>" + _pp(_r("p in sdt")) + "</w:sdtContent></w:sdt>")),
    "sdt run": _row(_c("<w:p><w:sdt><w:sdtContent>" + _r("run in sdt") + "</w:sdtContent></w:sdt></w:p>")),
    "ins del": _row(_c("<w:p><w:ins>" + _r("added") + "</w:ins><w:del><w:r><w:delText>deleted</w:delText></w:r>"
                       "</w:del></w:p>"), _c("<w:ins>" + _pp(_r("inserted paragraph")) + "</w:ins>")),
    "moved": _row(_c("<w:moveTo>" + _pp(_r("moved")) + "</w:moveTo>"), _c("<w:del>" + _pp(_r("gone")) + "</w:del>")),
    "hyperlink": _row(_c('<w:p><w:hyperlink w:anchor="a">' + _r("link") + "</w:hyperlink>" + _r("!") + "</w:p>")),
    "text box": _row(_c("<w:p>" + _r("outer") + "<w:r><wps:txbx><w:txbxContent>" + _pp(_r("in box")) +
                        "</w:txbxContent></wps:txbx></w:r></w:p>")),
    "nested table": _row(_c(_pp(_r("before")) + _table(_row(_c(_pp(_r("inner"))), _c(_pp(_r("2"))))) + _pp()),
                         _c(_pp(_r("after")))),
    "run outside paragraph": _row(_c(_pp(_r("a")) + _r("orphan")), _c(_r("first orphan") + _pp(_r("b")))),
    "text in props": _row(_c(_pp(_r("a")), "<w:t>odd</w:t>")),
    "text after cells": _row(_c(_pp(_r("a"))), "<x:y>" + _pp(_r("stray")) + "</x:y>", _r("stray run")),
    "cell in cell": _row('<w:tc><w:tc><w:p><w:r><w:t>deep</w:t></w:r></w:p></w:tc></w:tc>', _c(_pp(_r("q")))),
    "row in cell": _row(_c("<w:tr>" + _c(_pp(_r("deep row"))) + "</w:tr>"), _c(_pp(_r("q")))),
    "paragraph in paragraph": _row(_c("<w:p>" + _r("a") + _pp(_r("b")) + _r("c") + "</w:p>")),
    "comment": _row(_c("<w:p><w:r><w:t>a<!-- c -->b</w:t></w:r><!-- x --></w:p>"), _c(_pp(_r("&amp;&lt;&#x4e2d;")))),
    "foreign namespace": _row(_c('<w:p><w:r><w:t xmlns:w="urn:other">not word</w:t><w:t>word</w:t></w:r></w:p>')),
    "empty t": _row(_c("<w:p><w:r><w:t/></w:r><w:r><w:t></w:t></w:r></w:p>"), _c(_pp(_r(" ")))),
    "ragged": _row(_c(_pp(_r("1")))) + PLAIN + _row(),
}


@pytest.mark.parametrize("name", sorted(CELLS))
def test_hand_made_rows_read_the_same(tmp_path, name):
    rows = CELLS[name]
    body = (_pp(_r("附件1")) + _pp(_r("标题")) + _table(PLAIN + rows + PLAIN) + _pp(_r("间隔")) +
            _table(rows) + '<w:p><w:r><w:br w:type="page"/></w:r></w:p>' + _table(rows, PLAIN) + _pp(_r("填表人：甲")))
    book = assert_same(_package(tmp_path / "x.docx", body))
    assert isinstance(book, reader.Book), book


def test_the_fast_rows_are_taken_and_decline_what_they_should(tmp_path):
    """Not vacuous: plain rows go by ``_fast_row`` of ``_PLAIN_TAGS``, merged and broken ones by ``_fast_row``,
    and what either cannot hold by ``_row``."""
    from lxml import etree

    def row(xml):
        return etree.fromstring(f'<w:tbl xmlns:w="{W_NS}" xmlns:wps="urn:w" xmlns:x="urn:x">{xml}</w:tbl>')[0]

    assert [cell[3] for cell in reader._fast_row(row(PLAIN), reader._PLAIN_TAGS)] == ["1", "张三 李", "", "x"]
    assert reader._fast_row(row(CELLS["span"]))[0][:4] == (3, None, None, "s")
    assert reader._fast_row(row(CELLS["breaks"]))[0][3] == "a\nb\t\t-"
    for name in ("strike", "grid before", "sdt cell", "sdt paragraph", "nested table", "run outside paragraph",
                 "text in props", "cell in cell", "row in cell", "paragraph in paragraph", "text box"):
        first = row(CELLS[name])
        assert reader._fast_row(first) is None, name
    for name in ("sdt run", "hyperlink", "comment", "empty t", "two paragraphs", "hmerge", "vmerge"):
        first = row(CELLS[name])
        assert reader._fast_row(first, reader._PLAIN_TAGS) is not None or reader._fast_row(first) is not None, name


def _big(tmp_path: Path, tables: int, rows: int, cols: int, name: str = "big.docx") -> Path:
    body = (_pp(_r("附件")) + _table(*[_row(*[_c(_pp(_r(f"{r}-{c}"))) for c in range(cols)]) for r in range(rows)])) * tables
    return _package(tmp_path / name, body)


@pytest.mark.parametrize("max_cells", [1000, 1100, 1199, 1200, 1201, 1202, 1203, 1210, 5000])
def test_limits_refuse_the_same(tmp_path, max_cells):
    path = _big(tmp_path, 3, 20, 20)
    assert_same(path, Limits(max_cells=max_cells))


def test_too_many_tables_refused_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_TABLES", 2)
    path = _big(tmp_path, 3, 20, 30)
    assert_same(path, Limits())
    assert_same(path, Limits(max_cells=1000))
    assert_same(path, Limits(max_cells=1300))


@pytest.mark.parametrize("document", [
    b"<w:document xmlns:w='%s'><w:body><w:p><w:r><w:t>a</w:t></w:r></w:p>" % W_NS.encode(),  # cut short
    b"<w:document xmlns:w='%s'><w:body>%s</w:body></w:document>" % (W_NS.encode(), b"<w:tbl><w:tr><w:tc><w:p/></w:tc></w:tr></w:tbl>" * 1200 + b"<w:p><w:q></w:p>"),
    b"<w:document xmlns:w='%s'><w:p/></w:document>" % W_NS.encode(),  # no body
    b"<w:tbl xmlns:w='%s'><w:tr><w:tc><w:p/></w:tc></w:tr></w:tbl>" % W_NS.encode(),  # a table as the root
    b"<w:p xmlns:w='%s'/>" % W_NS.encode(),
    "<?xml version='1.0' encoding='UTF-16'?><w:document xmlns:w='{}'><w:body><w:tbl><w:tr><w:tc><w:p><w:r><w:t>十六"
    "</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>".format(W_NS).encode("utf-16"),
])
def test_broken_or_odd_documents_the_same(tmp_path, document):
    import docx

    blank = tmp_path / "blank.docx"
    docx.Document().save(blank)
    path = tmp_path / "odd.docx"
    with zipfile.ZipFile(blank) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                dst.writestr(info, src.read(info))
        dst.writestr("word/document.xml", document)
    for max_cells in (1000, 10_000):
        assert_same(path, Limits(max_cells=max_cells))


def test_hostile_packages_the_same(tmp_path):
    path = _big(tmp_path, 1, 2, 2)
    evil = tmp_path / "evil.docx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(evil, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/styles.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "b">]>', 1)
            dst.writestr(info, data)
    assert assert_same(evil)[2].name == "MALICIOUS"
    broken = tmp_path / "broken.docx"
    broken.write_bytes(path.read_bytes()[:-40])
    assert_same(broken)
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.writestr("word/document.xml", b" " * (50 << 20))
    assert_same(bomb)


def test_tab_stops_are_settings_not_text(tmp_path):
    """A paragraph's tab stops (w:pPr/w:tabs/w:tab, which Word writes whenever a filler sets
    one) are no tab characters: before, each gave the text a leading \\t; a tab typed in a run
    still is one. Both paths."""
    import docx
    from docx.shared import Inches

    d = docx.Document()
    above = d.add_paragraph("填报单位：医学院")
    above.paragraph_format.tab_stops.add_tab_stop(Inches(2))
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "序号", "网站名称"
    cell = table.cell(1, 1).paragraphs[0]
    cell.paragraph_format.tab_stops.add_tab_stop(Inches(1))
    cell.add_run("医学院网站")
    typed = table.cell(1, 0).paragraphs[0]
    typed.add_run("1")
    typed.add_run().add_tab()
    path = tmp_path / "tabs.docx"
    d.save(path)
    assert b"w:tabs" in zipfile.ZipFile(path).read("word/document.xml")
    for shortcuts in (False, True):
        grid = outcome(path, shortcuts=shortcuts).sheets[0]
        assert grid.cells[0] == ["填报单位：医学院"]
        assert grid.cells[2] == ["1", "医学院网站"]  # the typed tab is trailing: stripped as before
