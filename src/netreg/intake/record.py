"""Received files → submissions in the ledger: each file (folders recursively, every .zip
member) stored once by content, checked, attributed to a unit and recorded, with one line
saying what became of it. A file whose bytes the ledger already holds is recorded as a
duplicate of the first, never counted twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from ..campaign.ledger import Ledger
from ..config import Campaign
from .folder import Input, collect

NEW, DUPLICATE, NO_UNIT, UNREADABLE = "新增", "重复", "无法确定单位", "无法读取"


@dataclass(frozen=True)
class Taken:
    """What became of one received file."""

    name: str
    id: int | None  # the submission's number (None: nothing could be stored)
    unit: str | None
    round: int | None  # 第 N 次报送 of its unit
    forms: frozenset[int]
    result: str  # NEW, DUPLICATE, NO_UNIT or UNREADABLE
    detail: str = ""  # why, in Chinese (the first issue of an unreadable file; the id it repeats)


def take_inputs(ledger: Ledger, inputs: list[Input], config: Campaign, units: list[str], *,
                received: Callable[[Input], datetime], sender: str | None = None, origin: str = "file",
                message: int | None = None, on_file: Callable[[Taken], None] | None = None) -> list[Taken]:
    from ..pipeline import check_file

    out = []
    for inp in inputs:
        try:
            data = None if inp.problem is not None else Path(inp.path).read_bytes()
        except OSError:
            data = None
        checked = check_file(inp, config, units, date.today())
        result = checked.result
        first = next((i.message for i in checked.issues if i.code in ("file-unreadable", "file-unsupported",
                                                                         "file-legacy-format", "netreg-output")), "")
        if data is None:
            taken = Taken(inp.shown, None, result.unit, None, frozenset(), UNREADABLE, first or "文件无法打开")
        else:
            digest, stored = ledger.keep(data, inp.shown)
            unit = inp.unit or result.unit
            state = "new" if result.ok and unit else "unknown-unit" if result.ok else "unreadable"
            with ledger.write():
                earlier = ledger.first_with(digest)
                earlier_sub = ledger.get(earlier) if earlier else None
                repeat = earlier_sub is not None and not (earlier_sub.unit is None and inp.unit)
                sid = ledger.add(received=received(inp), sender=sender, name=inp.shown, sha256=digest, size=len(data),
                                 stored=stored, format=result.format, unit=unit, unit_forced=inp.unit is not None,
                                 forms=checked.filled, state="duplicate" if repeat else state,
                                 duplicate_of=earlier if repeat else None, origin=origin, message=message)
                n = ledger.round_of(unit, sid) if unit and not repeat else None
            if repeat:
                taken = Taken(inp.shown, sid, earlier_sub.unit, None, earlier_sub.forms, DUPLICATE,
                              f"与第 {earlier} 号报送（{earlier_sub.name}）内容完全相同，不重复计入")
            elif state == "unreadable":
                taken = Taken(inp.shown, sid, unit, n, frozenset(), UNREADABLE, first)
            elif state == "unknown-unit":
                taken = Taken(inp.shown, sid, None, None, checked.filled, NO_UNIT,
                              "请用 netreg intake 文件 --unit 单位名称 重新登记")
            else:
                taken = Taken(inp.shown, sid, unit, n, checked.filled, NEW)
        out.append(taken)
        if on_file is not None:
            on_file(taken)
    return out


def take_paths(ledger: Ledger, paths: list[Path], config: Campaign, units: list[str], *,
               received: datetime | None = None, sender: str | None = None, unit: str | None = None,
               on_file: Callable[[Taken], None] | None = None) -> list[Taken]:
    """Record every file under ``paths``. Received: ``received``, else the file's (or its
    archive's) modification time."""
    inputs, loose = collect(paths, config.limits)
    out = [Taken(i.file or "", None, None, None, frozenset(), UNREADABLE, i.message) for i in loose]
    if unit is not None:
        inputs = [Input(i.path, i.shown, i.problem, unit) for i in inputs]

    def when(inp: Input) -> datetime:
        if received is not None:
            return received
        return _mtime(Path(inp.shown)) or _mtime(Path(inp.path)) or datetime.now()

    return out + take_inputs(ledger, inputs, config, units, received=when, sender=sender, on_file=on_file)


def _mtime(path: Path) -> datetime | None:
    """The modification time of ``path``, or of the archive it is a member of."""
    for p in (path, *path.parents):
        try:
            if p.is_file():
                return datetime.fromtimestamp(p.stat().st_mtime).replace(microsecond=0)
        except OSError:
            continue
    return None
