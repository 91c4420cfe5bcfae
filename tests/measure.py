"""Reading one file in a fresh interpreter, timed, with its own peak memory (VmHWM: ru_maxrss
survives exec and would report pytest's), for the tests of hostile files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import resource, sys, time
if {cap_gb}:
    resource.setrlimit(resource.RLIMIT_AS, ({cap_gb} << 30, {cap_gb} << 30))  # a miss aborts here, not the machine
from pathlib import Path
from netreg.config import Limits
from netreg.sources.{module} import SOURCE
from netreg.sources.base import Unreadable
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
start = time.perf_counter()
try:
    book = SOURCE.read(Path(sys.argv[1]), Limits())
    outcome = {describe}
except Unreadable as exc:
    outcome = exc.reason.value
print(outcome, time.perf_counter() - start, peak_mb())
"""


def measured_read(module: str, path: Path, describe: str = '"read"', cap_gb: int = 0) -> tuple[str, float, int]:
    """(outcome, seconds, peak RSS in MB) of ``sources.<module>.SOURCE.read(path)``; ``describe``
    is a Python expression of ``book`` for a file that was read."""
    pytest.importorskip("resource")
    code = SCRIPT.format(module=module, describe=describe, cap_gb=cap_gb)
    run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    outcome, seconds, rss = run.stdout.split()
    return outcome, float(seconds), int(rss)
