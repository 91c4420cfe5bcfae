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
