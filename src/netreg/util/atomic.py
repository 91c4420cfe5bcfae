"""Atomic writes: a temp file in the target folder, then rename. A failure leaves no half file.

The temp file is named ``.netreg-<pid>-<random>.tmp``. A run killed between the two (kill -9,
power cut) leaves it behind; the next write into the same folder removes every such file whose
process no longer runs (or, without a process id, written by an older netreg, any older than
STALE_SECONDS), once per folder and process."""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from . import faults

PREFIX = ".netreg-"
SUFFIX = ".tmp"
STALE_SECONDS = 3600  # a temp file without a process id: left by a killed run after this long
OLD_SECONDS = 24 * 3600  # with the id of a running process (reused by another program): after this long
_swept: set[str] = set()


@contextmanager
def atomic_path(target: Path):
    """Yield a temporary path next to ``target``; on success it replaces ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_once(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{PREFIX}{os.getpid()}-", suffix=SUFFIX)
    os.close(fd)
    try:
        yield Path(tmp)
        faults.point("atomic-write", target.parent.name)  # killed here: the temp file is left
        # mkstemp creates 0600; give the file the permissions a plain open() would
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def sweep_once(folder: Path) -> None:
    """``sweep(folder)`` the first time this process writes there."""
    key = os.path.abspath(folder)
    if key not in _swept:
        _swept.add(key)
        sweep(folder)


def sweep(folder: Path) -> int:
    """Remove the temp files of killed runs in ``folder``; how many were removed. Never one
    of a process that runs (another netreg writing there now), never anything else."""
    from .workdir import alive

    removed = 0
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if not (name.startswith(PREFIX) and name.endswith(SUFFIX)):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        pid_text = name[len(PREFIX):-len(SUFFIX)].partition("-")
        pid = int(pid_text[0]) if pid_text[1] and pid_text[0].isdigit() else None
        if pid is None:
            stale = age > STALE_SECONDS
        elif pid == os.getpid():
            continue
        else:
            stale = not alive(pid) or age > OLD_SECONDS
        if stale:
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError:
                pass
    return removed
