"""Every file a unit sends → a ``Book``, or ``Unreadable`` with one Chinese line.

The registry below holds one reader per format, each in its own module and imported only
when a file needs it. A file is matched by its content (magic bytes, package parts); the
extension decides only among formats that look alike.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from .base import HEAD_BYTES, OLE2_MAGIC, ZIP_MAGIC, Book, Reason, Unreadable

# Module names in this package, in the order their ``accepts`` is asked.
REGISTRY = ("xlsx",)


def sources():
    return [import_module(f"{__name__}.{name}").SOURCE for name in REGISTRY]


def open_book(path: Path, limits) -> Book:
    """Read ``path`` with the first reader that accepts it. Raises ``Unreadable``."""
    path = Path(path)
    head = _head(path, limits)
    for source in sources():
        if source.accepts(head, path):
            return source.read(path, limits)
    raise _unknown(head, path, limits)


def _head(path: Path, limits) -> bytes:
    """The first bytes, after the checks every file passes: it opens, holds something, and
    is not larger than the limit."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise Unreadable(f"无法打开文件（{exc.strerror or exc}）", Reason.MISSING) from None
    if size == 0:
        raise Unreadable("文件是空的（0 字节）")
    if size > limits.max_file_mb * 1024 * 1024:
        raise Unreadable(f"文件过大（{size / 1048576:.0f} MB，上限 {limits.max_file_mb:g} MB）", Reason.TOO_LARGE)
    return head


def _unknown(head: bytes, path: Path, limits) -> Unreadable:
    """What to say of a file no reader accepts."""
    if head.startswith(OLE2_MAGIC):
        data = path.read_bytes()  # bounded by max_file_mb (checked in _head)
        if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
            return Unreadable("文件设置了打开密码（已加密），请取消密码后重新保存", Reason.ENCRYPTED)
        kind = "WPS 表格（.et）" if path.suffix.lower() in (".et", ".ett") else "旧版 Excel 97-2003（.xls）"
        return Unreadable("旧版格式", code="file-legacy-format", kind=kind)
    if head.startswith(ZIP_MAGIC):
        from . import guard

        guard.check_zip(path, limits)  # a broken or hostile zip says so first
        return Unreadable("压缩包里没有 Excel 工作簿（可能是 Word 或其他文件改了扩展名）")
    return Unreadable("这不是 Excel 文件（内容不是 xlsx 格式）")
