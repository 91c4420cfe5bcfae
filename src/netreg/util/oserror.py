"""What went wrong with a file, in Chinese: the operating system's own text (strerror) is
English on Linux and in the console's code page on Windows."""

from __future__ import annotations

import errno
from pathlib import Path

_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中有一部分不是文件夹",
    errno.EACCES: "没有权限（如果文件正在 Excel 或 WPS 中打开，请先关闭它）",
    errno.EPERM: "没有权限（如果文件正在 Excel 或 WPS 中打开，请先关闭它）",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "这个位置是只读的",
    errno.ENAMETOOLONG: "文件名或路径太长",
    errno.EEXIST: "已有同名文件",
    errno.EBUSY: "文件正被其他程序使用（如 Excel、WPS），请先关闭它",
}


def os_reason(exc: OSError) -> str:
    """One Chinese phrase for ``exc``; Windows' sharing violation (WinError 32/33) included."""
    if getattr(exc, "winerror", None) in (32, 33):
        return "文件正被其他程序使用（如 Excel、WPS），请先关闭它"
    return _REASONS.get(exc.errno, "无法访问（系统错误）")


def os_target(exc: OSError, default: object) -> str:
    """The file an error is about, as the user named it (not netreg's temporary file)."""
    for name in (exc.filename2, exc.filename):
        if name and not Path(str(name)).name.startswith(".netreg-"):
            return str(name)
    return str(default)
