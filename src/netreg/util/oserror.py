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


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def disk_full(exc: BaseException | None) -> str | None:
    """The one line for a full disk (or an exhausted quota) anywhere in ``exc``'s chain, else
    None: an OSError ENOSPC/EDQUOT, or SQLite's "database or disk is full" (or the WAL index it
    could not grow), raised as they are or under a NetregError that named them otherwise."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and os_errno(exc) in _FULL:
            name = exc.filename2 or exc.filename
            where = f"（写入 {Path(str(name)).parent if Path(str(name)).name.startswith('.netreg-') else name} 时）" if name else ""
            return f"磁盘空间不足{where}：请腾出磁盘空间后再运行一次"
        if type(exc).__module__ == "sqlite3" and (getattr(exc, "sqlite_errorcode", None) == 13  # SQLITE_FULL
                                                  or getattr(exc, "sqlite_errorname", "") == "SQLITE_IOERR_SHMSIZE"):
            return "磁盘空间不足（写入报送台账 netreg.db 时）：请腾出磁盘空间后再运行一次"
        exc = exc.__cause__ or exc.__context__
    return None


def quiet_when_full() -> None:
    """Objects that try to flush as they are freed after a full disk (a ZipFile half written:
    "Exception ignored in ZipFile.__del__ … Errno 28") say nothing: the failure itself is
    said where it was met, once. Any other unraisable error is shown as before."""
    import sys

    previous = sys.unraisablehook
    if getattr(previous, "quiet_when_full", False):
        return

    def hook(unraisable) -> None:
        if not disk_full(unraisable.exc_value):
            previous(unraisable)

    hook.quiet_when_full = True
    sys.unraisablehook = hook
