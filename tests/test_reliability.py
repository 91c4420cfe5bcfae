"""Issue 15: what files nobody here wrote did to netreg, each class measured as a user would.

- Hang: every scan of a sheet's XML (the pre-parse guard, the formula and struck-row scans,
  the openpyxl fallback's merged ranges) is linear in the part: 10 MB adversarial sheet parts
  inside otherwise valid workbooks are answered in seconds (they took hours before).
- Crash: no count a file declares sizes anything (sharedStrings counts, <dimension>, row and
  cell references far past Excel's sheet): a normal read or one Chinese line, under 1 GB; nor
  does one long shared string that thousands of cells refer to.
- False rejection: a workbook whose workbook part is not xl/workbook.xml (at the package root,
  in another folder, under another name) is read as Excel reads it, by its relationships.
- Big cells: a cell past Excel's 32,767 characters gets cell-too-long and is cut in the
  summary; a 150 MB cell is refused at once; four 51 MB cells in one merge stay under 1 GB.
- Already done, checked here: a formatted empty cell written <c …></c> (openpyxl with lxml) is
  no value for the guard; a file name that is valid neither as UTF-8 nor as GBK is merged.

Every file is generated here, in a temporary folder.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from builders import filled_template, hand_layout
from fuzz import SAMPLES, read_parts, relocate, write_parts
from measure import measured_read

from netreg.config import Campaign, Limits
from netreg.pipeline import validate_paths
from netreg.sources import guard
from netreg.sources import xlsx as xlsx_source
from netreg.sources.base import Reason, Unreadable
from netreg.sources.xlsx import _sheet_parts

AS_OF = date(2025, 11, 25)
ACCOUNT = {"platform": "微信公众号", "account_name": "漯职医学院", "account_id": "gh_0123456789ab",
           "followers": 5230, "opened": date(2019, 9, 1), "purpose": "信息发布", "admin": "李娜",
           "phone": "13812345678"}
MARK = "LONGNOTE"  # typed in 备注, then replaced in the XML by what no writer lets through
GB = 1024  # MB
LETTERS = bytes.maketrans(bytes(range(256)), (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" * 5)[:256])
TWO = bytes.maketrans(bytes(range(256)), b"AB" * 128)


def _letters(rnd: random.Random, n: int) -> bytes:
    """n letters and digits at random: text that compresses about 1.3 : 1."""
    return rnd.randbytes(n).translate(LETTERS)


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netreg", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200"})


PEAK = """
import contextlib, io, json, resource, runpy, sys, time
sys.argv = ["netreg", *sys.argv[1:]]
out, code, start = io.StringIO(), 0, time.perf_counter()
try:
    with contextlib.redirect_stdout(out):
        runpy.run_module("netreg", run_name="__main__")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
own = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) // 1024
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(json.dumps({"exit": code, "seconds": time.perf_counter() - start, "main_mb": own, "workers_mb": workers,
                  "stdout": out.getvalue()}))
"""


def _peak(*args: str, timeout: float = 300) -> dict:
    """``netreg ARGS`` in a fresh interpreter: exit code, seconds, and the peak RSS (MB) of that
    process and of the largest worker it forked."""
    if not Path("/proc/self/status").exists():
        pytest.skip("peak memory is read from /proc (Linux)")
    proc = subprocess.run([sys.executable, "-c", PEAK, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200"})
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def _patch_sheet(src: Path, dst: Path, sheet: str, fn) -> Path:
    parts = read_parts(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        part = _sheet_parts(zf)[sheet]
    parts[part] = fn(parts[part])
    dst.write_bytes(write_parts(parts))
    return dst


def _files(doc: dict, path: Path) -> list[dict]:
    return [f for f in doc["files"] if f["path"] == str(path)]


# --------------------------------------------------------------------------- 1. hang

def _sheet_payloads(rnd: random.Random) -> dict[str, bytes]:
    """Three 10 MB runs of sheet XML that made a backtracking scan take hours."""
    ten = 10 << 20
    open_tags = b"".join(b'<c r="B9" s="%d" ' % n for n in (rnd.randrange(10 ** 6) for _ in range(ten // 22)))
    unclosed = b"".join(b'<c r="B9"><f>SUM(A1:A2)+' + _letters(rnd, 400) for _ in range(20_000))
    return {
        # ~480,000 cells whose start tag never closes, then a formula the formula scan must look at
        "open-cell-tags": b'<row r="9">' + open_tags + b'></row><row r="10"><c r="A10"><f>SUM(A1)</f><v>1</v></c></row>',
        # an unclosed <f> repeated 20,000 times (8.5 MB), then 1.5 MB more of its text
        "unclosed-formulas": b'<row r="9">' + unclosed + _letters(rnd, 3 << 19) + b"</row>",
        # a reference whose value runs 10 MB without its closing quote, then a row
        "10-mb-attribute": b'<row r="9"><c r="' + _letters(rnd, ten) + b'<row r="10"><c r="A10"><f>1</f></c></row>',
    }


def test_scans_of_untrusted_sheet_xml_are_linear(tmp_path):
    """Each adversarial workbook is answered (a Chinese line or a read) in seconds; before,
    the formula scan was cubic on open cell tags (25 KB of them: 284 s) and quadratic on
    unclosed formulas, and the guard quadratic on a quote-less reference (100 KB: 93 s)."""
    good = filled_template(tmp_path / "src.xlsx", "医学院", {2: [ACCOUNT]})
    rnd = random.Random(15)
    paths = []
    for name, payload in _sheet_payloads(rnd).items():
        assert len(payload) > 8 << 20
        paths.append(_patch_sheet(good, tmp_path / f"{name}.xlsx", "附件2",
                                  lambda x, p=payload: x.replace(b"</sheetData>", p + b"</sheetData>")))
    for path in paths:
        start = time.perf_counter()
        proc = _cli("validate", str(path), "--format", "json", "--as-of", "2025-11-25", timeout=120)
        seconds = time.perf_counter() - start
        assert proc.returncode in (0, 1, 2) and "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-2000:]
        doc = json.loads(proc.stdout)
        said = _files(doc, path)[0]
        issues = [i for i in doc["issues"] if i["file"] == str(path) and i["code"] == "file-unreadable"]
        assert said["status"] == "ok" or issues and re.search("[\u4e00-\u9fff]", issues[0]["message"])
        assert seconds < 20, f"{path.name}: {seconds:.1f} s"
        print(f"{path.name}: {seconds:.2f} s, {said['status']}")


def test_the_streamed_sheet_scan_finds_the_same_in_any_chunking(tmp_path, monkeypatch):
    """Formulas (shared ones too), struck rows and merged ranges found in one streamed pass
    do not depend on where the chunks end."""
    rows = [["附件2", None, None], ["账号", "公式", "说明"]]
    rows += [[f"账号{n}", f"=SUM(A1:A{n})&\"<&>\"", "已注销"] for n in range(1, 300)]
    path = tmp_path / "公式.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for row in rows:
        ws.append(row)
    ws.merge_cells("A1:C1")
    ws.merge_cells("D5:E9")
    from openpyxl.styles import Font

    for c in ws[7]:
        c.font = Font(strike=True)
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        part = _sheet_parts(zf)["S"]
        struck = xlsx_source._struck_styles(zf, xlsx_source.workbook_part(zf))
        whole = xlsx_source._scan(zf, part, struck, merges=True)
        for chunk, ahead in ((7, 64), (1000, 300), (4096, 4096)):
            monkeypatch.setattr(xlsx_source, "CHUNK", chunk)
            monkeypatch.setattr(xlsx_source, "LOOKAHEAD", ahead)
            again = xlsx_source._scan(zf, part, struck, merges=True)
            assert (again.formulas, again.struck, sorted(again.merged)) == \
                (whole.formulas, whole.struck, sorted(whole.merged)), (chunk, ahead)
    assert whole.formulas[2] == {1: '=SUM(A1:A1)&"<&>"'} and len(whole.formulas) == 299
    assert whole.struck == frozenset({6}) and sorted(whole.merged) == [(0, 0, 0, 2), (4, 3, 8, 4)]


# --------------------------------------------------------------------------- 2. crash

def _count_rows(book_expr: str = "book") -> str:
    """An expression (for measured_read) naming the reader and the rows holding a value."""
    return (f'{book_expr}.reader + ":" + str(sum(1 for g in {book_expr}.sheets for r in g.cells '
            f'if any(v not in (None, "") for v in r)))')


def _utf16(parts: dict[str, bytes], part: str) -> None:
    """The sheet part re-encoded as UTF-16 (Excel reads it; calamine does not: openpyxl does)."""
    text = parts[part].decode("utf-8")
    text = text.split("?>", 1)[1] if text.startswith("<?xml") else text
    parts[part] = ('<?xml version="1.0" encoding="UTF-16"?>' + text).encode("utf-16")


DECLARED = {  # name -> (edit of the sheet part, edit of sharedStrings.xml, expected outcome)
    "uniqueCount=4294967296": (None, lambda s: re.sub(rb'(uniqueCount|count)="\d+"', rb'\1="4294967296"', s), "same"),
    "dimension A1:XFD1048576": (lambda x: re.sub(rb"<dimension [^>]*>", b'<dimension ref="A1:XFD1048576"/>', x), None, "same"),
    "dimension A1:A99999999999": (lambda x: re.sub(rb"<dimension [^>]*>", b'<dimension ref="A1:A99999999999"/>', x), None, "same"),
    "empty cell at A99999999999": (lambda x: x.replace(b"</sheetData>", b'<row r="99999999999"><c r="A99999999999" s="1"/></row></sheetData>'), None, "same"),
    "formatted row 99999999999": (lambda x: x.replace(b"</sheetData>", b'<row r="99999999999" s="1" customFormat="1"></row></sheetData>'), None, "same"),
    "<c></c> at XFD1048576": (lambda x: x.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="1"></c></row></sheetData>'), None, "same"),
    "value at A99999999999": (lambda x: x.replace(b"</sheetData>", b'<row r="99999999999"><c r="A99999999999"><v>1</v></c></row></sheetData>'), None, "too-large"),
    "value at AAAAAAA20": (lambda x: x.replace(b"</sheetData>", b'<row r="20"><c r="AAAAAAA20"><v>1</v></c></row></sheetData>'), None, "too-large"),
}


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_no_declared_count_sizes_anything(tmp_path, reader):
    """Each file is read with the rows it holds or refused as too large, in a fresh
    interpreter, under 1 GB and in seconds. Before, uniqueCount="4294967296" made
    python-calamine ask for 103 GB and abort the whole process."""
    [src] = hand_layout(tmp_path / "src.xlsx", "医学院", {2: [ACCOUNT, {**ACCOUNT, "account_id": "gh_2"}]})[:1]
    original = read_parts(Path(src).read_bytes())
    with zipfile.ZipFile(src) as zf:
        part = _sheet_parts(zf)["新媒体"]
    outcomes = {}
    for name, (sheet_edit, strings_edit, expected) in DECLARED.items():
        parts = dict(original)
        if sheet_edit:
            parts[part] = sheet_edit(parts[part])
            assert parts[part] != original[part], name
        if strings_edit:
            parts["xl/sharedStrings.xml"] = strings_edit(parts["xl/sharedStrings.xml"])
            assert b"4294967296" in parts["xl/sharedStrings.xml"]
        if reader == "openpyxl":
            _utf16(parts, part)
        path = tmp_path / f"{len(outcomes)}.xlsx"
        path.write_bytes(write_parts(parts))
        outcomes[name] = (expected, *measured_read("xlsx", path, _count_rows()))
    plain = tmp_path / "plain.xlsx"
    parts = dict(original)
    if reader == "openpyxl":
        _utf16(parts, part)
    plain.write_bytes(write_parts(parts))
    same = measured_read("xlsx", plain, _count_rows())[0]
    assert same.startswith(reader + ":")
    for name, (expected, outcome, seconds, rss) in outcomes.items():
        # the same rows (a count calamine would size from makes openpyxl read it), or refused
        assert outcome.partition(":")[2] == same.partition(":")[2] if expected == "same" else outcome == expected, \
            (name, outcome)
        assert rss < GB and seconds < 30, (name, seconds, rss)
        print(f"{reader} {name}: {outcome}, {seconds:.2f} s, {rss} MB")


def test_a_huge_shared_string_count_in_an_xls_is_no_allocation(tmp_path):
    import struct

    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("附件2")
    for r, text in enumerate(["序号", "平台类型", "账号名称", "账号ID"]):
        ws.write(0, r, text)
    path = tmp_path / "旧版.xls"
    wb.save(str(path))
    data = bytearray(path.read_bytes())
    at = data.find(struct.pack("<H", 0x00FC))
    while struct.unpack_from("<I", data, at + 8)[0] != 4:  # the SST record: total, unique, strings
        at = data.find(struct.pack("<H", 0x00FC), at + 1)
    struct.pack_into("<II", data, at + 4, 0xFFFFFFFF, 0xFFFFFFFF)
    path.write_bytes(bytes(data))
    outcome, seconds, rss = measured_read("calamine", path, '"|".join(book.sheets[0].cells[0])')
    assert outcome == "序号|平台类型|账号名称|账号ID" and rss < GB and seconds < 10, (outcome, rss)


def _repeated_string(src: Path, dst: Path, size: int, cells: int) -> Path:
    """``src`` (shared strings) with one more shared string of ``size`` letters, referred to
    by ``cells`` cells of column L below the form (Apache POI's poc-shared-strings.xlsx, made
    valid: its rows start at 0, which calamine refuses)."""
    parts = read_parts(src.read_bytes())
    strings = parts["xl/sharedStrings.xml"]
    index = strings.count(b"<si>")
    parts["xl/sharedStrings.xml"] = re.sub(rb'\s(count|uniqueCount)="\d+"', b"", strings).replace(
        b"</sst>", b"<si><t>" + b"x" * size + b"</t></si></sst>")
    with zipfile.ZipFile(src) as zf:
        part = _sheet_parts(zf)["新媒体"]
    rows = b"".join(b'<row r="%d"><c r="L%d" t="s"><v>%d</v></c></row>' % (r, r, index) for r in range(100, 100 + cells))
    parts[part] = parts[part].replace(b"</sheetData>", rows + b"</sheetData>")
    dst.write_bytes(write_parts(parts))
    return dst


def test_a_long_shared_string_in_thousands_of_cells_is_refused_before_any_copy(tmp_path):
    """python-calamine copies a shared string into each cell referring to it: 1 MB × 12,000
    cells took 12 GB in calamine and 23.8 GB in all before the worker was killed. Refused at
    once now; the same string in a few cells (or a note in every row) is read."""
    [src] = hand_layout(tmp_path / "src.xlsx", "医学院", {2: [ACCOUNT]})[:1]
    bomb = _repeated_string(Path(src), tmp_path / "炸弹.xlsx", 1 << 20, 12_000)
    assert bomb.stat().st_size < 200_000
    outcome, seconds, rss = measured_read("xlsx", bomb, _count_rows())
    assert outcome == "too-large" and seconds < 10 and rss < 200, (outcome, seconds, rss)
    with pytest.raises(Unreadable) as exc:
        guard.check_zip(bomb, Limits())
    assert "反复引用很长的文字" in exc.value.text and "12000 MB" in exc.value.text
    fine = _repeated_string(Path(src), tmp_path / "备注.xlsx", 2000, 3000)  # 6 MB once expanded
    before = int(measured_read("xlsx", Path(src), _count_rows())[0].partition(":")[2])
    outcome, seconds, rss = measured_read("xlsx", fine, _count_rows())
    assert outcome == f"calamine:{before + 3000}" and rss < GB, (outcome, rss)


# --------------------------------------------------------------------------- 3. false rejection

LAYOUTS = {"package-root": ("", "workbook.xml"), "other-folder": ("tables", "workbook.xml"),
           "renamed": ("book", "main.xml")}


def _what_was_read(report) -> tuple[list, list]:
    files = sorted((Path(f.path).name, f.unit, f.status, sorted(f.forms.items())) for f in report.files)
    issues = sorted((i.code, Path(i.file).name if i.file else None, i.sheet, i.row, i.column, i.value)
                    for i in report.issues)
    return files, issues


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_workbook_part_outside_xl_is_found_through_the_relationships(tmp_path, layout):
    """Every sample, its parts moved (workbook part at the package root, in another folder or
    renamed; _rels/.rels, the workbook's own relationships and [Content_Types].xml following),
    gives the very report the original gives: rows, units, issues, formulas."""
    folder, name = LAYOUTS[layout]
    moved = tmp_path / layout
    moved.mkdir()
    for sample in sorted(SAMPLES.glob("*.xlsx")):
        data = relocate(sample.read_bytes(), folder, name)
        assert "xl/workbook.xml" not in read_parts(data)
        (moved / sample.name).write_bytes(data)
    units = (SAMPLES.parent / "units.txt").read_text(encoding="utf-8").split()
    want = _what_was_read(validate_paths([SAMPLES], Campaign(), as_of=AS_OF, units=units))
    report = validate_paths([moved], Campaign(), as_of=AS_OF, units=units)
    assert _what_was_read(report) == want
    assert any(i.code == "formula-cell" for i in report.issues)  # the formula scan followed the parts too
    readers = {f.reader for f in report.files}
    assert readers <= {"calamine", "openpyxl"}
    print(layout, sorted(readers))


def test_a_relocated_workbook_merges_row_for_row(tmp_path):
    src = filled_template(tmp_path / "src.xlsx", "医学院", {2: [ACCOUNT, {**ACCOUNT, "account_id": "gh_2"}]})
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "医学院.xlsx").write_bytes(relocate(src.read_bytes(), "", "book.xml"))
    proc = _cli("merge", str(folder), "-o", str(tmp_path / "汇总.xlsx"), "--as-of", "2025-11-25")
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert re.search(r"读入 2 行（[^）]*），写入汇总 2 行", proc.stdout), proc.stdout[-1500:]


# --------------------------------------------------------------------------- 4. big cells

def _with_cell(src: Path, dst: Path, text_of: callable) -> Path:
    """``src`` with the 备注 typed as MARK replaced by ``text_of(...)``'s bytes, written part
    by part as they come (never the whole text in memory)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if MARK.encode() not in data:
                zout.writestr(info, data)
                continue
            head, tail = data.split(MARK.encode(), 1)
            with zout.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(head)
                for piece in text_of():
                    fh.write(piece)
                fh.write(tail)
    return dst


def _random_text(n: int, seed: int):
    rnd = random.Random(seed)
    for k in range(0, n, 1 << 24):
        yield rnd.randbytes(min(1 << 24, n - k)).translate(TWO)


def test_a_cell_past_excels_limit_is_flagged_and_cut_in_the_summary(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    long = "长" * 40_000
    src = filled_template(tmp_path / "a.xlsx", "医学院", {2: [{**ACCOUNT, "note": MARK}]})  # inline strings
    _with_cell(src, folder / "医学院.xlsx", lambda: [long.encode()])
    [hand] = hand_layout(tmp_path / "b.xlsx", "图书馆", {2: [{**ACCOUNT, "account_id": "gh_lib", "note": MARK}]})[:1]
    _with_cell(Path(hand), folder / "图书馆.xlsx", lambda: [("馆" * 50_000).encode()])  # shared strings
    (folder / "团委.csv").write_text(
        "附件2\n填报单位：团委\n序号,平台类型,账号名称,账号ID,粉丝人数,开通日期,主要用途,管理员,联系电话,备注\n"
        "1,抖音,团委抖音号,tw01,3000,2020-01-01,宣传,张三,13812345678," + "团" * 33_000 + "\n", encoding="utf-8-sig")
    import docx

    doc = docx.Document()
    doc.add_paragraph("附件2")
    doc.add_paragraph("填报单位：经济管理学院")
    header = ["序号", "平台类型", "账号名称", "账号ID", "粉丝人数", "开通日期", "主要用途", "管理员", "联系电话", "备注"]
    table = doc.add_table(rows=2, cols=len(header))
    for c, (h, v) in enumerate(zip(header, ["1", "微博", "经管微博", "wb01", "2500", "2021-01-01", "宣传", "李四",
                                            "13812345678", "经" * 32_768])):
        table.cell(0, c).text, table.cell(1, c).text = h, v
    doc.save(folder / "经济管理学院.docx")
    proc = _cli("validate", str(folder), "--format", "json", "--as-of", "2025-11-25")
    assert proc.returncode in (0, 1), proc.stderr
    doc_json = json.loads(proc.stdout)
    flagged = {Path(i["file"]).name: i for i in doc_json["issues"] if i["code"] == "cell-too-long"}
    assert {name: (i["severity"], i["field"], i["message"].split("个字符")[0]) for name, i in flagged.items()} == {
        "医学院.xlsx": ("warning", "备注", "此单元格有 40000 "), "图书馆.xlsx": ("warning", "备注", "此单元格有 50000 "),
        "团委.csv": ("warning", "备注", "此单元格有 33000 "), "经济管理学院.docx": ("warning", "备注", "此单元格有 32768 ")}
    assert all("汇总表中只保留前 32767 个字符" in i["message"] and len(i["value"]) < 30 for i in flagged.values())
    assert flagged["医学院.xlsx"]["column"] == "J" and flagged["医学院.xlsx"]["row"] == 5
    out = tmp_path / "汇总.xlsx"
    proc = _cli("merge", str(folder), "-o", str(out), "--as-of", "2025-11-25")
    assert re.search(r"读入 4 行（[^）]*），写入汇总 4 行", proc.stdout), proc.stdout[-1500:]
    ws = openpyxl.load_workbook(out, read_only=True)["附件2"]
    header = [c.value for c in next(ws.iter_rows(min_row=2, max_row=2))]
    notes = {r[header.index("填报单位")]: r[header.index("备注")] for r in ws.iter_rows(min_row=3, values_only=True)}
    assert {unit: (len(note), note[0]) for unit, note in notes.items()} == {
        "医学院": (32767, "长"), "图书馆": (32767, "馆"), "团委": (32767, "团"), "经济管理学院": (32767, "经")}


def test_a_150_mb_cell_is_refused_at_once_in_bounded_memory(tmp_path):
    """Within the default limits (35 MB on disk, 150 MB unpacked, ratio 4): python-calamine
    would hold it five times over (843 MB); the guard refuses the text before any reader."""
    [hand] = hand_layout(tmp_path / "src.xlsx", "医学院", {2: [{**ACCOUNT, "note": MARK}]})[:1]
    path = _with_cell(Path(hand), tmp_path / "医学院.xlsx", lambda: _random_text(150 << 20, 1))
    assert path.stat().st_size < 50 << 20
    peak = _peak("validate", str(path), "--format", "json", "--as-of", "2025-11-25")
    doc = json.loads(peak["stdout"])
    [issue] = doc["issues"]
    assert (peak["exit"], issue["code"], issue["reason"]) == (2, "file-unreadable", "too-large")
    assert "文字超过 64 MB" in issue["message"] and "32767" in issue["message"]
    assert peak["main_mb"] < GB and peak["workers_mb"] < GB and peak["seconds"] < 30, peak
    print(f"150 MB cell: {peak['seconds']:.1f} s, {peak['main_mb']} MB + worker {peak['workers_mb']} MB")


def test_four_51_mb_cells_in_one_merge_stay_under_a_gigabyte(tmp_path):
    """Read, flagged and cut at once by their readers: before, the merge's own process held
    every cell whole (1,083 MB, 46 s)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for n, unit in enumerate(["医学院", "图书馆", "团委", "经济管理学院"]):
        if n % 2:
            src = filled_template(tmp_path / f"{n}.xlsx", unit, {2: [{**ACCOUNT, "note": MARK}]})
        else:
            [src] = hand_layout(tmp_path / f"{n}.xlsx", unit, {2: [{**ACCOUNT, "note": MARK}]})[:1]
        _with_cell(Path(src), folder / f"{unit}.xlsx", lambda n=n: _random_text(51 << 20, 10 + n))
    out = tmp_path / "汇总.xlsx"
    peak = _peak("merge", str(folder), "-o", str(out), "--as-of", "2025-11-25")
    assert peak["exit"] in (0, 1) and re.search(r"读入 4 行（[^）]*），写入汇总 4 行", peak["stdout"]), peak["stdout"][-2000:]
    assert peak["main_mb"] < GB and peak["workers_mb"] < GB, peak
    ws = openpyxl.load_workbook(out, read_only=True)["附件2"]
    header = [c.value for c in next(ws.iter_rows(min_row=2, max_row=2))]
    assert sorted(len(r[header.index("备注")]) for r in ws.iter_rows(min_row=3, values_only=True)) == [32767] * 4
    issues = openpyxl.load_workbook(out, read_only=True)["问题清单"]
    assert sum(1 for r in issues.iter_rows(values_only=True) if "53477376 个字符" in " ".join(map(str, r))) == 4
    print(f"merge of four 51 MB cells: {peak['seconds']:.1f} s, {peak['main_mb']} MB + worker {peak['workers_mb']} MB")


# --------------------------------------------------------------------------- already done, checked

def test_the_guard_counts_a_cell_closed_at_once_as_empty(tmp_path):
    """openpyxl with lxml writes a formatted empty cell as <c …></c>: 200,000 such rows out to
    XFD are no value; the same rows holding a value are refused."""
    src = filled_template(tmp_path / "src.xlsx", "医学院", {2: [ACCOUNT]})

    def pad(cell: bytes):
        def edit(xml: bytes) -> bytes:
            rows = b"".join(b'<row r="%d"><c r="A%d" s="1">%s</c><c r="XFD%d" s="1"></c></row>' % (r, r, cell, r)
                            for r in range(100, 200_100))
            return xml.replace(b"</sheetData>", rows + b"</sheetData>")
        return edit
    empty = _patch_sheet(src, tmp_path / "空格式.xlsx", "附件2", pad(b""))
    spaced = _patch_sheet(src, tmp_path / "空白.xlsx", "附件2", pad(b"\n  "))
    full = _patch_sheet(src, tmp_path / "有值.xlsx", "附件2", pad(b"<v>1</v>"))
    for path in (empty, spaced):
        guard.check_zip(path, Limits())
        report = validate_paths([path], Campaign(), as_of=AS_OF)
        assert report.files[0].status == "ok" and report.files[0].forms[2][1] == 1
    with pytest.raises(Unreadable) as exc:
        guard.check_zip(full, Limits())
    assert exc.value.reason is Reason.TOO_LARGE


def test_a_file_name_valid_neither_as_utf8_nor_as_gbk_does_not_stop_a_merge(tmp_path):
    if sys.platform == "win32":
        pytest.skip("file names are always Unicode on Windows")
    folder = tmp_path / "in"
    folder.mkdir()
    for n, raw in enumerate([b"\xff\xfe\x80-\xe5\x9b.xlsx", "团委".encode("gbk") + b"\xff.xlsx"]):
        src = filled_template(tmp_path / f"{n}.xlsx", "医学院", {2: [{**ACCOUNT, "account_id": f"gh_{n}"}]})
        with open(os.path.join(os.fsencode(str(folder)), raw), "wb") as fh:
            fh.write(src.read_bytes())
    proc = _cli("merge", str(folder), "-o", str(tmp_path / "汇总.xlsx"), "--as-of", "2025-11-25")
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert re.search(r"读入 2 行（[^）]*），写入汇总 2 行", proc.stdout), proc.stdout[-1500:]


def test_a_word_document_is_streamed_never_held_whole(tmp_path):
    """A .docx's document part is parsed as it is decompressed: reading one whose document.xml
    is 80 MB of markup around short texts costs far less than 80 MB more than a small one
    (held whole, as python-docx's package reader held it, it cost the part's size on top)."""
    W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
          'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
          'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    fonts = "".join(f'<w:rFonts w:ascii="SimSun{k}" w:hAnsi="SimSun" w:eastAsia="宋体" w:cs="SimSun"/>' for k in range(4))
    cell = '<w:tc><w:tcPr><w:tcW w:w="1000" w:type="dxa"/></w:tcPr><w:p><w:r><w:rPr>' + fonts + '</w:rPr><w:t>{}</w:t></w:r></w:p></w:tc>'

    def document(path: Path, rows: int) -> int:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", ct)
            z.writestr("_rels/.rels", rels)
            with z.open("word/document.xml", "w") as fh:
                fh.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body><w:tbl>'.encode())
                for r in range(rows):
                    fh.write(("<w:tr>" + "".join(cell.format(r % 10) for _ in range(6)) + "</w:tr>").encode())
                fh.write(b"</w:tbl></w:body></w:document>")
            return z.getinfo("word/document.xml").file_size

    small, big = tmp_path / "small.docx", tmp_path / "big.docx"
    document(small, 100)
    size = document(big, 33_000) >> 20
    assert size >= 80
    _, _, base = measured_read("docx", small, "len(book.sheets[0].cells)")
    rows, _, peak = measured_read("docx", big, "len(book.sheets[0].cells)")
    assert rows == "33000"
    assert peak - base < size / 2, (base, peak, size)
