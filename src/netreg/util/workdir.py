"""Scratch folders inside the campaign folder (``.netreg-work/``), never in the system's temp
folder: a run that is killed cannot orphan one there for good, because the next run removes
every scratch folder whose process is gone."""

from __future__ import annotations

import os
import shutil
import secrets
from pathlib import Path

WORK = ".netreg-work"


def scratch(campaign: Path, kind: str) -> Path:
    """A new empty folder ``.netreg-work/<kind>-<pid>-<random>``; leftovers of dead runs are
    removed first. The caller removes its own folder when done."""
    root = Path(campaign) / WORK
    root.mkdir(parents=True, exist_ok=True)
    sweep(root)
    folder = root / f"{kind}-{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir()
    return folder


def sweep(root: Path) -> int:
    """Remove the scratch folders of processes that no longer run; how many were removed."""
    removed = 0
    try:
        entries = list(root.iterdir())
    except OSError:
        return 0
    for entry in entries:
        parts = entry.name.split("-")
        if len(parts) < 3 or not parts[-2].isdigit():
            continue
        pid = int(parts[-2])
        if pid != os.getpid() and not alive(pid):
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


def alive(pid: int) -> bool:
    """Whether a process with this id runs (on Windows, through OpenProcess)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class Busy(Exception):
    """Another process holds the lock."""


class exclusive:  # noqa: N801 - used as a context manager, like open()
    """An exclusive lock on ``.netreg-work/<name>.lock`` for as long as the block runs; raises
    ``Busy`` at once when another process holds it. The operating system releases it when the
    holder dies, so a killed run never leaves it taken."""

    def __init__(self, campaign: Path, name: str):
        self.path = Path(campaign) / WORK / f"{name}.lock"
        self.handle = None

    def __enter__(self) -> exclusive:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "a+b")  # noqa: SIM115 - held until __exit__
        try:
            if os.name == "nt":
                import msvcrt

                self.handle.seek(0)
                msvcrt.locking(self.handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.close()
            self.handle = None
            raise Busy(str(self.path)) from None
        return self

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.handle.close()  # closing releases the lock on both systems
            self.handle = None
