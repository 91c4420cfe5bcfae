"""Zip archives units send back (a unit zips its five files): every member becomes a file.

Each member is extracted under a name of our own (``0001.xlsx``) and shown as
``包.zip/成员.xlsx``; the caller reads it as if it had been given. An archive is hostile
until proven otherwise: declared sizes are checked before anything is extracted, every member
is streamed through a counter (a header may lie), member names are only ever shown, never used
on disk, and nested archives are bounded in depth and share one budget of bytes and members.
"""

from __future__ import annotations

import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .base import HEAD_BYTES, ZIP_MAGIC, Reason, Unreadable

EMPTY_ZIP = b"PK\x05\x06"
MB = 1 << 20
CHUNK = 1 << 20
MAX_MEMBERS = 10_000  # across all levels of one archive
MAX_DEPTH = 2  # 外.zip/1.zip/2.zip/成员.xlsx is read; a zip inside 2.zip is not
RATIO_FLOOR = MB  # below this total a high ratio is harmless (a CSV of empty rows reaches 300×)
# OOXML (its content types, or, when a tool left those out, its relationships or main part),
# ODF, OFD (GB/T 33190): a workbook missing [Content_Types].xml is a damaged workbook, not an
# archive of XML files.
_PACKAGES = ("[content_types].xml", "_rels/.rels", "xl/workbook.xml", "xl/workbook.bin", "word/document.xml",
             "mimetype", "meta-inf/manifest.xml", "ofd.xml")
_JUNK = {"thumbs.db", "desktop.ini"}
_DRIVE = re.compile(r"[A-Za-z]:")
_EXT = re.compile(r"\.[a-z0-9]{1,8}")
_OTHER = {b"Rar!": "RAR 压缩包（.rar）", b"7z\xbc\xaf": "7z 压缩包（.7z）"}


@dataclass(frozen=True)
class Member:
    shown: str  # "包.zip/子文件夹/医学院.xlsx", with "/" separators
    path: Path | None  # the extracted copy, None when refused
    problem: Unreadable | None = None


@dataclass
class _Budget:  # shared by every level of one archive
    bytes: int
    members: int


# Names of files that are zips by format: one of them without its format's parts is a damaged
# workbook or document (file-unreadable), never an archive of the files it happens to hold.
PACKAGE_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm", ".xlsb", ".docx", ".docm", ".dotx", ".dotm",
                              ".ods", ".ots", ".odt", ".ott", ".ofd", ".pptx", ".et", ".ett", ".xls", ".csv",
                              ".tsv", ".txt"})


def is_archive(head: bytes, path: Path) -> bool:
    """A zip that is not an office package (.xlsx/.docx/.xlsb/.ods/.odt/.ofd). Never raises;
    a broken file named .zip is an archive, so that ``expand`` names what is wrong with it.
    Only a .zip, or a file of no known kind, is an archive: a file named as a workbook or
    document is read as one (a zip without its parts is a damaged one, SPEC §3)."""
    named = path.suffix.lower() == ".zip"
    if path.suffix.lower() in PACKAGE_SUFFIXES:
        return False
    if not (named or head.startswith((ZIP_MAGIC, EMPTY_ZIP))):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            names = {n.replace("\\", "/").lstrip("/").lower() for n in zf.namelist()}
    except Exception:  # noqa: BLE001 - whatever a broken zip makes zipfile raise
        return named
    return not any(p in names for p in _PACKAGES)


def expand(path: Path, limits, into: Path, *, shown: str | None = None, depth: int = 0) -> list[Member]:
    """Extract the members of ``path`` into ``into`` (made and deleted by the caller): one
    ``Member`` per member in archive order, junk (``__MACOSX``, ``~$`` lock files…) left out.
    Raises ``Unreadable`` (and nothing else) when the archive as a whole cannot be read."""
    budget = _Budget(int(limits.max_uncompressed_mb * MB), MAX_MEMBERS)
    return _expand(path, limits, into, shown or path.name, depth, budget)


def _expand(path: Path, limits, into: Path, shown: str, depth: int, budget: _Budget) -> list[Member]:
    try:
        zf = zipfile.ZipFile(path)
    except Exception:  # noqa: BLE001 - BadZipFile, OSError, ValueError, EOFError…
        head = _head(path)
        kind = next((k for magic, k in _OTHER.items() if head.startswith(magic)), "")
        if kind:
            raise Unreadable(f"这其实是{kind}，netreg 只能读取 zip 压缩包，请改用 zip 格式压缩后发送",
                             Reason.CORRUPT, "file-unsupported", kind=kind) from None
        raise Unreadable("压缩包已损坏或不是 zip 文件（内容不完整），请重新压缩后发送", Reason.CORRUPT) from None
    with zf:
        infos = zf.infolist()
        _check_sizes(infos, limits, budget)
        budget.members -= len(infos)
        members = [m for n, info in enumerate(infos, 1)
                   for m in _member(zf, info, n, limits, into, shown, depth, budget)]
    if not members:
        raise Unreadable("压缩包里没有可读取的文件（是空的）", Reason.MISSING)
    return members


def _check_sizes(infos: list[zipfile.ZipInfo], limits, budget: _Budget) -> None:
    if len(infos) > budget.members:
        raise Unreadable(f"压缩包里的文件过多（{len(infos)} 个，上限 {MAX_MEMBERS} 个），疑似异常文件，已跳过",
                         Reason.TOO_LARGE)
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > min(limits.max_uncompressed_mb * MB, budget.bytes):
        raise Unreadable(f"压缩包解压后过大（{total / MB:.0f} MB，合计上限 {limits.max_uncompressed_mb:g} MB），"
                         "疑似异常文件，已跳过", Reason.TOO_LARGE)
    if total > RATIO_FLOOR and total / packed > limits.max_compression_ratio:
        raise Unreadable(f"压缩包的压缩比异常（约 {total / packed:.0f} 倍），疑似压缩炸弹，已跳过", Reason.TOO_LARGE)


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, n: int, limits, into: Path, shown: str,
            depth: int, budget: _Budget) -> list[Member]:
    name = _name(info)
    parts = [p for p in name.split("/") if p not in ("", ".")]
    mode = info.external_attr >> 16
    if name.endswith("/") or stat.S_ISDIR(mode) or not parts:
        return []
    label = f"{shown}/{'/'.join(parts)}"

    def refused(text: str, reason: Reason) -> list[Member]:
        return [Member(label, None, Unreadable(text, reason))]

    if name.startswith("/") or _DRIVE.match(name) or ".." in parts:
        return refused(f"压缩包里的文件名“{name}”指向压缩包以外的位置，已拒绝读取", Reason.MALICIOUS)
    base = parts[-1]
    if "__MACOSX" in parts or base.startswith((".", "~$")) or base.lower() in _JUNK:
        return []  # Mac resource forks, hidden files, Office/LibreOffice lock files
    if stat.S_ISLNK(mode):
        return refused(f"压缩包里的“{name}”是一个符号链接（指向别处），已拒绝读取", Reason.MALICIOUS)
    if info.flag_bits & 0x1:
        return refused(f"压缩包设置了密码，无法读取其中的“{name}”，请去掉密码后重新压缩发送", Reason.ENCRYPTED)
    cap = int(limits.max_file_mb * MB)
    if info.file_size > cap:
        return refused(f"压缩包里的“{name}”解压后过大（{info.file_size / MB:.0f} MB，上限 "
                       f"{limits.max_file_mb:g} MB），已跳过", Reason.TOO_LARGE)
    suffix = PurePosixPath(base).suffix.lower()
    target = into / f"{n:04d}{suffix if _EXT.fullmatch(suffix) else ''}"
    try:
        head = _copy(zf, info, target, cap, budget, name, limits)
    except Unreadable as exc:
        target.unlink(missing_ok=True)
        return [Member(label, None, exc)]
    except NotImplementedError:  # deflate64, bzip2 variants zipfile lacks…
        target.unlink(missing_ok=True)
        return refused(f"压缩包里的“{name}”使用了不支持的压缩方式，请用普通 zip 格式重新压缩后发送", Reason.CORRUPT)
    except Exception:  # noqa: BLE001 - bad CRC, truncated stream, zlib errors, I/O errors
        target.unlink(missing_ok=True)
        return refused(f"压缩包里的“{name}”已损坏（内容不完整或校验失败），请重新压缩后发送", Reason.CORRUPT)
    if not is_archive(head, target):
        return [Member(label, target, None)]
    try:
        if depth >= MAX_DEPTH:
            return refused(f"压缩包嵌套过深（压缩包里套压缩包超过 {MAX_DEPTH} 层），“{name}”未读取，"
                           "请把文件直接放进一个压缩包", Reason.TOO_LARGE)
        sub = into / f"{n:04d}-zip"
        sub.mkdir()
        return _expand(target, limits, sub, label, depth + 1, budget)
    except Unreadable as exc:
        return [Member(label, None, exc)]
    finally:
        target.unlink(missing_ok=True)  # its members are extracted; the copy is not needed


def _copy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, cap: int, budget: _Budget,
          name: str, limits) -> bytes:
    """Stream one member to ``target``, counting (zipfile trusts the declared size)."""
    head, written = b"", 0
    with zf.open(info) as src, open(target, "xb") as dst:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            budget.bytes -= len(chunk)
            if written > cap:
                raise Unreadable(f"压缩包里的“{name}”解压后超过 {limits.max_file_mb:g} MB 的上限，已跳过",
                                 Reason.TOO_LARGE)
            if budget.bytes < 0:
                raise Unreadable(f"压缩包解压后的合计大小超过 {limits.max_uncompressed_mb:g} MB 的上限，"
                                 f"“{name}”未读取", Reason.TOO_LARGE)
            if len(head) < HEAD_BYTES:
                head += chunk[:HEAD_BYTES - len(head)]
            dst.write(chunk)
    if written != info.file_size:  # a shorter stream that zipfile accepted
        raise zipfile.BadZipFile(f"{written} bytes, {info.file_size} declared")
    return head


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(8)
    except OSError:
        return b""


def _name(info: zipfile.ZipInfo) -> str:
    """The member's name as its maker meant it: without the UTF-8 flag zipfile decoded it as
    cp437, but Chinese Windows wrote GBK (and some tools UTF-8 without the flag)."""
    name = info.orig_filename  # before zipfile's own separator and NUL handling
    if info.flag_bits & 0x800:
        raw = name.encode("utf-8")
    else:
        raw = name.encode("cp437")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            name = raw.decode("gb18030", "replace")
    name = _unicode_path(info.extra, raw) or name
    return unicodedata.normalize("NFC", name.split("\0")[0].replace("\\", "/"))


def _unicode_path(extra: bytes, raw: bytes) -> str | None:
    """The Info-ZIP Unicode Path extra field (0x7075), when it belongs to this very name."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4:at + 4 + size]
        if kind == 0x7075 and len(body) > 5 and body[0] == 1 and body[1:5] == struct.pack("<I", zlib.crc32(raw)):
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        at += 4 + size
    return None
