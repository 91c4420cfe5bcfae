"""Received files → submissions in the ledger: each file (folders recursively, every .zip
member) stored once by content, checked, attributed to a unit and recorded, with one line
saying what became of it. A file whose bytes the ledger already holds is recorded as a
duplicate of the first, never counted twice."""

from __future__ import annotations

import os
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
                message: int | None = None, on_file: Callable[[Taken], None] | None = None,
                name: Callable[[Input], str] = lambda inp: inp.shown, contacts=()) -> list[Taken]:
    """Record each input (checked under its full name: a folder may name the unit)."""
    from ..pipeline import check_files

    out = []
    checks = check_files(inputs, config, units, date.today())  # a reader that aborts costs one file
    for inp, checked in zip(inputs, checks):
        try:
            data = None if inp.problem is not None else Path(inp.path).read_bytes()
        except OSError:
            data = None
        result = checked.result
        first = next((i.message for i in checked.issues if i.code in ("file-unreadable", "file-unsupported",
                                                                         "file-legacy-format", "netreg-output")), "")
        called = name(inp)
        if data is None:
            taken = Taken(called, None, result.unit, None, frozenset(), UNREADABLE, first or "文件无法打开")
        else:
            digest, stored = ledger.keep(data, called)
            # an unreadable file's unit can only come from its name: a listed unit's, or none
            # a guess from the file name (unit-unknown) is no unit; a unit typed in the form is
            unit = inp.unit or (result.unit if result.unit in units or result.ok and not any(
                i.code == "unit-unknown" for i in checked.issues) else None)
            if not inp.unit and unit not in units:  # an alias of the unit table (医学院 for 护理与医学院)
                typed = [i.value for i in checked.issues if i.code == "unit-not-listed" and i.value]
                unit = alias_unit([*typed, result.unit or "", Path(called).stem], contacts) or unit
            state = "new" if result.ok and unit else "unknown-unit" if result.ok else "unreadable"
            with ledger.write():
                earlier = ledger.first_with(digest)
                earlier_sub = ledger.get(earlier) if earlier else None
                repeat = earlier_sub is not None and not (earlier_sub.unit is None and inp.unit)
                sid = ledger.add(received=received(inp), sender=sender, name=called, sha256=digest, size=len(data),
                                 stored=stored, format=result.format, unit=unit, unit_forced=inp.unit is not None,
                                 forms=checked.filled, state="duplicate" if repeat else state,
                                 duplicate_of=earlier if repeat else None, origin=origin, message=message)
                n = ledger.round_of(unit, sid) if unit and not repeat else None
            if repeat:
                taken = Taken(called, sid, earlier_sub.unit, None, earlier_sub.forms, DUPLICATE,
                              f"与第 {earlier} 号报送（{earlier_sub.name}）内容完全相同，不重复计入")
            elif state == "unreadable":
                taken = Taken(called, sid, unit, n, frozenset(), UNREADABLE, first)
            elif state == "unknown-unit":
                taken = Taken(called, sid, None, None, checked.filled, NO_UNIT,
                              "请用 netreg intake 文件 --unit 单位名称 重新登记")
            else:
                taken = Taken(called, sid, unit, n, checked.filled, NEW)
        out.append(taken)
        if on_file is not None:
            on_file(taken)
    return out


def take_paths(ledger: Ledger, paths: list[Path], config: Campaign, units: list[str], *,
               received: datetime | None = None, sender: str | None = None, unit: str | None = None,
               on_file: Callable[[Taken], None] | None = None, contacts=()) -> list[Taken]:
    """Record every file under ``paths``. Received: ``received``, else the file's (or its
    archive's) modification time."""
    inputs, loose = collect(paths, config.limits)
    out = [Taken(i.file or "", None, None, None, frozenset(), UNREADABLE, i.message) for i in loose]
    inputs = [Input(i.path, i.shown, i.problem, unit) for i in inputs]

    def when(inp: Input) -> datetime:
        if received is not None:
            return received
        return _mtime(Path(inp.shown)) or datetime.now()  # a zip member: the zip's

    return out + take_inputs(ledger, inputs, config, units, received=when, sender=sender, on_file=on_file,
                             name=lambda inp: _short(inp.shown, paths), contacts=contacts)


def alias_unit(texts: list[str], contacts) -> str | None:
    """The unit one of ``texts`` names by an alias of the unit table, when exactly one does."""
    from ..check.units import match_unit

    for text in texts:
        found = {c.unit for c in contacts for alias in c.aliases if match_unit(text, [alias])}
        if len(found) == 1:
            return found.pop()
    return None


def _short(shown: str, paths: list[Path]) -> str:
    """The name a file arrived by: relative to the folder given (回收/医学院.xlsx → 医学院.xlsx;
    包.zip/医学院.xlsx stays so), the file's own name when a file was given."""
    for p in paths:
        base = str(p) if Path(p).is_dir() else str(Path(p).parent)
        if base not in (".", "") and shown.startswith(base.rstrip("/\\") + os.sep):
            return shown[len(base.rstrip("/\\")) + 1:]
    return shown


def _mtime(path: Path) -> datetime | None:
    """The modification time of ``path``, or of the archive it is a member of."""
    for p in (path, *path.parents):
        try:
            if p.is_file():
                return datetime.fromtimestamp(p.stat().st_mtime).replace(microsecond=0)
        except OSError:
            continue
    return None


@dataclass(frozen=True)
class Fetched:
    """One new message: who sent it, when, and what became of each attachment."""

    sender: str
    subject: str
    received: datetime
    files: list[Taken]


def take_mail(ledger: Ledger, config: Campaign, units: list[str], contacts: list, password: str, *,
              on_message: Callable[[Fetched], None] | None = None, ssl_context=None) -> list[Fetched]:
    """Fetch the messages of the campaign mailbox not yet seen and record every attachment
    (zip members included) with the message's sender and Date. A message is marked seen only
    after its attachments are recorded: a run cut short fetches it again, and its files are
    then recorded as duplicates, never lost. A message that cannot be recorded is kept whole
    in 收件/ (as .eml), set aside with one line, and the next message is taken."""
    from ..campaign.contacts import unit_of_sender
    from .mail import fetch_new

    folder = config.mail.folder
    out = []
    for msg in fetch_new(config.mail, password, lambda v, u: ledger.message_seen(folder, v, u),
                         ssl_context=ssl_context):
        received = msg.received.astimezone().replace(tzinfo=None) if msg.received.tzinfo else msg.received
        try:
            fetched = _take_message(ledger, config, units, contacts, msg, received, unit_of_sender(msg.sender, contacts))
        except Exception as exc:  # noqa: BLE001 - one message never stops the mailbox
            if _disk_full(exc):
                raise
            fetched = _set_aside(ledger, folder, msg, received, exc)
        out.append(fetched)
        if on_message is not None:
            on_message(fetched)
    return out


def _take_message(ledger: Ledger, config: Campaign, units: list[str], contacts: list, msg, received: datetime,
                  unit: str | None) -> Fetched:
    """Record one message's attachments. Each is written under a name of our own
    (``0001.xlsx``): the sender's name, however long or strange, is only ever shown."""
    import shutil

    from ..util.faults import point
    from ..util.workdir import scratch

    point("mail-message", msg.subject)
    folder = config.mail.folder
    work = scratch(ledger.folder, "mail")
    try:
        paths, names = [], {}
        for n, att in enumerate(msg.attachments, 1):
            target = work / f"{n:04d}{_suffix(att.name)}"
            target.write_bytes(att.data)
            paths.append(target)
            names[target.name] = att.name
        inputs, loose = collect(paths, config.limits) if paths else ([], [])
        inputs = [Input(i.path, _member_name(i.shown, work, names), i.problem, unit) for i in inputs]
        files = [Taken(_member_name(i.file or "", work, names), None, unit, None, frozenset(), UNREADABLE, i.message)
                 for i in loose]
        with ledger.write():
            message = ledger.add_message(folder, msg, len(msg.attachments))
        files += take_inputs(ledger, inputs, config, units, received=lambda _i: received, sender=msg.sender,
                             origin="mail", message=message, contacts=contacts)
        with ledger.write():
            ledger.message_done(message)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Fetched(msg.sender, msg.subject, received, files)


def _set_aside(ledger: Ledger, folder: str, msg, received: datetime, exc: BaseException) -> Fetched:
    """The message whole in 收件/ and marked set aside in the ledger, so that the mailbox goes on."""
    from ..util.debug import note

    note(exc)
    _digest, stored = ledger.keep(msg.raw, "message.eml")
    with ledger.write():
        rowid = ledger.add_message(folder, msg, len(msg.attachments))
        ledger.message_set_aside(rowid, stored)
    why = f"这封邮件无法登记，已原样保存为 收件/{stored}，已跳过（可另存附件后用 netreg intake 登记）"
    return Fetched(msg.sender, msg.subject, received, [Taken("（整封邮件）", None, None, None, frozenset(),
                                                             UNREADABLE, why)])


def _disk_full(exc: BaseException) -> bool:
    import errno

    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _suffix(name: str) -> str:
    import re

    suffix = Path(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def _member_name(shown: str, work: Path, names: dict[str, str]) -> str:
    """附件名 or 附件名.zip/成员: the name as it arrived, for our own name in the work folder."""
    shown, base = shown.replace("\\", "/"), str(work).replace("\\", "/")
    rest = shown[len(base):].lstrip("/") if shown.startswith(base) else shown
    ours, sep, tail = rest.partition("/")
    return names.get(ours, ours) + sep + tail
