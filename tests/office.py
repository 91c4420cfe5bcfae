"""LibreOffice helpers for tests that check what a user sees in another office suite.

Missing LibreOffice skips such tests locally; in CI (CI=true) it fails them, so the checks
never silently stop running.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

TIMEOUT = 120  # seconds; a cold start with a fresh profile takes a few seconds

_profile_dir: Path | None = None


def soffice() -> str | None:
    """Path of the LibreOffice executable on PATH, or None."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_soffice() -> str:
    exe = soffice()
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice is required in CI")
        pytest.skip("LibreOffice (soffice) is not installed")
    return exe


def _profile() -> Path:
    """A private user profile, so tests neither touch nor wait for the user's own LibreOffice."""
    global _profile_dir
    if _profile_dir is None:
        _profile_dir = Path(tempfile.mkdtemp(prefix="netreg-lo-profile-"))
        atexit.register(shutil.rmtree, _profile_dir, ignore_errors=True)
    return _profile_dir


def convert(path: Path, fmt: str, outdir: Path) -> Path:
    """Convert ``path`` with LibreOffice (``fmt`` as for --convert-to, e.g. "pdf", "xlsx");
    returns the written file."""
    exe = require_soffice()
    path = Path(path).resolve()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir.resolve() / f"{path.stem}.{fmt.split(':', 1)[0]}"
    if out == path:
        raise ValueError(f"converting {path} into its own folder would overwrite it")
    out.unlink(missing_ok=True)
    cmd = [exe, "--headless", "--norestore", f"-env:UserInstallation={_profile().as_uri()}",
           "--convert-to", fmt, "--outdir", str(outdir), str(path)]
    # soffice is a wrapper that starts soffice.bin: kill the whole process group on timeout.
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=os.name == "posix") as proc:
        try:
            stdout, stderr = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            proc.communicate()
            raise
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"LibreOffice could not convert {path} to {fmt} "
                           f"(exit {proc.returncode}): {stderr or stdout}")
    return out


def html_to_docx(html: Path, outdir: Path) -> Path:
    """A Word document as LibreOffice Writer saves an HTML page: what a unit gets by pasting a
    table into Writer. Writer missing (only Calc installed) skips locally and fails in CI."""
    try:
        return convert(html, "docx:MS Word 2007 XML", outdir)
    except RuntimeError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"LibreOffice Writer cannot convert HTML to .docx here: {exc}")


def html_table(rows: list[list[str]], merged=(), struck_row: int | None = None) -> str:
    """An HTML table of ``rows`` with ``merged`` ranges (r0, c0, r1, c1; table coordinates,
    0-based) as row and column spans, line breaks kept and row ``struck_row`` struck through:
    a table as a unit pastes it into Writer (``html_to_docx``)."""
    covered, spans = set(), {}
    for r0, c0, r1, c1 in merged:
        spans[r0, c0] = (r1 - r0 + 1, c1 - c0 + 1)
        covered |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)} - {(r0, c0)}
    out = ['<table border="1">']
    for r, values in enumerate(rows):
        out.append("<tr>")
        for c, value in enumerate(values):
            if (r, c) in covered:
                continue
            rs, cs = spans.get((r, c), (1, 1))
            text = value.replace("\n", "<br>")
            if r == struck_row and text:
                text = f"<s>{text}</s>"
            out.append(f'<td rowspan="{rs}" colspan="{cs}">{text}</td>')
        out.append("</tr>")
    return "".join(out) + "</table>"
