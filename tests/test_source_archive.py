"""Zip archives units send back (SPEC §3 "Formats units send back", §7 "Bad input").

Every archive is built here with zipfile in ``tmp_path``; hostile ones are made by writing raw
name bytes or patching headers after the fact.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from netreg.sources import archive
from netreg.sources.archive import Member, expand, is_archive
from netreg.sources.base import Reason, Unreadable

LIMITS = SimpleNamespace(max_file_mb=50, max_uncompressed_mb=300, max_compression_ratio=200, max_cells=2_000_000)
XLSX = b"PK\x03\x04 not really a workbook, only its bytes matter here"


class RawName(zipfile.ZipInfo):
    """A member whose name bytes are written as given, without the UTF-8 flag (as Chinese
    Windows' built-in zip and WinRAR's defaults do)."""

    def __init__(self, raw: bytes, **kw):
        super().__init__(raw.decode("cp437"), **kw)

    def _encodeFilenameFlags(self):
        return self.filename.encode("cp437"), self.flag_bits & ~0x800


def make_zip(path: Path, members, compression=zipfile.ZIP_DEFLATED) -> Path:
    """``members``: (name or ZipInfo, bytes) pairs, in order."""
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def expand_ok(path: Path, tmp_path: Path, limits=LIMITS) -> list[Member]:
    into = tmp_path / "into"
    into.mkdir(exist_ok=True)
    return expand(path, limits, into)


def patch_central(path: Path, name: str, *, flag: int = 0, file_size: int | None = None) -> None:
    """Set bits in a member's flags (local and central headers) or its declared size (central
    directory, which zipfile trusts)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        at, info = zf.start_dir, zf.getinfo(name)
    data[info.header_offset + 6:info.header_offset + 8] = struct.pack("<H", info.flag_bits | flag)
    while data[at:at + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<HHH", data, at + 28)
        if data[at + 46:at + 46 + n].decode() == name:
            flags = struct.unpack_from("<H", data, at + 8)[0]
            struct.pack_into("<H", data, at + 8, flags | flag)
            if file_size is not None:
                struct.pack_into("<I", data, at + 24, file_size)
        at += 46 + n + m + k
    path.write_bytes(bytes(data))


def problems(members: list[Member]) -> list[tuple[str, str | None]]:
    return [(m.shown, m.problem.reason if m.problem else None) for m in members]


# Names


def test_gbk_name_without_utf8_flag_is_decoded(tmp_path):
    gbk = RawName("医学院/附件2-医学院.xlsx".encode("gbk"))
    utf8_no_flag = RawName("党委宣传部.XLSX".encode("utf-8"))  # Info-ZIP on Linux/macOS
    path = make_zip(tmp_path / "包.zip", [(gbk, XLSX), (utf8_no_flag, b"two"), ("校团委.csv", b"three")])
    with zipfile.ZipFile(path) as zf:
        assert [i.flag_bits & 0x800 for i in zf.infolist()] == [0, 0, 0x800]
        assert zf.namelist()[0] != "医学院/附件2-医学院.xlsx"  # what zipfile alone makes of it
    members = expand_ok(path, tmp_path)
    assert [m.shown for m in members] == ["包.zip/医学院/附件2-医学院.xlsx", "包.zip/党委宣传部.XLSX", "包.zip/校团委.csv"]
    assert [m.path.name for m in members] == ["0001.xlsx", "0002.xlsx", "0003.csv"]
    assert [m.path.read_bytes() for m in members] == [XLSX, b"two", b"three"]
    assert all(m.path.parent == tmp_path / "into" and m.problem is None for m in members)


def test_backslashes_shown_as_slashes_and_unicode_path_field_wins(tmp_path):
    raw = "旧版\\附件1.xlsx".encode("gbk")
    tagged = RawName(b"????.xlsx")
    tagged.extra = struct.pack("<HHBI", 0x7075, 5 + len("附件3.xlsx".encode()), 1,
                               zipfile.crc32(b"????.xlsx")) + "附件3.xlsx".encode()
    path = make_zip(tmp_path / "a.zip", [(RawName(raw), b"1"), (tagged, b"2")])
    assert [m.shown for m in expand_ok(path, tmp_path)] == ["a.zip/旧版/附件1.xlsx", "a.zip/附件3.xlsx"]


def test_shown_prefix_can_be_given(tmp_path):
    path = make_zip(tmp_path / "0003.zip", [("a.xlsx", XLSX)])
    (tmp_path / "into").mkdir()
    [member] = expand(path, LIMITS, tmp_path / "into", shown="收件/医学院.zip")
    assert member.shown == "收件/医学院.zip/a.xlsx"


# Junk and hostile names


def test_mac_archive_and_lock_files_are_skipped_silently(tmp_path):
    path = make_zip(tmp_path / "mac.zip", [
        ("回执/", b""), ("回执/医学院.xlsx", XLSX), ("__MACOSX/回执/._医学院.xlsx", b"\0\5\26\7"),
        ("回执/._医学院.xlsx", b"\0\5\26\7"), ("回执/.DS_Store", b"Bud1"), ("Thumbs.db", b"x"),
        ("desktop.ini", b"x"), ("回执/~$医学院.xlsx", b"lock"), (".~lock.医学院.xlsx#", b"lock"),
    ])
    [member] = expand_ok(path, tmp_path)
    assert (member.shown, member.path.read_bytes()) == ("mac.zip/回执/医学院.xlsx", XLSX)


def test_escaping_names_and_symlinks_are_refused_beside_good_members(tmp_path):
    link = zipfile.ZipInfo("link.xlsx")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = make_zip(tmp_path / "evil.zip", [
        ("../evil.xlsx", b"evil"), ("/abs.xlsx", b"evil"), ("good.xlsx", XLSX), ("C:/win.xlsx", b"evil"),
        (RawName(b"a\\..\\..\\dos.xlsx"), b"evil"), (link, b"/etc/passwd"),
    ])
    members = expand_ok(path, tmp_path)
    assert problems(members) == [
        ("evil.zip/../evil.xlsx", Reason.MALICIOUS), ("evil.zip/abs.xlsx", Reason.MALICIOUS),
        ("evil.zip/good.xlsx", None), ("evil.zip/C:/win.xlsx", Reason.MALICIOUS),
        ("evil.zip/a/../../dos.xlsx", Reason.MALICIOUS), ("evil.zip/link.xlsx", Reason.MALICIOUS),
    ]
    assert members[0].problem.text == "压缩包里的文件名“../evil.xlsx”指向压缩包以外的位置，已拒绝读取"
    assert members[2].path.read_bytes() == XLSX and all(m.path is None for m in members if m.problem)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert written == ["evil.zip", "into", "into/0003.xlsx"]
    assert not any(b"evil" in p.read_bytes() for p in tmp_path.parent.glob("*.xlsx"))


# Sizes


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """One member of 500 MB of zeros (about 500 KB on disk)."""
    path = tmp_path_factory.mktemp("bomb") / "炸弹.zip"
    zero = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("zeros.xlsx", "w", force_zip64=True) as out:
            for _ in range(500):
                out.write(zero)
    return path


def test_zip_bomb_is_refused_before_extracting(bomb, tmp_path):
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(Unreadable) as exc:
        expand_ok(bomb, tmp_path)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert exc.value.reason == Reason.TOO_LARGE and "解压后过大" in exc.value.text
    assert elapsed < 0.5 and peak < 5 << 20
    assert list((tmp_path / "into").iterdir()) == []


def test_high_compression_ratio_is_refused(tmp_path):
    path = make_zip(tmp_path / "r.zip", [("zeros.csv", bytes(20 << 20))])
    with pytest.raises(Unreadable) as exc:
        expand_ok(path, tmp_path)
    assert exc.value.reason == Reason.TOO_LARGE and "压缩比" in exc.value.text
    small = make_zip(tmp_path / "s.zip", [("empty-rows.csv", b",,,,,\r\n" * 20000)])  # 140 KB, ratio ~ 400
    assert problems(expand_ok(small, tmp_path)) == [("s.zip/empty-rows.csv", None)]


def test_member_over_max_file_mb_is_refused_others_read(tmp_path):
    path = make_zip(tmp_path / "m.zip", [("big.xlsx", os.urandom(3 << 20)), ("ok.xlsx", XLSX)], zipfile.ZIP_STORED)
    members = expand_ok(path, tmp_path, SimpleNamespace(**{**vars(LIMITS), "max_file_mb": 2}))
    assert problems(members) == [("m.zip/big.xlsx", Reason.TOO_LARGE), ("m.zip/ok.xlsx", None)]
    assert sorted(p.name for p in (tmp_path / "into").iterdir()) == ["0002.xlsx"]


@pytest.mark.parametrize("declared", [1000, 3 << 20])
def test_member_lying_about_its_size_is_cut_off(tmp_path, declared):
    path = make_zip(tmp_path / "lie.zip", [("liar.xlsx", os.urandom(1 << 20) * 2), ("ok.xlsx", XLSX)])
    patch_central(path, "liar.xlsx", file_size=declared)
    members = expand_ok(path, tmp_path)
    assert problems(members) == [("lie.zip/liar.xlsx", Reason.CORRUPT), ("lie.zip/ok.xlsx", None)]
    assert sorted(p.name for p in (tmp_path / "into").iterdir()) == ["0002.xlsx"]


def test_stream_is_counted_not_trusted(tmp_path, monkeypatch):
    """Should zipfile ever hand out more than the declared size, the counter cuts it off."""
    path = make_zip(tmp_path / "c.zip", [("a.xlsx", XLSX)])

    class Endless(io.RawIOBase):
        def readinto(self, b):
            b[:] = bytes(len(b))
            return len(b)

        def readable(self):
            return True

    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, info: io.BufferedReader(Endless()))
    [member] = expand_ok(path, tmp_path, SimpleNamespace(**{**vars(LIMITS), "max_file_mb": 3}))
    assert member.problem.reason == Reason.TOO_LARGE and "3 MB" in member.problem.text
    assert list((tmp_path / "into").iterdir()) == []


def test_too_many_members(tmp_path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(10_001):
            zf.writestr(f"{i}.csv", b"")
    with pytest.raises(Unreadable) as exc:
        expand_ok(path, tmp_path)
    assert exc.value.reason == Reason.TOO_LARGE and "过多" in exc.value.text


# Nested archives


def nest(tmp_path: Path, names: list[str], leaf: tuple[str, bytes]) -> Path:
    """names[0] holds names[1] … holds the leaf."""
    data, name = leaf[1], leaf[0]
    for outer in reversed(names):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(RawName(name.encode("gbk")), data)
        data, name = buf.getvalue(), outer
    (tmp_path / names[0]).write_bytes(data)
    return tmp_path / names[0]


def test_nested_zip_is_expanded_into_a_subfolder(tmp_path):
    path = nest(tmp_path, ["外.zip", "内.zip"], ("成员.xlsx", XLSX))
    [member] = expand_ok(path, tmp_path)
    assert member.shown == "外.zip/内.zip/成员.xlsx" and member.path.read_bytes() == XLSX
    assert member.path.relative_to(tmp_path / "into").as_posix() == "0001-zip/0001.xlsx"
    assert not (tmp_path / "into" / "0001.zip").exists()  # the inner copy is gone once expanded


def test_nesting_is_read_to_depth_two_and_refused_deeper(tmp_path):
    three = nest(tmp_path, ["a.zip", "b.zip", "c.zip"], ("表.xlsx", XLSX))
    assert problems(expand_ok(three, tmp_path)) == [("a.zip/b.zip/c.zip/表.xlsx", None)]
    (tmp_path / "src").mkdir()
    (tmp_path / "four").mkdir()
    four = nest(tmp_path / "src", ["a.zip", "b.zip", "c.zip", "d.zip"], ("表.xlsx", XLSX))
    [member] = expand(four, LIMITS, tmp_path / "four")
    assert member.shown == "a.zip/b.zip/c.zip/d.zip" and member.path is None
    assert "压缩包嵌套过深" in member.problem.text


def test_broken_inner_zip_is_one_member_problem(tmp_path):
    inner = make_zip(tmp_path / "in.zip", [("x.xlsx", XLSX)]).read_bytes()
    path = make_zip(tmp_path / "out.zip", [("坏.zip", inner[:30]), ("rar.zip", b"Rar!\x1a\x07\x00junk"),
                                           ("好.zip", inner), ("空.zip", b"PK\x05\x06" + bytes(18))])
    members = expand_ok(path, tmp_path)
    assert problems(members) == [("out.zip/坏.zip", Reason.CORRUPT), ("out.zip/rar.zip", Reason.CORRUPT),
                                 ("out.zip/好.zip/x.xlsx", None), ("out.zip/空.zip", Reason.MISSING)]
    assert members[1].problem.code == "file-unsupported" and "RAR" in members[1].problem.kind


def test_budget_is_shared_across_levels(tmp_path):
    inner = make_zip(tmp_path / "in.zip", [("x.xlsx", os.urandom(400_000))], zipfile.ZIP_STORED).read_bytes()
    path = make_zip(tmp_path / "out.zip", [("1.zip", inner), ("2.zip", inner)], zipfile.ZIP_STORED)
    members = expand_ok(path, tmp_path, SimpleNamespace(**{**vars(LIMITS), "max_uncompressed_mb": 1}))
    # 1.zip (0.4 MB) + its x.xlsx (0.4 MB) + 2.zip (0.4 MB) > 1 MB
    assert problems(members) == [("out.zip/1.zip/x.xlsx", None), ("out.zip/2.zip", Reason.TOO_LARGE)]


def test_a_thousand_nested_zips_finish_fast(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("医学院.csv", "序号,名称\n1,网站\n".encode())
    path = make_zip(tmp_path / "千.zip", [(f"单位{i:04d}.zip", buf.getvalue()) for i in range(1000)])
    started = time.perf_counter()
    members = expand_ok(path, tmp_path)
    elapsed = time.perf_counter() - started
    assert len(members) == 1000 and all(m.problem is None for m in members)
    assert members[999].shown == "千.zip/单位0999.zip/医学院.csv"
    assert elapsed < 10, elapsed  # about 0.6 s on an idle machine: linear, ~0.6 ms per inner zip


def test_members_are_counted_across_levels(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_MEMBERS", 100)  # 10 000 in real life
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(20):
            zf.writestr(f"{i}.csv", b"1")
    path = make_zip(tmp_path / "z.zip", [(f"{i}.zip", buf.getvalue()) for i in range(10)])
    members = expand_ok(path, tmp_path)
    # 10 entries outside, then 4 × 20 inside fit in 100; the other 6 inner zips are refused
    assert len(members) == 4 * 20 + 6 and all(m.problem is None for m in members[:80])
    assert problems(members[80:]) == [(f"z.zip/{i}.zip", Reason.TOO_LARGE) for i in range(4, 10)]


# Encrypted, corrupt, empty


def test_encrypted_member(tmp_path):
    path = make_zip(tmp_path / "pw.zip", [("secret.xlsx", XLSX), ("open.xlsx", XLSX)])
    patch_central(path, "secret.xlsx", flag=0x1)
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("secret.xlsx").flag_bits & 0x1
    members = expand_ok(path, tmp_path)
    assert problems(members) == [("pw.zip/secret.xlsx", Reason.ENCRYPTED), ("pw.zip/open.xlsx", None)]
    assert members[0].problem.text.startswith("压缩包设置了密码")


def test_crc_error_is_corrupt(tmp_path):
    path = make_zip(tmp_path / "crc.zip", [("a.xlsx", b"A" * 1000), ("b.xlsx", XLSX)], zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    data[data.index(b"A" * 1000) + 500] = ord("B")
    path.write_bytes(bytes(data))
    assert problems(expand_ok(path, tmp_path)) == [("crc.zip/a.xlsx", Reason.CORRUPT), ("crc.zip/b.xlsx", None)]


@pytest.mark.parametrize("content", ["truncated", "random", "empty-file", "rar"])
def test_corrupt_archive_raises(tmp_path, content):
    good = make_zip(tmp_path / "good.zip", [("a.xlsx", os.urandom(5000)), ("b.xlsx", XLSX)]).read_bytes()
    data = {"truncated": good[:len(good) // 2], "random": os.urandom(3000), "empty-file": b"",
            "rar": b"Rar!\x1a\x07\x01\x00" + os.urandom(100)}[content]
    path = tmp_path / "坏.zip"
    path.write_bytes(data)
    assert is_archive(data[:4096], path)
    with pytest.raises(Unreadable) as exc:
        expand_ok(path, tmp_path)
    assert exc.value.reason == Reason.CORRUPT and exc.value.text


def test_empty_archive_is_named(tmp_path):
    path = make_zip(tmp_path / "空.zip", [("文件夹/", b""), ("__MACOSX/._x", b"")])
    with pytest.raises(Unreadable) as exc:
        expand_ok(path, tmp_path)
    assert exc.value.reason == Reason.MISSING and "没有" in exc.value.text


# is_archive


def head(path: Path) -> bytes:
    return path.read_bytes()[:4096]


def test_office_packages_are_not_archives(tmp_path):
    import openpyxl

    xlsx = tmp_path / "a.xlsx"
    openpyxl.Workbook().save(xlsx)
    docx = make_zip(tmp_path / "a.docx", [("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w/>")])
    ods = make_zip(tmp_path / "a.ods", [("mimetype", b"application/vnd.oasis.opendocument.spreadsheet")])
    renamed = tmp_path / "xlsx-renamed.zip"
    renamed.write_bytes(xlsx.read_bytes())
    for path in (xlsx, docx, ods, renamed):
        assert not is_archive(head(path), path), path


def test_zips_are_archives_whatever_their_name(tmp_path):
    plain = make_zip(tmp_path / "回执", [("a.xlsx", XLSX)])
    empty = make_zip(tmp_path / "empty.zip", [])
    assert head(empty).startswith(archive.EMPTY_ZIP)
    assert is_archive(head(plain), plain) and is_archive(head(empty), empty)


def test_is_archive_never_raises(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"PK\x03\x04" + os.urandom(100))
    assert not is_archive(head(junk), junk)
    assert not is_archive(b"PK\x03\x04", tmp_path)  # a folder
    assert not is_archive(b"PK\x03\x04", tmp_path / "missing.xlsx")
    assert is_archive(b"", tmp_path / "missing.zip")
    assert not is_archive(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", tmp_path / "a.xls")
