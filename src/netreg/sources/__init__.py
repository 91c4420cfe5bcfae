"""Every file a unit sends → a ``Book``, or ``Unreadable`` with one Chinese line.

The registry below holds one reader per format, each in its own module and imported only
when a file needs it. A file is matched by its content (magic bytes, package parts); the
extension decides only among formats that look alike. A file no reader takes is named:
an old binary Word file, a PDF scan, a picture, a RAR archive… with what to send instead.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from ..util.oserror import os_reason
from .base import HEAD_BYTES, OLE2_MAGIC, ZIP_MAGIC, Book, Reason, Unreadable

# Module names in this package, in the order their ``accepts`` is asked: the office
# packages first (by their parts), csv last (it accepts by extension).
REGISTRY = ("xlsx", "docx", "calamine", "delimited")

READ_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlt", ".et", ".ett", ".ods", ".xlsb",
                           ".docx", ".docm", ".csv", ".tsv"})
# (magic bytes, what the file is) for kinds netreg does not read
_UNSUPPORTED = (
    (b"%PDF", "PDF 文件（可能是盖章纸质版的扫描件）"),
    (b"\x89PNG", "图片（PNG）"),
    (b"\xff\xd8\xff", "图片（JPG）"),
    (b"GIF8", "图片（GIF）"),
    (b"BM", "图片（BMP）"),
    (b"II*\x00", "图片（TIFF）"),
    (b"MM\x00*", "图片（TIFF）"),
    (b"RIFF", "图片或音视频文件"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"{\\rtf", "RTF 文档"),
    (b"<!DOCTYPE html", "网页文件（HTML）"),
    (b"<html", "网页文件（HTML）"),
)
_BY_EXTENSION = {
    ".pdf": "PDF 文件", ".ofd": "OFD 版式文件", ".jpg": "图片", ".jpeg": "图片", ".png": "图片",
    ".heic": "图片", ".webp": "图片", ".rar": "RAR 压缩包", ".7z": "7z 压缩包", ".pptx": "PowerPoint 演示文稿",
    ".ppt": "PowerPoint 演示文稿", ".odt": "OpenDocument 文字文档", ".html": "网页文件", ".htm": "网页文件",
    ".mht": "网页文件", ".mhtml": "网页文件", ".xml": "XML 文件", ".wps": "WPS 文字文档",
}


def sources():
    return [import_module(f"{__name__}.{name}").SOURCE for name in REGISTRY]


def open_book(path: Path, limits) -> Book:
    """Read ``path`` with the first reader that accepts it. Raises ``Unreadable``."""
    from .guard import session

    path = Path(path)
    head, data = _head(path, limits)
    with session(path, data):  # a package is opened once, by the first reader that looks into it
        for source in sources():
            if source.accepts(head, path):
                return source.read(path, limits)
    raise _unknown(head, path, limits)


def _head(path: Path, limits) -> tuple[bytes, bytes | None]:
    """The first bytes, after the checks every file passes: it opens, holds something, and
    is not larger than the limit; and the whole file when it is a small zip package (read
    once: its readers take it from there, ``guard.session``)."""
    from .guard import IN_MEMORY

    data = None
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
            if head.startswith(ZIP_MAGIC) and size <= IN_MEMORY:
                data = head + fh.read()
    except OSError as exc:
        raise Unreadable(f"无法打开文件（{os_reason(exc)}）", Reason.MISSING) from None
    if size == 0:
        raise Unreadable("文件是空的（0 字节）")
    if size > limits.max_file_mb * 1024 * 1024:
        raise Unreadable(f"文件过大（{size / 1048576:.0f} MB，上限 {limits.max_file_mb:g} MB）", Reason.TOO_LARGE)
    return head, data


def unsupported(text: str) -> Unreadable:
    return Unreadable(text, code="file-unsupported", kind=text)


def _unknown(head: bytes, path: Path, limits) -> Unreadable:
    """What to say of a file no reader accepts."""
    suffix = path.suffix.lower()
    if head.startswith(OLE2_MAGIC):
        from .ole2 import ole2_kind

        kind = ole2_kind(path, limits.max_file_mb)
        if kind == "encrypted":
            return Unreadable("文件设置了打开密码（已加密），请取消密码后重新保存", Reason.ENCRYPTED)
        if kind in ("doc", "wps"):
            what = "WPS 文字文档（.wps）" if kind == "wps" or suffix == ".wps" else "旧版 Word 文档（.doc）"
            return Unreadable("旧版格式", code="file-legacy-format", kind=what)
        return unsupported("Office 旧版文件，但不是 Excel 或 Word 文档")
    for magic, what in _UNSUPPORTED:
        if head.startswith(magic) or head.lstrip()[:len(magic)].lower() == magic.lower():
            return unsupported(what)
    if head.startswith(ZIP_MAGIC):
        from . import guard

        guard.check_zip(path, limits, sheets=False)  # a broken or hostile zip says so first
        if suffix in _BY_EXTENSION:
            return unsupported(_BY_EXTENSION[suffix])
        if suffix in READ_SUFFIXES:  # never an archive (archive.is_archive): a damaged workbook
            word = suffix.startswith((".doc", ".dot"))
            return Unreadable(f"文件名是 {suffix}，但里面没有 {'Word 文档' if word else 'Excel 工作簿'}的内容"
                              f"（文件已损坏，或是别的文件改了扩展名），请用 {'Word' if word else 'Excel'} 或 WPS "
                              "打开后重新保存再发送")
        return unsupported("压缩包格式的文件，但不是 Excel 工作簿或 Word 文档")
    if suffix in _BY_EXTENSION:
        return unsupported(_BY_EXTENSION[suffix])
    if suffix in READ_SUFFIXES:  # named as a kind we read, but its bytes are no such file
        return Unreadable(f"文件内容不是有效的 {suffix} 文件（可能已损坏，或是别的文件改了扩展名），请重新保存后发送")
    return unsupported("无法识别的文件（不是 Excel、WPS 表格、Word 或 CSV 文件）")
