""".csv / .txt / .tsv exported from one form (sources/delimited.py): encodings, delimiters,
quoting, LibreOffice exports, and files that are not text or far too big."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from measure import measured_read
from office import convert

from netreg.config import Limits
from netreg.sources.base import HEAD_BYTES, Reason, Unreadable
from netreg.sources.delimited import SOURCE, sniff

LIMITS = Limits()
HEADER = ["序号", "平台", "账号名称", "开通日期", "联系电话"]
ROWS = [["附件1 网络平台账号登记表", "", "", "", ""], ["填报单位：医学院", "", "", "", ""], HEADER,
        ["1", "微信公众号", "漯职医学院", "2019-09-01", "13812345678"],
        ["2", "抖音", "医学院抖音号", "2020/5/1", "0395-3136789"]]


def _write(path: Path, rows, delimiter=",", encoding="utf-8") -> Path:
    """As Excel writes it: CRLF, a value quoted when it holds the delimiter, a quote or a line break."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _read(path: Path):
    assert SOURCE.accepts(path.read_bytes()[:HEAD_BYTES], path)
    book = SOURCE.read(path, LIMITS)
    assert (book.format, book.reader, len(book.sheets)) == ("csv", "csv", 1)
    assert book.sheets[0].name == path.stem and book.sheets[0].merged == ()
    return book.sheets[0].cells


def _refused(path: Path, reason=Reason.CORRUPT, limits=LIMITS) -> Unreadable:
    with pytest.raises(Unreadable) as info:
        SOURCE.read(path, limits)
    assert info.value.reason == reason and "\n" not in info.value.text
    return info.value


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_encodings(tmp_path, encoding):
    assert _read(_write(tmp_path / f"医学院-{encoding}.csv", ROWS, encoding=encoding)) == ROWS


@pytest.mark.parametrize(("delimiter", "suffix"), [("\t", ".txt"), ("\t", ".tsv"), (";", ".csv"), (",", ".txt")])
def test_delimiters(tmp_path, delimiter, suffix):
    rows = [*ROWS, ["3", "微博", "a,b;c", "2021.3.1", "2,300"]]  # the other delimiters inside values
    assert _read(_write(tmp_path / f"表{suffix}", rows, delimiter, encoding="gbk")) == rows


def test_quoted_fields_ragged_rows_and_text_kept_as_typed(tmp_path):
    path = tmp_path / "引号.csv"
    path.write_text('附件1\n序号,平台,账号名称,备注\n1,"微信公众号","漯职,医学院","第一行\n第二行"\n'
                    '2,抖音,"说""明""",\n\n3, 快手 ,=1+1,0013812345678\n', encoding="utf-8")
    assert _read(path) == [["附件1", "", "", ""], ["序号", "平台", "账号名称", "备注"],
                           ["1", "微信公众号", "漯职,医学院", "第一行\n第二行"], ["2", "抖音", '说"明"', ""],
                           ["", "", "", ""], ["3", " 快手 ", "=1+1", "0013812345678"]]


def test_sniff_prefers_a_consistent_column_count():
    assert sniff("a;b;c\n1;2,5;3\n4;5;6\n") == ";"
    assert sniff("标题\n序号\t平台\t粉丝\n1\t微博\t2,300\n2\t抖音\t1,200,000\n") == "\t"
    assert sniff("只有一列\n没有分隔符\n") == "," and sniff("x\n", default="\t") == "\t"


def test_libreoffice_exports(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    for row in ROWS:
        wb.active.append(row)
    xlsx = tmp_path / "医学院.xlsx"
    wb.save(xlsx)
    utf8 = convert(xlsx, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "utf8")
    assert _read(utf8) == ROWS
    # Charset names (GB18030, GBK) are ignored by LibreOffice 7.4 (it writes UTF-8); the number
    # 85 (RTL_TEXTENCODING_GB_18030) gives GB18030, as Excel/WPS in China write.
    gb = convert(xlsx, "csv:Text - txt - csv (StarCalc):9,34,85", tmp_path / "gb")
    with pytest.raises(UnicodeDecodeError):
        gb.read_bytes().decode("utf-8")
    assert _read(gb) == ROWS


def test_empty_and_binary_files(tmp_path):
    empty = tmp_path / "空.csv"
    empty.write_bytes(b"")
    assert "空" in _refused(empty).text
    blank = tmp_path / "空行.csv"
    blank.write_bytes(b"\r\n\r\n  \r\n")
    _refused(blank)
    junk = tmp_path / "乱码.csv"
    junk.write_bytes(bytes(range(1, 256)) * 40)  # no NUL: accepted by the head, refused on reading
    assert SOURCE.accepts(junk.read_bytes()[:HEAD_BYTES], junk)
    _refused(junk)
    with_nul = tmp_path / "二进制.csv"
    with_nul.write_bytes(b"a,b\n\0\1\2")
    assert not SOURCE.accepts(with_nul.read_bytes()[:HEAD_BYTES], with_nul)
    _refused(with_nul)
    zipped = tmp_path / "其实是xlsx.csv"
    zipped.write_bytes(b"PK\x03\x04" + bytes(100))
    assert not SOURCE.accepts(zipped.read_bytes()[:HEAD_BYTES], zipped)
    assert not SOURCE.accepts(b"a,b\n", tmp_path / "x.xlsx")


def test_utf16_with_bom(tmp_path):
    path = _write(tmp_path / "Unicode文本.txt", ROWS, "\t", encoding="utf-16")  # Excel's "Unicode 文本"
    assert _read(path) == ROWS


def _measured(path: Path) -> tuple[str, float, int]:
    """Read in a fresh interpreter: (outcome, seconds, peak RSS in MB)."""
    return measured_read("delimited", path, 'f"{len(book.sheets[0].cells)}x{len(book.sheets[0].cells[0][0])}"', cap_gb=0)


def test_huge_files_are_bounded(tmp_path):
    line = tmp_path / "一行.csv"
    line.write_bytes("账号".encode("gbk") + b"x" * (40 << 20))  # one 40 MB field, kept as typed
    outcome, seconds, rss = _measured(line)
    assert outcome == f"1x{40 * 1048576 + 2}" and seconds < 10 and rss < 500, (seconds, rss)
    fields = tmp_path / "多列.csv"
    fields.write_bytes(b"a," * (20 << 20))  # 20 million fields on one line
    outcome, seconds, rss = _measured(fields)
    assert outcome == "too-large" and seconds < 10 and rss < 500, (seconds, rss)
    rows = _write(tmp_path / "多行.csv", [["1", "2", "3"]] * 1000)
    start = time.perf_counter()
    _refused(rows, Reason.TOO_LARGE, Limits(max_cells=2999))
    assert len(SOURCE.read(rows, Limits(max_cells=3000)).sheets[0].cells) == 1000
    assert time.perf_counter() - start < 5
    big = tmp_path / "大.csv"
    big.write_bytes(b"x" * 100)
    assert "文件过大" in _refused(big, Reason.TOO_LARGE, Limits(max_file_mb=0.00001)).text
