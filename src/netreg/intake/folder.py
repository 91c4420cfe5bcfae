"""Files and folders given on the command line → ``Input``s, every file accounted for.

Folders are searched recursively and every file in them is an input (the readers say what
each one is, or name it as unsupported); only Office lock files, hidden files and the system
files Windows and macOS leave behind are passed over without a word. A .zip is opened and
each member becomes an input named ``包.zip/成员.xlsx``, under the same size limits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..model.issues import Issue, make
from ..sources.base import HEAD_BYTES, Reason, Unreadable

SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store", "ehthumbs.db"})


@dataclass(frozen=True)
class Input:
    path: Path  # the bytes on disk (an archive member: its extracted copy)
    shown: str  # the name the user knows: 回收/包.zip/医学院.xlsx
    problem: Unreadable | None = None  # refused before any reader (an archive member)
    unit: str | None = None  # the unit the coordinator gave (intake --unit, the sender's), over the content's


def displayed(path: Path) -> str:
    """The path as people read it. A name that is not valid UTF-8 (unzipped on Linux from a
    Chinese Windows zip: GBK bytes) is decoded as GB18030 instead of showing escapes."""
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = os.fsencode(text)
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            return raw.decode("utf-8", "replace")


def is_silent(name: str) -> bool:
    """Lock files (~$x.xlsx, .~lock.x#), hidden files and system files: not the unit's."""
    return name.startswith(("~$", ".")) or name.lower() in SYSTEM_FILES


class _Workdir:
    """One temporary folder per run for extracted archive members, removed at exit (the
    annotated copies are written from them after the report is built)."""

    path: Path | None = None

    def new(self) -> Path:
        if self.path is None:
            self.path = Path(tempfile.mkdtemp(prefix="netreg-"))
            atexit.register(shutil.rmtree, self.path, ignore_errors=True)
        n = sum(1 for _ in self.path.iterdir())
        sub = self.path / f"{n:04d}"
        sub.mkdir()
        return sub


_WORKDIR = _Workdir()


def collect(paths: list[Path], limits) -> tuple[list[Input], list[Issue]]:
    """Inputs in a stable order, and issues for what cannot even be looked at (a path that
    does not exist, a link, an archive that cannot be opened).

    A symbolic link is never followed, in a folder or named itself: ``ln -s /etc/shadow
    回收/x.xlsx`` would otherwise make netreg read, store and summarise a file the unit never
    sent. It is named in one line, as a link in a zip is; the other files go on. A folder named
    on the command line may itself be a link (the user chose it); the links inside are not
    followed."""
    found: list[Input] = []
    issues: list[Issue] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key in seen:
            return
        seen.add(key)
        found.extend(_expand(p, limits, issues))

    for p in paths:
        if _is_link(p) and not p.is_dir():  # a file named through a link
            if not p.name.startswith("~$"):
                issues.append(_link_issue(p))
        elif p.is_dir():
            for root, dirs, names in os.walk(p, followlinks=False):
                linked = [d for d in dirs if _is_link(Path(root) / d)]  # a link to a folder: never walked
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in linked)
                # said, unless it loops back to a folder being walked (循环 → .: nothing is missed)
                linked = [d for d in linked if not _loops_back(Path(root) / d, p)]
                for n in sorted(names + linked):
                    f = Path(root) / n
                    if is_silent(n):
                        continue
                    if _is_link(f):
                        issues.append(_link_issue(f))
                    elif f.is_file():
                        add(f)
        elif p.name.startswith("~$"):
            continue
        elif p.is_file():
            add(p)
        else:
            issues.append(make("file-unreadable", file=displayed(p), reason=Reason.MISSING,
                               problem="文件或文件夹不存在，或无法访问", advice="请检查路径是否写对。"))
    return found, issues


def _is_link(path: Path) -> bool:
    """A symbolic link (or, on Windows, a junction): never followed."""
    try:
        if path.is_symlink():
            return True
        is_junction = getattr(path, "is_junction", None)  # Python 3.12+
        return bool(is_junction and is_junction())
    except OSError:
        return False


def _loops_back(link: Path, top: Path) -> bool:
    """Whether ``link`` points back up to its own folder or one above it, inside ``top``."""
    try:
        target, here, top = link.resolve(), link.parent.resolve(), top.resolve()
    except (OSError, RuntimeError):
        return False
    return target.is_relative_to(top) and here.is_relative_to(target)


def _link_issue(path: Path) -> Issue:
    """One line for a link: where it points when that exists (refused, as a link in a zip
    is), or that it points nowhere."""
    try:
        exists = path.exists()
    except OSError:
        exists = False
    if exists:
        what = "文件夹" if path.is_dir() else "文件"
        return make("file-unreadable", file=displayed(path), reason=Reason.MALICIOUS,
                    problem=f"这是一个符号链接（指向别处的{what}），为安全起见不跟随读取",
                    advice="请把单位交回的文件本身（不是链接或快捷方式）放入文件夹。")
    return make("file-unreadable", file=displayed(path), reason=Reason.MISSING,
                problem="文件不存在或无法访问（链接指向的文件不存在）",
                advice="请把单位交回的文件本身（不是链接或快捷方式）放入文件夹。")


def _expand(path: Path, limits, issues: list[Issue]) -> list[Input]:
    """The file itself, or the members of an archive."""
    from ..sources.archive import expand, is_archive

    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return [Input(path, displayed(path))]  # the reader says why it cannot be opened
    if not is_archive(head, path):
        return [Input(path, displayed(path))]
    if path.stat().st_size > limits.max_file_mb * 1024 * 1024:
        return [Input(path, displayed(path), Unreadable(
            f"压缩包过大（{path.stat().st_size / 1048576:.0f} MB，上限 {limits.max_file_mb:g} MB）", Reason.TOO_LARGE))]
    try:
        members = expand(path, limits, _WORKDIR.new(), shown=displayed(path).replace(os.sep, "/"))
    except Unreadable as exc:
        return [Input(path, displayed(path), exc)]
    return [Input(m.path if m.path is not None else path, m.shown, m.problem) for m in members]
