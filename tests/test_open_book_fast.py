"""Issue 24: the shortcuts of the xlsx read (sources/guard.py, sources/xlsx.py, sources/opc.py)
against the slow paths they skip.

The fast path opens a package once (``guard.GuardedZip``), unpacks each small part with zlib
in one call (``guard.unpack``), checks a small part whole (``_PartCheck.whole``: no '!' means
no declaration; a sheet of plain A1:Z9999 cells is cleared without placing each cell,
``guard._bounded``), parses small XML parts as trees (``opc.named``), skips styles that never
hold no <strike> element (``xlsx._strikes``) and skips ``cut_cells`` where no text can be that long
(``GuardedZip.longest_text``); a plain zip's central directory is read without zipfile
(``guard.plain_directory``) and python-calamine is given the checked parts stored
(``GuardedZip.stored``), so nothing is inflated twice; a sheet whose cell tags are all strictly
plain (``guard.plain_cells``, found in the guard's pass) is not searched again for formulas
and error cells. ``slow`` turns every one of those off: each part streamed through
zipfile and the per-chunk checks, every cell placed, every XML part streamed element by
element, styles parsed, every cell looked at. Both must give the same Book, or refuse with
the same line.
"""

from __future__ import annotations

import random
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from builders import ACCOUNT, filled_template, hand_layout
from fuzz import SAMPLES, make_mutants, read_parts, write_parts

from netreg.config import Limits
from netreg.sources import guard, open_book, opc
from netreg.sources import xlsx as xlsx_source
from netreg.sources.base import LongText, Unreadable


def slow(monkeypatch) -> None:
    """Every shortcut off: the package read from disk and each part streamed (nothing
    unpacked whole, nothing kept), every cell placed, styles parsed, every cell cut."""
    monkeypatch.setattr(guard, "IN_MEMORY", -1)
    monkeypatch.setattr(guard, "PLAIN", False)
    monkeypatch.setattr(guard, "STORED_MAX", -1)
    monkeypatch.setattr(guard, "KEEP_PART", -1)
    monkeypatch.setattr(guard, "_bounded", lambda text, max_cells: False)
    monkeypatch.setattr(guard, "plain_cells", lambda text: False)
    monkeypatch.setattr(xlsx_source, "_strikes", lambda zf, part: True)
    monkeypatch.setattr(guard.GuardedZip, "longest_text", lambda self, sheet: 1 << 62)
    monkeypatch.setattr(opc, "WHOLE", False)
    uncached = lambda zf, part, max_bytes=None: opc._relationships(zf, part, max_bytes)  # noqa: E731
    monkeypatch.setattr(opc, "relationships", uncached)
    monkeypatch.setattr(xlsx_source, "_relationships", uncached)


def outcome(path: Path, limits=None):
    """What open_book makes of ``path``: the Book's content, or the refusal."""
    try:
        book = open_book(path, limits or Limits())
    except Unreadable as exc:
        return ("unreadable", exc.text, exc.reason, exc.code)
    sheets = [(g.name, g.cells, g.merged, g.formulas, g.struck,
               [(type(v).__name__, getattr(v, "length", None)) for row in g.cells for v in row if isinstance(v, LongText)])
              for g in book.sheets]
    return (book.format, book.reader, book.meta, sheets)


def both(path: Path, monkeypatch, limits=None):
    fast = outcome(path, limits)
    with monkeypatch.context() as m:
        slow(m)
        slow_one = outcome(path, limits)
    return fast, slow_one


# --------------------------------------------------------------------------- files of every maker

def _openpyxl_book(path: Path) -> Path:
    """Struck-through rows, merged cells, formulas (shared ones too), an error cell, a hidden
    sheet, a text past Excel's limit, a cell past Z and one past row 9999 on another sheet."""
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "附件2"
    ws.append(["附件2"])
    ws.append(["序号", "平台类型", "账号名称", "账号ID", "粉丝数", "公式"])
    for n in range(1, 40):
        ws.append([n, "微信公众号", f"账号{n}", f"gh_{n:012x}", n * 100, f"=E{n + 2}*2"])
    for c in ws[7]:
        c.font = Font(strike=True)
    ws["B9"].font = Font(strike=True)  # a row struck in part: not struck
    ws.merge_cells("A1:F1")
    ws.merge_cells("G5:H9")
    ws["I3"] = "#DIV/0!"  # openpyxl writes an error cell (t="e") for it
    ws["J4"] = "LONG-TEXT-HERE"
    hidden = wb.create_sheet("隐藏")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "隐藏的值"
    far = wb.create_sheet("远处")
    far["AB3"] = "Z 以外"
    far["C12000"] = "第 12000 行"
    wb.save(path)
    parts = read_parts(path.read_bytes())  # openpyxl cuts a text at 32,767 characters: made longer here
    [where] = [name for name, data in parts.items() if b"LONG-TEXT-HERE" in data]  # inline, or shared
    parts[where] = parts[where].replace(b"LONG-TEXT-HERE", "长".encode() * 40_000)
    path.write_bytes(write_parts(parts))
    return path


def _xlsxwriter_book(path: Path) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    struck = wb.add_format({"font_strikeout": True})
    ws = wb.add_worksheet("附件1")
    ws.write(0, 0, "附件1")
    ws.merge_range(1, 0, 1, 5, "标题", None)
    for r in range(3, 60):
        fmt = struck if r == 10 else None
        ws.write_row(r, 0, [r, "微博", f"名称{r}", f"id{r}", r * 3], fmt)
        ws.write_formula(r, 5, f"=E{r + 1}+1", None, r * 3 + 1)
    ws.write_formula(2, 6, "=NA()", None, "#N/A")
    wb.add_worksheet("空表")
    wb.close()
    return path


def _libreoffice(src: Path, folder: Path) -> Path | None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return None
    out = folder / "lo"
    out.mkdir(exist_ok=True)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{folder}/lo-profile",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(src)],
                   capture_output=True, timeout=180)
    made = out / (src.stem + ".xlsx")
    return made if made.exists() else None


@pytest.fixture(scope="module")
def makers(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("makers")
    files = sorted(SAMPLES.glob("*.xlsx"))
    files.append(Path(filled_template(folder / "模板.xlsx", "医学院", {2: [ACCOUNT, {**ACCOUNT, "account_id": "gh_2"}]})))
    files.extend(Path(p) for p in hand_layout(folder / "手工.xlsx", "医学院", {2: [ACCOUNT]}))
    files.append(_openpyxl_book(folder / "openpyxl.xlsx"))
    files.append(_xlsxwriter_book(folder / "xlsxwriter.xlsx"))
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench

    bench.generate(folder / "bench", 3)
    files.extend(sorted((folder / "bench").iterdir()))
    for src in (files[-1], folder / "openpyxl.xlsx", folder / "xlsxwriter.xlsx"):
        made = _libreoffice(src, folder)
        if made is not None:
            files.append(made.rename(folder / f"lo-{src.name}"))
    return files


def test_every_maker_reads_the_same_with_and_without_the_shortcuts(makers, monkeypatch):
    assert any(p.name.startswith("lo-") for p in makers) or not shutil.which("soffice")
    for path in makers:
        fast, slow_one = both(path, monkeypatch)
        assert fast == slow_one, path.name
        assert fast[0] == "xlsx", (path.name, fast[:3])


def test_the_shortcuts_are_taken_on_these_files(makers):
    """Not vacuous: struck rows, merged ranges, formulas, error text and a cut text are
    read through the fast path, and plain sheets are cleared without placing cells."""
    openpyxl_book = next(p for p in makers if p.name == "openpyxl.xlsx")
    book = open_book(openpyxl_book, Limits())
    grid = book.sheets[0]
    assert grid.struck == frozenset({6}) and (0, 0, 0, 5) in grid.merged
    assert grid.formulas[2][5] == "=E3*2" and grid.cells[2][8] == "#DIV/0!"
    assert isinstance(grid.cells[3][9], LongText) and grid.cells[3][9].length == 40_000
    bench_file = next(p for p in makers if p.parent.name == "bench")
    with guard.GuardedZip.of(bench_file) as zf:
        zf.guard(Limits())
        parts = xlsx_source._sheet_parts(zf)
        cleared = []
        for part in parts.values():
            text = zf.part(part)
            cleared.append(guard._bounded(text, Limits().max_cells))
        zf.finish()
        assert all(cleared) and zf.data is not None
        assert all(zf.longest_text(p) <= 32_767 for p in parts.values())


# --------------------------------------------------------------------------- damaged and hostile files

def test_fuzz_mutants_read_or_refused_alike(tmp_path, monkeypatch):
    """The fuzz harness's damaged workbooks: the same Book or the same one Chinese line."""
    mutants = [m for m in make_mutants(24, 160, tmp_path) if m.kind.startswith("xlsx")]
    assert len(mutants) > 100
    differ = []
    for m in mutants:
        fast, slow_one = both(m.path, monkeypatch)
        if fast != slow_one:
            differ.append((m.op, fast[:2], slow_one[:2]))
    assert not differ, differ


def _with_part(src: Path, dst: Path, edit) -> Path:
    parts = read_parts(src.read_bytes())
    edit(parts)
    dst.write_bytes(write_parts(parts))
    return dst


def _sheet(parts: dict[str, bytes]) -> str:
    return next(n for n in parts if "worksheets/" in n)


HOSTILE = {
    "doctype in sharedStrings": lambda p: p.__setitem__(
        "xl/sharedStrings.xml", p["xl/sharedStrings.xml"].replace(b"<sst", b'<!DOCTYPE x [<!ENTITY a "b">]><sst', 1)),
    "doctype in the theme": lambda p: p.__setitem__(
        "xl/theme/theme1.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><a/>'),
    "utf-16 doctype in the sheet": lambda p: p.__setitem__(
        _sheet(p), '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x><worksheet/>'.encode("utf-16")),
    "value at XFD1048576": lambda p: p.__setitem__(
        _sheet(p), p[_sheet(p)].replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')),
    "value at Z10000 and AA1": lambda p: p.__setitem__(
        _sheet(p), p[_sheet(p)].replace(b"</sheetData>", b'<row r="10000"><c r="Z10000"><v>1</v></c><c r="AA1"><v>1</v></c></row></sheetData>')),
    "prefixed cell far away": lambda p: p.__setitem__(
        _sheet(p), p[_sheet(p)].replace(b"</sheetData>", b'<row r="9"><x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="XFD999999"><x:v>1</x:v></x:c></row></sheetData>')),
    "cells without r after a far row": lambda p: p.__setitem__(
        _sheet(p), p[_sheet(p)].replace(b"</sheetData>", b'<row r="999999"><c><v>1</v></c><c><v>1</v></c><c><v>1</v></c></row></sheetData>')),
    "lowercase reference far away": lambda p: p.__setitem__(
        _sheet(p), p[_sheet(p)].replace(b"</sheetData>", b'<row r="999999"><c r="xfd999999"><v>1</v></c></row></sheetData>')),
    "a long string in thousands of cells": lambda p: (
        p.__setitem__("xl/sharedStrings.xml", re.sub(rb'\s(count|uniqueCount)="\d+"', b"", p["xl/sharedStrings.xml"]).replace(
            b"</sst>", b"<si><t>" + b"x" * (1 << 20) + b"</t></si></sst>")),
        p.__setitem__(_sheet(p), p[_sheet(p)].replace(b"</sheetData>", b"".join(
            b'<row r="%d"><c r="L%d" t="s"><v>%d</v></c></row>' % (r, r, p["xl/sharedStrings.xml"].count(b"<si>") - 1)
            for r in range(100, 3100)) + b"</sheetData>"))),
    "uniqueCount 4294967296": lambda p: p.__setitem__(
        "xl/sharedStrings.xml", re.sub(rb'uniqueCount="\d+"', b'uniqueCount="4294967296"', p["xl/sharedStrings.xml"])),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_parts_are_refused_alike(name, tmp_path, monkeypatch):
    src = Path(hand_layout(tmp_path / "src.xlsx", "医学院", {2: [ACCOUNT]})[0])  # xlsxwriter: shared strings
    path = _with_part(src, tmp_path / "hostile.xlsx", HOSTILE[name])
    fast, slow_one = both(path, monkeypatch)
    assert fast == slow_one
    try:
        guard.check_zip(path, Limits())
        verdict = None
    except Unreadable as exc:
        verdict = exc.text
    if verdict is not None:  # what the guard alone says is what the read says
        assert fast[:2] == ("unreadable", verdict)


def _lying(src: Path, dst: Path) -> Path:
    """A sheet part whose declared size (central directory and local header) is 1000 bytes
    while its stream holds 3 MB."""
    parts = read_parts(src.read_bytes())
    sheet = _sheet(parts)
    parts[sheet] = parts[sheet].replace(b"</sheetData>", b" " * (3 << 20) + b"</sheetData>")
    data = bytearray(write_parts(parts))
    with zipfile.ZipFile(dst.parent / "x.zip", "w") as _:
        pass
    import io

    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(sheet)
    real = info.file_size
    import struct

    at = 0
    while (at := data.find(struct.pack("<I", real), at + 1)) >= 0:
        struct.pack_into("<I", data, at, 1000)
    dst.write_bytes(bytes(data))
    return dst


def test_unpack_gives_what_zipfile_gives_or_nothing(makers, tmp_path):
    rnd = random.Random(24)
    src = Path(filled_template(tmp_path / "src.xlsx", "医学院", {2: [ACCOUNT]}))
    datas = [p.read_bytes() for p in makers[:8]] + [_lying(src, tmp_path / "lying.xlsx").read_bytes()]
    for data in list(datas):  # and damaged copies: a byte flipped anywhere, a tail cut off
        for _ in range(30):
            bad = bytearray(data)
            bad[rnd.randrange(len(bad))] ^= 1 << rnd.randrange(8)
            datas.append(bytes(bad))
    import io

    taken = refused = 0
    for data in datas:
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            continue
        for info in zf.infolist():
            try:
                expected = zf.read(info)
            except Exception:  # noqa: BLE001 - zipfile refuses it: unpack must too
                expected = None
            got = guard.unpack(data, info)
            if got is None:
                refused += 1
            else:
                taken += 1
                assert got == expected, info.filename
    assert taken > 500 and refused > 0


def test_the_lying_zip_is_refused_alike(tmp_path, monkeypatch):
    src = Path(filled_template(tmp_path / "src.xlsx", "医学院", {2: [ACCOUNT]}))
    path = _lying(src, tmp_path / "谎报.xlsx")
    fast, slow_one = both(path, monkeypatch)
    assert fast == slow_one and fast[0] == "unreadable" and "损坏" in fast[1]


# --------------------------------------------------------------------------- the sheet bound

def _random_sheet(rnd: random.Random) -> bytes:
    rows = []
    for r in sorted(rnd.sample(range(1, 10_000), rnd.randrange(1, 30))):
        cells = []
        for c in sorted(rnd.sample(range(26), rnd.randrange(1, 8))):
            ref = f"{chr(65 + c)}{r}".encode()
            cells.append(rnd.choice([b'<c r="%s" s="1"/>' % ref, b'<c r="%s"><v>1</v></c>' % ref,
                                     b'<c r="%s" t="s"><v>0</v></c>' % ref, b'<c r="%s" s="2"></c>' % ref]))
        rows.append(b'<row r="%d">' % r + b"".join(cells) + b"</row>")
    return b'<worksheet><sheetData>' + b"".join(rows) + b"</sheetData></worksheet>"


def test_a_bounded_sheet_is_within_its_bound_when_every_cell_is_placed():
    rnd = random.Random(2024)
    for _ in range(300):
        text = _random_sheet(rnd)
        assert guard._bounded(text, 2_000_000)
        grid = guard._Grid()
        grid.feed(text)
        assert grid.max_row <= guard.BOUND_ROWS and grid.max_col <= guard.BOUND_COLS
        assert len(text) // 9 >= text.count(b"<c r=")
    for odd in (b'<c r="AA1"><v>1</v></c>', b'<c r="A10000"><v>1</v></c>', b'<c><v>1</v></c>',
                b'<c s="1" r="A1"><v>1</v></c>', b'<x:c r="A1"><v>1</v></x:c>', b'<c r="a1"><v>1</v></c>',
                b'<c r="$A$1"><v>1</v></c>', b'<c\tr="A1"><v>1</v></c>', b'<c r = "A1"><v>1</v></c>'):
        assert not guard._bounded(b"<sheetData><row>" + odd + b"</row></sheetData>", 2_000_000), odd
    assert not guard._bounded(_random_sheet(rnd), 100)  # a bound past max_cells clears nothing


def test_styles_without_a_strike_element_have_no_struck_format(makers, monkeypatch):
    seen = {True: 0, False: 0}
    for path in makers:
        with guard.GuardedZip.of(path) as zf:
            zf.guard(Limits())
            wb = xlsx_source.workbook_part(zf)
            part = xlsx_source._related(zf, wb, "styles") or "xl/styles.xml"
            strikes = xlsx_source._strikes(zf, part)
            seen[strikes] += 1
            with monkeypatch.context() as m:  # every font and format looked at
                m.setattr(xlsx_source, "_strikes", lambda zf, part: True)
                assert strikes or xlsx_source._struck_styles(zf, wb) == frozenset()
    assert seen[True] and seen[False]


def test_longest_text_bounds_every_text_calamine_gives(makers):
    from python_calamine import CalamineWorkbook

    for path in makers:
        with guard.GuardedZip.of(path) as zf:
            zf.guard(Limits())
            parts = xlsx_source._sheet_parts(zf)
            zf.finish()
            book = CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                if name not in parts:
                    continue
                cells = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
                longest = max((len(v) for row in cells for v in row if isinstance(v, str)), default=0)
                assert longest <= zf.longest_text(parts[name]), (path.name, name)


def test_a_package_keeps_no_more_than_its_share_and_reads_the_same(makers, monkeypatch):
    """Past KEEP_TOTAL bytes kept, the parts are streamed again: the same Book."""
    fast = [outcome(p) for p in makers[:6]]
    monkeypatch.setattr(guard, "KEEP_TOTAL", 20_000)
    assert [outcome(p) for p in makers[:6]] == fast


# --------------------------------------------------------------------------- the central directory, the stored copy

_INFO_FIELDS = [f for f in zipfile.ZipInfo.__slots__ if f != "_compresslevel"]


def _damaged(datas: list[bytes], rnd: random.Random, per: int) -> list[bytes]:
    """Each of ``datas``, and copies of it with a byte flipped in its central directory or
    end record, or its tail cut off, or bytes put before it."""
    out = list(datas)
    for data in datas:
        cd = data.find(b"PK\x01\x02")
        for _ in range(per):
            bad = bytearray(data)
            bad[rnd.randrange(cd, len(bad))] ^= 1 << rnd.randrange(8)
            out.append(bytes(bad))
        out += [data[:-1], data[:-23], data + b"x", b"PK\x03\x04junk" + data, data[:-2] + b"\x05\x00hello"]
    return out


def test_plain_directory_reads_what_zipfile_reads_or_nothing(makers):
    """Every field of every ZipInfo as zipfile reads it, or None (then zipfile reads it):
    on every maker's file and on damaged copies of them."""
    import io

    rnd = random.Random(2024)
    taken = other = 0
    for data in _damaged([p.read_bytes() for p in makers], rnd, 40):
        found = guard.plain_directory(data)
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - zipfile refuses it: so must the plain reading
            assert found is None
            other += 1
            continue
        if found is None:
            other += 1
            continue
        taken += 1
        start, infos = found
        assert start == zf.start_dir and len(infos) == len(zf.filelist)
        for mine, theirs in zip(infos, zf.filelist):
            assert [getattr(mine, f, None) for f in _INFO_FIELDS] == [getattr(theirs, f, None) for f in _INFO_FIELDS]
    assert taken > len(makers) and other > 50


def test_every_maker_is_read_plain_and_stored(makers):
    """Not vacuous: the files of every maker take both shortcuts."""
    for path in makers:
        with guard.GuardedZip.of(path) as zf:
            zf.guard(Limits())
            zf.finish()
            assert zf.plain and zf.stored() is not None, path.name


def test_the_stored_copy_reads_as_the_file_in_calamine(makers):
    """python-calamine reads the same sheets, values and merged ranges from the stored copy
    as from the file itself; the copy holds every part under its name, byte for byte."""
    import io

    from python_calamine import CalamineWorkbook

    def read(data: bytes):
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return [(n, book.get_sheet_by_name(n).to_python(skip_empty_area=False),
                 book.get_sheet_by_name(n).merged_cell_ranges) for n in book.sheet_names]

    for path in makers:
        data = path.read_bytes()
        with guard.GuardedZip.of(path) as zf:
            zf.guard(Limits())
            zf.finish()
            stored = zf.stored()
        original, copy = zipfile.ZipFile(io.BytesIO(data)), zipfile.ZipFile(io.BytesIO(stored))
        assert [i.filename for i in copy.infolist()] == [i.filename for i in original.infolist()]
        assert all(copy.read(i.filename) == original.read(i) for i in original.infolist())
        assert {i.compress_type for i in copy.infolist()} == {zipfile.ZIP_STORED}
        assert read(stored) == read(data), path.name


def _raw_zip(parts: dict[str, bytes], tail: dict[str, bytes]) -> bytes:
    """A plain zip of ``parts`` deflated, each stream followed by ``tail[name]`` (counted
    in its compressed size)."""
    local, central = b"", b""
    for name, data in parts.items():
        stream = zlib_raw(data) + tail.get(name, b"")
        crc, raw_name = zipfile.crc32(data), name.encode()
        fields = (0, 8, 0, 33, crc, len(stream), len(data), len(raw_name))
        central += struct.pack("<4s6H3L5HLL", b"PK\x01\x02", 20, 20, *fields, 0, 0, 0, 0, 0, len(local)) + raw_name
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, *fields, 0) + raw_name + stream
    n = len(parts)
    return local + central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(central), len(local), 0)


def test_no_stored_copy_of_an_unusual_package(makers, tmp_path, monkeypatch):
    """A folder entry, an extra field, a comment, a deflated stream with bytes after its
    end: not plain, or not exact, so python-calamine is given the file itself; and the
    Book is the slow path's."""
    import io

    src = next(p for p in makers if p.parent.name == "bench")
    parts = read_parts(src.read_bytes())
    sheet = _sheet(parts)

    def rezip(folder=False, extra=b"", comment=b""):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            out.comment = comment
            if folder:
                out.writestr("xl/", b"")
            for name, data in parts.items():
                info = zipfile.ZipInfo(name)
                info.compress_type, info.extra = zipfile.ZIP_DEFLATED, extra
                out.writestr(info, data)
        return buf.getvalue()

    cases = {"plain": rezip(), "folder": rezip(folder=True), "comment": rezip(comment=b"x"),
             "extra field": rezip(extra=b"\x55\x54\x05\x00\x01\x00\x00\x00\x00"),
             "raw": _raw_zip(parts, {}), "bytes after a stream": _raw_zip(parts, {sheet: b"\x00\x00"})}
    for name, data in cases.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        with guard.GuardedZip.of(path) as zf:
            zf.guard(Limits())
            zf.finish()
            assert (zf.stored() is not None) == (name in ("plain", "raw")), name
            assert zf.plain == (name not in ("comment", "extra field")), name
        fast, slow_one = both(path, monkeypatch)
        assert fast == slow_one and fast[0] == "xlsx", name


def test_unpack_exact_only_when_the_stream_ends_with_the_part():
    import io

    text = b"<worksheet>" + b"x" * 5000 + b"</worksheet>"
    packed = zlib_raw(text)
    for stream, size, exact in ((packed, len(text), True), (packed + b"\0\0", len(text), False),
                                (packed, len(text) - 1, False), (zlib_raw(b""), 0, True),
                                (zlib_raw(b"a"), 0, False)):
        body = text[:size]
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
        info.compress_type, info.CRC = zipfile.ZIP_DEFLATED, zipfile.crc32(body)
        info.compress_size, info.file_size, info.header_offset = len(stream), size, 0
        name = info.filename.encode()
        head = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 8, 0, 33, info.CRC, len(stream), size, len(name), 0)
        got, is_exact = guard.unpack_exact(head + name + stream, info)
        with zipfile.ZipFile(io.BytesIO(_zip_of(head + name + stream, info))) as zf:
            try:
                expected = zf.read(info.filename)
            except Exception:  # noqa: BLE001
                expected = None
        assert got in (None, expected) and is_exact == (exact and got is not None), (size, exact)


def zlib_raw(data: bytes) -> bytes:
    import zlib

    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _zip_of(local: bytes, info: zipfile.ZipInfo) -> bytes:
    name = info.filename.encode()
    central = struct.pack("<4s6H3L5HLL", b"PK\x01\x02", 20, 20, 0, 8, 0, 33, info.CRC, info.compress_size,
                          info.file_size, len(name), 0, 0, 0, 0, 0, 0) + name
    return local + central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local), 0)


# --------------------------------------------------------------------------- strictly plain cells

def test_plain_cells_hold_no_formula_and_no_error_cell(makers):
    """A sheet the guard finds strictly plain is within the bound, and the full scan finds no
    formula and no error cell in it; the shortcut is taken on the plain sheets of every maker
    and not on sheets with formulas or error cells."""
    rnd = random.Random(7)
    for _ in range(200):
        text = _random_sheet(rnd)
        assert guard.plain_cells(text) and guard._bounded(text, 2_000_000)
    for odd in (b'<c r="A1"><f>1+1</f><v>2</v></c>', b'<c r="A1">\n<f>1+1</f><v>2</v></c>',
                b'<c r="A1"><x:f>1+1</x:f><v>2</v></c>', b'<c r="A1" t="e"><v>#N/A</v></c>',
                b'<c r="A1" s="1" t="e"><v>#N/A</v></c>', b"<c r=\"A1\" t='e'><v>#N/A</v></c>",
                b'<x:c r="A1" t="e"><x:v>#N/A</x:v></x:c>', b'<c r="A1" t="str"><f>"a"</f><v>a</v></c>',
                b'<c r="A1" cm="1"><v>1</v></c>', b'<c r="A1" t = "e"><v>#N/A</v></c>', b'<c r="AA1"><v>1</v></c>'):
        text = b"<sheetData><row>" + odd + b"</row></sheetData>"
        assert not guard.plain_cells(text), odd
    taken = 0
    for path in makers:
        with guard.GuardedZip.of(path) as zf:
            zf.guard(Limits())
            for name, part in xlsx_source._sheet_parts(zf).items():
                data = zf.part(part)
                full = xlsx_source.SheetScan(frozenset()).feed_all(data)
                if zf.plain_cells(part):
                    taken += 1
                    assert not full.formulas and not full.errors, (path.name, name)
                    assert guard._bounded(data, Limits().max_cells)
                    assert xlsx_source.SheetScan(frozenset()).feed_all(data, True).formulas == {}
    assert taken >= len(makers)
    openpyxl_book = next(p for p in makers if p.name == "openpyxl.xlsx")
    with guard.GuardedZip.of(openpyxl_book) as zf:
        zf.guard(Limits())
        first = xlsx_source._sheet_parts(zf)["附件2"]
        zf.part(first)
        assert not zf.plain_cells(first)  # formulas and an error cell: scanned in full


def test_shared_string_sizes_of_a_whole_part_are_those_fed_in_chunks(makers):
    """``_StringSizes.whole`` (a part checked whole) against ``feed`` (a part streamed)."""
    rnd = random.Random(11)
    texts = []
    for path in makers:
        texts += [data for name, data in read_parts(path.read_bytes()).items() if name.endswith("sharedStrings.xml")]
    for _ in range(2000):
        body = b"".join(b"<si><t>" + b"x" * rnd.choice([0, 5, 120, 121, 122, 125, 126, 200]) + b"</t></si>"
                        for _ in range(rnd.randrange(6)))
        text = b"<?xml?><sst>" + body + rnd.choice([b"</sst>", b"", b"<s", b"<si"])
        texts.append(text.replace(b"<si>", b"<si", 1) if rnd.random() < 0.2 else text)
    for text in texts:
        fed, whole = guard._StringSizes(), guard._StringSizes()
        fed.feed(text, True)
        fed.feed(b"", False)
        whole.whole(text)
        assert (whole.long, whole.index) == (fed.long, fed.index)


def test_a_small_package_read_again_faults_no_fresh_pages(makers):
    """The stored copy is joined once (no '+' after it) and glibc's malloc keeps the heap a
    read frees (``guard.keep_heap``): reading the same return again maps no fresh pages.
    Before: ~245 page faults a template return, its heap given back after every file."""
    import os
    import resource

    if not os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else True:
        pytest.skip("glibc only")
    path = max((p for p in makers if p.parent.name == "bench"), key=lambda p: p.stat().st_size)
    limits = Limits()
    for _ in range(3):
        open_book(path, limits)
    assert guard.keep_heap()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        open_book(path, limits)
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5 < 40


def _walked(zf, part, walk):
    try:
        return [(el.tag, dict(el.attrib), el.text, [a.tag for a in up]) for el, up in walk(zf, part)]
    except Exception as exc:  # noqa: BLE001 - the same error either way
        return ("raised", type(exc).__name__)


def test_walk_gives_what_elements_gives(makers, tmp_path):
    """``opc.walk`` on a kept part (parsed whole, walked in C) against ``opc.elements``
    (streamed): the same elements, attributes, texts and ancestors in the same order, or the
    same error; on every XML part of every maker, its fuzz mutants' and broken copies."""
    from fuzz import make_mutants

    paths = list(makers) + [m.path for m in make_mutants(24, 80, tmp_path) if m.kind.startswith("xlsx")]
    broken = tmp_path / "broken.xlsx"
    parts = read_parts(makers[0].read_bytes())
    parts["docProps/custom.xml"] = b'<Properties><property name="netreg_x"><a>1</a><b>2'
    parts["docProps/app.xml"] = b'<?xml version="1.0"?><x>&undeclared;</x>'
    broken.write_bytes(write_parts(parts))
    paths.append(broken)
    compared = 0
    for path in paths:
        try:
            zf = guard.GuardedZip.of(path)
        except Exception:  # noqa: BLE001 - not a zip
            continue
        with zf:
            try:
                zf.guard(Limits())
            except Unreadable:
                continue
            for info in zf.infolist():
                if info.is_dir() or not guard.is_xml(info.filename):
                    continue
                try:
                    kept = zf.part(info.filename)
                except Unreadable:
                    continue
                if kept is None:
                    continue
                whole = _walked(zf, info.filename, opc.walk)
                opc.WHOLE = False
                try:
                    streamed = _walked(zf, info.filename, opc.walk)
                finally:
                    opc.WHOLE = True
                assert whole == streamed, (path.name, info.filename)
                compared += 1
    assert compared > 200


def test_a_long_string_in_a_strings_part_checked_whole(tmp_path, monkeypatch):
    """A shared-strings part under CHUNK is checked whole (``_StringSizes.whole``): a 900 KB
    string referred to by 200 cells (180 MB) is refused with the slow path's line; by 20
    cells it is read alike (cut at Excel's limit)."""
    text = bytes(random.Random(1).choices(b"abcdefghijklmnopqrstuvwxyz", k=900_000))
    src = Path(hand_layout(tmp_path / "src.xlsx", "医学院", {2: [ACCOUNT]})[0])
    for cells, refused in ((200, True), (20, False)):
        def edit(p):
            p["xl/sharedStrings.xml"] = re.sub(rb'\s(count|uniqueCount)="\d+"', b"", p["xl/sharedStrings.xml"]).replace(
                b"</sst>", b"<si><t>" + text + b"</t></si></sst>")
            last = p["xl/sharedStrings.xml"].count(b"<si>") - 1
            p[_sheet(p)] = p[_sheet(p)].replace(b"</sheetData>", b"".join(
                b'<row r="%d"><c r="L%d" t="s"><v>%d</v></c></row>' % (r, r, last)
                for r in range(100, 100 + cells)) + b"</sheetData>")
        path = _with_part(src, tmp_path / f"long-{cells}.xlsx", edit)
        assert zipfile.ZipFile(path).getinfo("xl/sharedStrings.xml").file_size <= guard.CHUNK
        fast, slow_one = both(path, monkeypatch)
        assert fast == slow_one
        assert (fast[0] == "unreadable" and "反复引用很长的文字" in fast[1]) == refused, fast[:2]
