"""What went wrong with a file, in Chinese: the operating system's own text (strerror) is
English on Linux and in the console's code page on Windows."""

from __future__ import annotations

import errno
from pathlib import Path

# Windows refuses to replace a workbook open in Excel or WPS: access denied (5) or a sharing
# violation (32/33). Both are the coordinator's to fix with one click.
_LOCKED = "拒绝访问；如果此文件正在 Excel 或 WPS 中打开，请先在 Excel/WPS 中关闭此文件"
_IN_USE = "文件正被其他程序使用，请先在 Excel/WPS 中关闭此文件"

_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中有一部分不是文件夹",
    errno.EACCES: _LOCKED,
    errno.EPERM: _LOCKED,
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "这个位置是只读的",
    errno.ENAMETOOLONG: "文件名或路径太长",
    errno.EEXIST: "已有同名文件",
    errno.EBUSY: _IN_USE,
}


def os_reason(exc: OSError) -> str:
    """One Chinese phrase for ``exc``; Windows' sharing violation (WinError 32/33) included."""
    if getattr(exc, "winerror", None) in (32, 33):
        return _IN_USE
    return _REASONS.get(os_errno(exc), "无法访问（系统错误）")


def os_errno(exc: OSError) -> int | None:
    """The error number, also of an error raised in Rust (python-calamine: errno None, the
    number only in its text, "No such file or directory (os error 2)")."""
    if exc.errno is None:
        import re

        found = re.search(r"\(os error (\d+)\)", str(exc))
        return int(found.group(1)) if found else None
    return exc.errno


def os_target(exc: OSError, default: object) -> str:
    """The file an error is about, as the user named it (not netreg's temporary file)."""
    for name in (exc.filename2, exc.filename):
        if name and not Path(str(name)).name.startswith(".netreg-"):
            return str(name)
    return str(default)
