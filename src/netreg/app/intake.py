"""Received files → submissions in the ledger: each file (folders recursively, every .zip
member) stored once by content, checked, attributed to a unit and recorded, with one line
saying what became of it. A file whose bytes the ledger already holds is recorded as a
duplicate of the first, never counted twice."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from ..campaign.ledger import Ledger
from ..config import Campaign
from ..intake.folder import Input, collect, displayed
from ..intake.taken import DUPLICATE, NEW, NO_UNIT, NOT_LISTED, UNREADABLE, Taken, TakenFile

@dataclass
class _File:
    inp: Input
    called: str
    data: bytes | None
    unit: str | None
    state: str  # new | unknown-unit | unreadable
    forms: frozenset[int]
    format: str | None
    first: str  # the first file-level problem, in Chinese


def take_inputs(ledger: Ledger, inputs: list[Input], config: Campaign, units: list[str], *,
                received: Callable[[list[Input]], datetime], sender: str | None = None, origin: str = "file",
                message: int | None = None, label: str = "", on_taken: Callable[[Taken], None] | None = None,
                name: Callable[[Input], str] = lambda inp: inp.shown,
                as_of: date | None = None) -> list[Taken]:
    """Record one batch (a message, an .eml, a zip, the loose files of one intake run) as
    submissions: its files split by unit, one submission per unit. A file whose unit cannot
    be told joins the batch's one unit when all the others name the same one; otherwise it is
    a submission of its own, with no unit."""
    from ..pipeline import check_files

    checks = check_files(inputs, config, units, as_of or date.today())  # a reader that aborts costs one file
    files = [_judge(inp, checked, units, name(inp)) for inp, checked in zip(inputs, checks)]
    named = {f.unit for f in files if f.unit}
    if len(named) == 1:
        only = next(iter(named))
        for f in files:
            if f.unit is None and f.data is not None:
                f.unit = only
                f.state = "new" if f.state == "unknown-unit" else f.state
    groups: dict[object, list[_File]] = {}
    for n, f in enumerate(files):
        groups.setdefault(f.unit if f.unit else ("alone", n), []).append(f)
    out = []
    for group in groups.values():
        taken = _take_group(ledger, group, units, received=received([f.inp for f in group]), sender=sender,
                            origin=origin, message=message, label=label if len(groups) == 1 else "")
        out.append(taken)
        if on_taken is not None:
            on_taken(taken)
    return out


def _judge(inp: Input, checked, units: list[str], called: str) -> _File:
    """One checked file: its bytes, its unit (a 别名 of the unit table is already that unit: the
    settings carry the table's aliases to attribution) and its state."""
    try:
        data = None if inp.problem is not None else Path(inp.path).read_bytes()
    except OSError:
        data = None
    result = checked.result
    first = next((i.message for i in checked.issues if i.code in ("file-unreadable", "file-unsupported",
                                                                     "file-legacy-format", "netreg-output")), "")
    if data is None:
        return _File(inp, called, None, inp.unit, "unreadable", frozenset(), result.format, first or "文件无法打开")
    # an unreadable file's unit can only come from its name: a listed unit's, or none;
    # a guess from the file name (unit-unknown) is no unit; a unit typed in the form is
    unit = inp.unit or (result.unit if result.unit in units or result.ok and not any(
        i.code == "unit-unknown" for i in checked.issues) else None)
    state = "new" if result.ok and unit else "unknown-unit" if result.ok else "unreadable"
    return _File(inp, called, data, unit, state, checked.filled if result.ok else frozenset(), result.format, first)


def _take_group(ledger: Ledger, group: list[_File], units: list[str], *, received: datetime, sender: str | None,
                origin: str, message: int | None, label: str) -> Taken:
    stored = {id(f): ledger.keep(f.data, f.called) for f in group if f.data is not None}
    unit = group[0].unit
    lines: list[TakenFile] = []
    with ledger.write():
        sid = ledger.add_delivery(received=received, sender=sender, origin=origin, label=label, unit=unit,
                                  message=message)
        for f in group:
            digest, kept = stored[id(f)] if f.data is not None else (hashlib.sha256(b"").hexdigest(), None)
            earlier = ledger.first_with(digest) if kept else None
            earlier_file = ledger.file(earlier) if earlier else None
            repeat = earlier_file is not None and not (earlier_file.unit is None and f.inp.unit)
            ledger.add(delivery=sid, received=received, sender=sender, name=f.called, sha256=digest,
                       size=len(f.data or b""), stored=kept, format=f.format, unit=unit,
                       unit_forced=f.inp.unit is not None, forms=f.forms,
                       state="duplicate" if repeat else f.state if kept else "unreadable",
                       duplicate_of=earlier if repeat else None, origin=origin, message=message)
            if repeat:
                lines.append(TakenFile(f.called, earlier_file.forms, DUPLICATE,
                                       f"与第 {earlier_file.delivery} 号报送的“{earlier_file.name}”内容完全相同，不重复计入"))
            elif f.state == "unreadable" or not kept:
                lines.append(TakenFile(f.called, frozenset(), UNREADABLE, f.first))
            else:
                lines.append(TakenFile(f.called, f.forms, NEW if unit else NO_UNIT))
        fresh = [t for t in lines if t.result != DUPLICATE]
        n = ledger.round_of(unit, sid) if unit and fresh else None
    forms = frozenset().union(*(t.forms for t in (fresh or lines)))
    name = label or (lines[0].name if len(lines) == 1 else f"{lines[0].name} 等 {len(lines)} 个文件")
    if not fresh:
        result, detail = DUPLICATE, lines[0].detail if len(lines) == 1 else "所有文件都已登记过，不重复计入"
    elif unit is None:
        readable = any(t.result == NO_UNIT for t in fresh)
        result = NO_UNIT if readable else UNREADABLE
        detail = "请用 netreg intake 文件 --unit 单位名称 重新登记" if readable else fresh[0].detail
    elif all(t.result == UNREADABLE for t in fresh):
        result, detail = UNREADABLE, fresh[0].detail if len(fresh) == 1 else "所有文件都无法读取"
    elif unit not in units:
        result, detail = NOT_LISTED, "未计入名单内的任何单位：请把该单位（或其别名）加入单位名单，或用 --unit 指定单位重新登记"
    else:
        result, detail = NEW, ""
    return Taken(name, sid, unit, n, forms, result, detail, tuple(lines))


def take_paths(ledger: Ledger, paths: list[Path], config: Campaign, units: list[str], *,
               received: datetime | None = None, sender: str | None = None, unit: str | None = None,
               on_taken: Callable[[Taken], None] | None = None, contacts=(),
               on_note: Callable[[str], None] | None = None) -> list[Taken]:
    """Record every file under ``paths``: each zip and each saved e-mail (.eml) one delivery,
    the loose files one delivery per unit. Received: ``received``, else an e-mail's Date,
    else the files' (or their archive's) latest modification time."""
    from ..intake.mail import is_message

    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        from ..errors import NetregError

        raise NetregError("；".join(f"“{displayed(p)}”不存在或无法访问" for p in missing) + "，请检查路径是否写对")
    inputs, loose = collect(paths, config.limits)
    out = [Taken(i.file or "", None, None, None, frozenset(), UNREADABLE, i.message) for i in loose]
    for t in out:
        if on_taken is not None:
            on_taken(t)
    batches: dict[str, list[Input]] = {}
    mails: list[Input] = []
    for i in inputs:
        i = Input(i.path, i.shown, i.problem, unit)
        if i.problem is None and str(i.path) == i.shown and is_message(Path(i.path)):
            mails.append(i)
        else:
            batches.setdefault(_archive_of(i), []).append(i)

    def when(batch: list[Input]) -> datetime:
        if received is not None:
            return received
        return max((_mtime(Path(i.shown)) or datetime.now() for i in batch), default=datetime.now())

    if received is None and on_note is not None:
        note = copy_time_note([i for b in batches.values() for i in b], config)
        if note:
            on_note(note)
    for archive, batch in batches.items():
        out += take_inputs(ledger, batch, config, units, received=when, sender=sender, on_taken=on_taken,
                           origin="zip" if archive else "file", label=_short(archive, paths) if archive else "",
                           name=lambda inp: _short(inp.shown, paths))
    for i in mails:
        out += take_eml(ledger, Path(i.path), _short(i.shown, paths), config, units, contacts, unit=unit,
                        received=received, on_taken=on_taken)
    return out


def take_eml(ledger: Ledger, path: Path, called: str, config: Campaign, units: list[str], contacts, *,
             unit: str | None = None, received: datetime | None = None,
             on_taken: Callable[[Taken], None] | None = None) -> list[Taken]:
    """A saved e-mail (.eml): its sender, its Date and its attachments, as a fetched message."""
    from ..campaign.contacts import unit_of_sender
    from ..intake.mail import parse_message

    msg = parse_message(path.read_bytes())
    when = received or (msg.received.astimezone().replace(tzinfo=None) if msg.received.tzinfo else msg.received)
    found = _take_message(ledger, config, units, msg, when, unit or unit_of_sender(msg.sender, contacts),
                          origin="eml", label=called, record=False)
    taken = found.files or [Taken(called, None, None, None, frozenset(), UNREADABLE,
                                  f"这封邮件（{msg.sender or '发件人不明'}）没有附件")]
    for t in taken:
        if on_taken is not None:
            on_taken(t)
    return taken


def _archive_of(inp: Input) -> str:
    """The archive an input was extracted from ('' for a file given or found as it is)."""
    if str(inp.path) == inp.shown:
        return ""
    parts = inp.shown.replace("\\", "/").split("/")
    for n in range(1, len(parts)):
        prefix = "/".join(parts[:n])
        if Path(prefix).is_file():
            return prefix
    return ""


def copy_time_note(inputs: list[Input], config: Campaign) -> str:
    """When the files' modification times are evidently when they were copied, not received:
    several files all within one minute, or dated after the deadline."""
    from ..campaign.counting import deadline_of

    times = sorted({t for i in inputs if (t := _mtime(Path(i.shown))) is not None})
    if not times:
        return ""
    deadline = deadline_of(config, date.today().year)
    several = len({_archive_of(i) or i.shown for i in inputs}) > 2 and (times[-1] - times[0]).total_seconds() <= 60
    late = deadline is not None and times[-1].date() > deadline
    if not (several or late):
        return ""
    why = (f"这些文件的修改时间都在 {times[0]:%Y-%m-%d %H:%M} 前后一分钟内" if several
           else f"有文件的修改时间（{times[-1]:%Y-%m-%d %H:%M}）晚于截止日期")
    return (f"注意：{why}，很可能是复制文件的时间，而不是收到的时间，会影响“逾期”的判断。"
            "请用 --received \"2025-11-20 14:30\" 写明收到时间，或把邮件另存为 .eml 文件后登记（收到时间取邮件的发送时间）")


def assign_unit(ledger: Ledger, sid: int, unit: str, config: Campaign, units: list[str]) -> list[Taken]:
    """指定单位: the files of submission ``sid`` (whose unit could not be told) recorded again for
    ``unit``, with their original received time and sender — what ``netreg intake 文件 --unit``
    does with the same files. The first record stays, as every record does."""
    sub = ledger.get(sid)
    if sub is None:
        return []
    inputs = [Input(ledger.path_of(f), f.name, None, unit) for f in sub.files if f.stored]
    return take_inputs(ledger, inputs, config, units, received=lambda _batch: sub.received, sender=sub.sender,
                       origin=sub.origin, label=sub.label, name=lambda inp: inp.shown)


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
    in 收件/ (as .eml), set aside with one line, and the next message is taken. One run at a
    time reads the mailbox (a second says so at once)."""
    from ..util.workdir import Busy, exclusive
    from ..intake.mail import MailError

    try:
        with exclusive(ledger.folder, "mailbox"):
            return _take_mail(ledger, config, units, contacts, password, on_message, ssl_context)
    except Busy:
        raise MailError("另一个 netreg 正在收取这个活动邮箱的邮件，请等它结束后再运行（同一封邮件不会重复登记）") from None


def _take_mail(ledger: Ledger, config: Campaign, units: list[str], contacts: list, password: str,
               on_message, ssl_context) -> list[Fetched]:
    from ..campaign.contacts import unit_of_sender
    from ..intake.mail import fetch_new

    folder = config.mail.folder
    out = []
    for msg in fetch_new(config.mail, password, lambda v, u: ledger.message_seen(folder, v, u),
                         ssl_context=ssl_context):
        received = msg.received.astimezone().replace(tzinfo=None) if msg.received.tzinfo else msg.received
        try:
            fetched = _take_message(ledger, config, units, msg, received, unit_of_sender(msg.sender, contacts))
        except Exception as exc:  # noqa: BLE001 - one message never stops the mailbox
            if _disk_full(exc):
                raise
            fetched = _set_aside(ledger, folder, msg, received, exc)
        out.append(fetched)
        if on_message is not None:
            on_message(fetched)
    return out


def _take_message(ledger: Ledger, config: Campaign, units: list[str], msg, received: datetime,
                  unit: str | None, *, origin: str = "mail", label: str = "", record: bool = True) -> Fetched:
    """Record one message's attachments as one delivery (one per unit, when its files name
    several). Each is written under a name of our own (``0001.xlsx``): the sender's name,
    however long or strange, is only ever shown."""
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
        message = None
        if record:
            with ledger.write():
                message = ledger.add_message(folder, msg, len(msg.attachments))
        if inputs:
            files += take_inputs(ledger, inputs, config, units, received=lambda _i: received, sender=msg.sender,
                                 origin=origin, message=message, label=label)
        if msg.left_out:
            files.append(Taken(f"其余 {msg.left_out} 个附件", None, unit, None, frozenset(), UNREADABLE,
                               f"一封邮件最多读取 {len(msg.attachments)} 个附件，其余未读取；请让单位把登记表打包成一个 zip 重新发送"))
        if record:
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
