"""The pipeline behind ``netreg validate`` and ``netreg merge``: paths → Report.

files → sources (Book) → scan (located tables) → check (normalised records + issues) →
cross-file checks → one frozen Report. One bad file only ever becomes an issue; it never
stops the others.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .check.cross import CrossIndex
from .check.roster import read_roster
from .check.rows import Context, check_table
from .check.units import Attribution, unit_of
from .errors import NetregError
from .intake.folder import Input, collect
from .model import forms as F
from .model.issues import (
    Issue,
    Severity,
    form_absent,
    make,
    not_a_form,
    not_listed,
    unit_doubt,
)
from .model.records import Record
from .model.report import FileResult, Report, chart_counts
from .model.store import Issues, RecordStore
from .sources import open_book
from .sources.base import Reason, Unreadable
from .util.cells import col_letter
from .util.memory import gc_paused
from .util.oserror import os_reason

if TYPE_CHECKING:
    from .config import Campaign

PARALLEL_MIN_FILES = 24  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class FileCheck:
    """One file read and checked."""

    result: FileResult
    issues: list[Issue]
    records: list[Record]
    filled: frozenset[int]  # forms filled in, or declared empty (无)
    blank: frozenset[int]  # forms returned with nothing typed in
    sheets: tuple[str, ...]
    summary: bool = False  # a netreg summary, read as its units' rows


def check_file(inp: Input, config: Campaign, units: list[str], as_of: date) -> FileCheck:
    """Read and check one file. Never raises: a file that cannot be read becomes a file-level issue."""
    from .scan.tables import scan_book

    shown, where = inp.shown, Path(inp.shown)
    source = None if str(inp.path) == shown else str(inp.path)
    issues: list[Issue] = []
    try:
        if inp.problem is not None:
            raise inp.problem
        book = open_book(inp.path, config.limits)
        output = netreg_output(book)
        if output is None:
            scan = scan_book(book, config.headers)
    except Exception as exc:  # Unreadable, or a reader bug: it must not cost the other files
        unit = inp.unit or unit_of(where, None, units, config.school, config.aliases).unit
        if isinstance(exc, Unreadable):
            said = {"advice": ""} if "请" in exc.text else {}  # the reason already says what to do
            issues.append(make(exc.code, file=shown, unit=unit, reason=exc.reason, problem=exc.text,
                               kind=exc.kind, **said))
        else:
            from .util.debug import note

            note(exc)  # the class and traceback only with NETREG_DEBUG=1, never in the message
            issues.append(make("file-unreadable", file=shown, unit=unit, reason=Reason.CORRUPT,
                               problem="读取时发生意外错误，请把此文件发给技术人员"))
        status = "unsupported" if getattr(exc, "code", "") in ("file-unsupported", "file-legacy-format") else "unreadable"
        return FileCheck(FileResult(shown, unit, status, {}, source=source), issues, [], frozenset(), frozenset(), ())
    if output is not None:
        issues.append(make("netreg-output", file=shown, what=output))
        return FileCheck(FileResult(shown, None, "skipped", {}, format=book.format, source=source), issues, [],
                         frozenset(), frozenset(), ())
    att = unit_of(where, scan, units, config.school, config.aliases)
    unit = att.unit
    if inp.unit and not scan.summary:
        unit = inp.unit  # the coordinator said whose it is
    elif scan.summary or (not scan.tables and att.doubt is not None):
        # a summary's rows name their own units; a file with no form and no unit named is a
        # note or a list beside the forms: nobody's return
        unit = None
    elif att.doubt is not None:
        issues.append(_unit_issue(att, scan.unit_text, shown, where.name))
    version = scan.meta.get("format_version", "")
    if version.isdigit() and int(version) < F.FORMAT_VERSION:
        issues.append(make("template-outdated", file=shown, unit=unit, found=version,
                           current=F.FORMAT_VERSION))
    ctx = Context.build(config, as_of, shown, unit or "", units=tuple(units))
    forms: dict[int, tuple[str, int]] = {}
    records: list[Record] = []
    filled: set[int] = set()
    blank: set[int] = set()
    for table in scan.tables:
        recs, table_issues = check_table(table, ctx)
        issues.extend(table_issues)
        records.extend(recs)
        sheet, n = forms.get(table.form.id, (table.sheet, 0))
        forms[table.form.id] = (sheet, n + len(recs))
        (filled if recs or table.declared_empty else blank).add(table.form.id)
    for ignored in scan.unrecognised:
        if ignored.name.startswith(F.OWN_SHEETS):
            continue
        if ignored.form_like:  # a heading or title of a form above headers nobody can match
            issues.append(make("header-mismatch", file=shown, unit=unit, sheet=ignored.name, **not_a_form()))
        else:
            issues.append(make("sheet-ignored", file=shown, unit=unit, sheet=ignored.name,
                               what="表格" if scan.format == "docx" else "工作表"))
    return FileCheck(FileResult(shown, unit, "ok", forms, format=scan.format, source=source, reader=scan.reader),
                     issues, records,
                     frozenset(filled), frozenset(blank), tuple(scan.sheets), scan.summary)


_READER_MODULES = ("python_calamine", "lxml.etree", "encodings.cp437", "encodings.utf_8_sig")


def warm(config: Campaign) -> None:
    """Import here, before the workers fork, what each of them would import on its first file
    (the readers, scan, phonenumbers' China data) and build the header vocabulary: forked,
    they share it instead of each paying for it (about 0.08 CPU-s a worker). Nothing here
    reads a file; a reader that cannot be imported is left to the file that needs it."""
    from importlib import import_module

    from .check.normalize import parse_phone
    from .scan.headers import header_words, vocabulary
    from .scan.tables import scan_book  # noqa: F401
    from .sources import REGISTRY

    # the readers, and what they import when they first read (zip names, BOMs, calamine, lxml)
    for name in [f"{__package__}.sources.{n}" for n in REGISTRY] + list(_READER_MODULES):
        try:
            import_module(name)
        except Exception:  # noqa: BLE001 - reported per file, as before
            pass
    vocabulary(header_words(config.headers))
    parse_phone("0395-3136789", config.default_area_code)  # phonenumbers' CN metadata
    from .sources.guard import keep_heap

    keep_heap()  # glibc's malloc settings, inherited by the forked workers


def _unit_issue(att: Attribution, typed, shown: str, file_name: str) -> Issue:
    loc = dict(sheet=typed.sheet, row=typed.row, column=col_letter(typed.col), value=typed.text) if typed else {}
    if att.doubt == "not-listed":
        return make("unit-not-listed", file=shown, unit=att.unit, **loc, **not_listed(att.longer_of))
    return make("unit-unknown", file=shown, unit=att.unit, **loc, **unit_doubt(None, file_name))


def netreg_output(book) -> str | None:
    """修改意见表 for an annotated copy netreg wrote and nobody has edited since (its metadata
    and a fingerprint of its content say so), else None."""
    if book.meta.get("kind") == "annotated":  # as netreg wrote it; a unit that corrects our copy and sends it back is read
        digest = book.meta.get("digest")  # none: a 修改意见-only workbook, nothing of the unit's in it
        return "修改意见表" if digest is None or book.digest(F.OWN_SHEETS) == digest else None
    return None  # a summary is read as its units' rows (scan.is_summary)


def _check_all(inputs: list[Input], config: Campaign, units: list[str], as_of: date, isolate: bool = True):
    """check_file results in input order; on both cores when there are many files. While
    ``remembering``, a file already checked the same way is not read again."""
    from functools import partial

    from .util.parallel import forked_map, start_method

    memo = _MEMO
    if memo is not None:
        settings = config.model_dump_json() + repr(sorted(config.aliases.items()))
        how = (as_of, tuple(units), hashlib.sha256(settings.encode("utf-8")).hexdigest())  # once a run
        keys = [_memo_key(inp, how) for inp in inputs]
    else:
        keys = [None] * len(inputs)
    todo = [inp for inp, key in zip(inputs, keys) if key is None or key not in memo]
    if todo and start_method() == "fork":
        warm(config)
    check = partial(check_file, config=config, units=units, as_of=as_of)  # picklable: spawned workers
    results = forked_map(check, todo, PARALLEL_MIN_FILES, on_crash=crashed if isolate else None) if todo else iter(())
    for inp, key in zip(inputs, keys):
        if key is not None and key in memo:
            yield inp, _fresh(memo[key])  # a run adds to its files' issue lists: never to the memo's
            continue
        checked = next(results)
        if key is not None:
            if len(memo) >= MEMO_MAX:
                memo.clear()
            memo[key] = _fresh(checked)
        yield inp, checked
    next(results, None)  # let the pool finish and shut down here, not at interpreter exit


MEMO_MAX = 20_000  # files remembered at most (a campaign's few thousand stored files)
_MEMO: dict | None = None  # while remembering: (file, how it was checked) -> FileCheck


class remembering:  # noqa: N801 - a context manager, used like open()
    """Remember each file's check for the duration (a campaign's status validates the same
    stored files once for the board and again for every unit's rounds; ``netreg serve`` keeps
    it on). Only files whose bytes cannot change under the same name and size are meant: the
    key holds the path, size and modification time, the unit given, the day and the settings."""

    def __enter__(self):
        global _MEMO
        self.outer = _MEMO
        if _MEMO is None:
            _MEMO = {}
        return self

    def __exit__(self, *exc) -> None:
        global _MEMO
        if self.outer is None:
            _MEMO = None


def _fresh(checked: FileCheck) -> FileCheck:
    """A copy whose lists a run may add to (a file's issues, each record's: the rules across
    files add theirs there) without touching the remembered one."""
    return replace(checked, issues=list(checked.issues),
                   records=[replace(r, issues=list(r.issues)) for r in checked.records])


def remember_always() -> None:
    """Keep remembering for the life of the process (the web server)."""
    global _MEMO
    if _MEMO is None:
        _MEMO = {}


def _memo_key(inp: Input, how: tuple):
    """The file (path, size, modification time), how it is shown and whose it is, and ``how``
    the run checks (day, unit list, settings)."""
    if inp.problem is not None:
        return None
    try:
        st = Path(inp.path).stat()
    except OSError:
        return None
    return (str(inp.path), inp.shown, inp.unit, st.st_size, st.st_mtime_ns, *how)


def crashed(inp: Input) -> FileCheck:
    """A file whose reading ended the worker process (a native reader aborted): unreadable,
    and the run goes on with the other files."""
    unit = inp.unit
    issue = make("file-unreadable", file=inp.shown, unit=unit, reason=Reason.CORRUPT,
                 problem="读取它时读取程序异常退出，文件很可能已损坏",
                 advice="请单位用 Excel 或 WPS 打开后“另存为” .xlsx，再重新发送。")
    return FileCheck(FileResult(inp.shown, unit, "unreadable", {}), [issue], [], frozenset(), frozenset(), ())


def check_files(inputs: list[Input], config: Campaign, units: list[str], as_of: date) -> list[FileCheck]:
    """check_file for each input, each read where a crash costs only that file."""
    return [c for _, c in _check_all(inputs, config, units, as_of)]


def leveled(issues: list[Issue], rules: dict[str, str]) -> list[Issue]:
    """The campaign's own levels (netreg.toml [rules]): a code set to off is dropped."""
    out = []
    for issue in issues:
        level = rules.get(issue.code)
        if level == "off":
            continue
        out.append(issue if level is None or level == issue.severity else replace(issue, severity=Severity(level)))
    return out


def _check_all_reported(inputs, config, units, as_of, on_file, isolate=True):
    for inp, checked in _check_all(inputs, config, units, as_of, isolate):
        if on_file:
            on_file(inp.path)
        yield inp, checked


def _summaries_read_twice(checks: list[tuple[FileCheck, frozenset[str]]]) -> list[FileCheck]:
    """A netreg summary among the very files it was made from (汇总.xlsx left in the folder)
    would count its units' rows twice: when every unit it holds (``held``) also sent its own
    file in this run, it is named (netreg-output) instead of read."""
    own = {c.result.unit for c, _ in checks if c.result.ok and not c.summary}
    out = []
    for c, held in checks:
        if c.summary and held and held <= own:
            c = FileCheck(replace(c.result, status="skipped", forms={}),
                          [make("netreg-output", file=c.result.path, what="汇总表（其中各单位的文件也在本次读取之列）")],
                          [], frozenset(), frozenset(), ())
        out.append(c)
    return out


def _digest(path: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def _first_copies(inputs: list[Input]) -> tuple[list[Input], dict[str, str]]:
    """Inputs to read (one of each content) and, for each byte-identical copy, the file it copies."""
    first: dict[str, str] = {}
    keep, copies = [], {}
    for inp in inputs:
        digest = None if inp.problem is not None else _digest(inp.path)
        if digest is not None and digest in first:
            copies[inp.shown] = first[digest]
            continue
        if digest is not None:
            first[digest] = inp.shown
        keep.append(inp)
    return keep, copies


def validate_paths(paths: list[Path], config: Campaign, *, units: list[str] | None = None,
                   as_of: date | None = None, roster: Path | None = None,
                   on_file: Callable[[Path], None] | None = None) -> Report:
    with gc_paused():
        return _validate_paths(paths, config, units=units, as_of=as_of, roster=roster, on_file=on_file)


def validate_inputs(inputs: list[Input], config: Campaign, *, units: list[str] | None = None,
                    as_of: date | None = None, roster: Path | None = None,
                    on_file: Callable[[Path], None] | None = None, students: dict[str, str] | None = None,
                    read_before: bool = False) -> Report:
    """As ``validate_paths``, for inputs already collected (a campaign's stored submissions,
    each shown by the name it arrived with). ``read_before``: every input was read without harm
    before (a campaign's stored files that intake read): no process of its own each."""
    with gc_paused():
        return _validate_paths([], config, units=units, as_of=as_of, roster=roster, on_file=on_file, students=students,
                               isolate=not read_before,
                               collected=(list(inputs), []))


def _validate_paths(paths: list[Path], config: Campaign, *, units: list[str] | None,
                    as_of: date | None, roster: Path | None, on_file: Callable[[Path], None] | None,
                    students: dict[str, str] | None = None, isolate: bool = True,
                    collected: tuple[list[Input], list[Issue]] | None = None) -> Report:
    units = list(units if units is not None else config.units)
    as_of = as_of or date.today()
    inputs, loose = collected or collect(paths, config.limits)
    inputs, copies = _first_copies(inputs)
    base = Context.build(config, as_of)
    results: list[FileResult] = []
    store = RecordStore()  # every record, file by file: in memory, or on disk past SPILL_ROWS
    cross = CrossIndex()
    file_issues: dict[str, list[Issue]] = {}
    forms_by_unit: dict[str, set[int]] = {}  # forms a unit filled in, or declared empty (无)
    blank_by_unit: dict[str, set[int]] = {}  # forms a unit returned with nothing typed in
    first_file: dict[str, str] = {}
    sheet_rank: dict[tuple[str, str], int] = {}  # issues are listed in workbook sheet order
    checks = []
    for seq, (_, checked) in enumerate(_check_all_reported(inputs, config, units, as_of, on_file, isolate)):
        cross.add(checked.records, store.add(seq, checked.records))
        checks.append((replace(checked, records=[]), frozenset(r.unit for r in checked.records)))
    dropped = set()
    for seq, checked in enumerate(_summaries_read_twice(checks)):
        result = checked.result
        if result.status == "skipped":
            dropped.add(seq)
        file_issues[result.path] = checked.issues
        results.append(result)
        if not result.ok:
            continue
        sheet_rank.update({(result.path, name): n for n, name in enumerate(checked.sheets)})
        if result.unit is None:
            continue
        forms_by_unit.setdefault(result.unit, set()).update(checked.filled)
        blank_by_unit.setdefault(result.unit, set()).update(checked.blank)
        first_file.setdefault(result.unit, result.path)
    store.dropped = dropped
    for shown, original in copies.items():
        unit = next((r.unit for r in results if r.path == original), None)
        results.append(FileResult(shown, unit, "skipped", {}))
        file_issues[shown] = [make("file-duplicate", file=shown, unit=unit, other=original)]
    for unit, found in forms_by_unit.items():
        for form in F.FORMS:
            if form.id in found:
                continue
            blank = form.id in blank_by_unit.get(unit, ())
            if blank and found:
                # An empty table beside filled ones: nothing to register there (the notice
                # asks for 无 to be written in; say so, as information).
                file_issues[first_file[unit]].append(
                    make("form-empty", file=first_file[unit], unit=unit, form=form.id, form_name=form.name))
                continue
            # A blank template sent back as it was is no answer: the notice wants 无 written in.
            file_issues[first_file[unit]].append(
                make("form-not-found", file=first_file[unit], unit=unit, form=form.id, form_name=form.name,
                     **form_absent(blank)))
    student_roster = {}
    for r in ([roster] if roster else []) + [Path(p) for p in config.roster_files]:
        if not r.is_file():
            loose.append(make("file-unreadable", file=str(r), reason=Reason.MISSING, problem="学生花名册文件不存在",
                              advice="请检查 --roster 或 netreg.toml 中 roster_files 写的路径。"))
            continue
        try:
            student_roster.update(read_roster(r, config))
        except NetregError:
            raise  # a roster with no name or phone column: fail clearly, never check without it
        except OSError as exc:
            loose.append(make("file-unreadable", file=str(r), reason=Reason.MISSING,
                              problem=f"学生花名册无法读取（{os_reason(exc)}）", advice=""))
        except Exception:  # noqa: BLE001 - a damaged roster is one issue, never a traceback
            loose.append(make("file-unreadable", file=str(r), reason=Reason.CORRUPT,
                              problem="学生花名册文件已损坏，无法读取", advice="请重新导出花名册（.xlsx 或 .csv）。"))
    flags = cross.resolve(store, base, student_roster, students)
    if config.rules:
        loose = leveled(loose, config.rules)
    issues = Issues(loose) if store.spill.spilled else None
    every: list[Issue] = list(loose)
    order = {r.path: i for i, r in enumerate(results)}
    runs = store.file_runs()
    counted = []
    for seq, res in enumerate(results):  # one file at a time: its records' issues joined to its own
        mine = list(file_issues.get(res.path, []))
        if config.rules:
            mine = leveled(mine, config.rules)
        for run in runs.get(seq, ()):
            recs = store.load(run)
            changed = bool(config.rules)
            for p, rec in enumerate(recs):
                extra = flags.get(store.key(run, p))
                if extra:
                    rec.issues.extend(extra)
                    changed = True
                if config.rules:
                    rec.issues[:] = leveled(rec.issues, config.rules)
                mine.extend(rec.issues)
            if changed:
                store.save(run, recs)  # on disk: written anew (in memory it is the same list)
            if issues is not None:  # on disk: the charts' counts taken now, never read back for them
                store.charts[run.chunk] = chart_counts(recs)
        mine.sort(key=lambda i: (order.get(i.file, -1), sheet_rank.get((i.file, i.sheet), -1), i.row or 0,
                                 len(i.column or ""), i.column or ""))
        counted.append(replace(res, errors=sum(i.severity is Severity.ERROR for i in mine),
                               warnings=sum(i.severity is Severity.WARNING for i in mine),
                               infos=sum(i.severity is Severity.INFO for i in mine)))
        if issues is not None:
            issues.add(mine)
        else:
            every.extend(mine)
    if issues is not None:  # a province's run: the report reads its rows back from disk
        return Report(tuple(counted), store.records(), issues, tuple(units), as_of, roster=len(student_roster))
    records = tuple(rec for run in store.live() for rec in store.load(run))
    return Report(tuple(counted), records, tuple(every), tuple(units), as_of,
                  roster=len(student_roster))
