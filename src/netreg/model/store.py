"""Where a run keeps its records and issues while it builds the report (issue 17).

``RecordStore`` holds each file's records as runs (consecutive records of one unit and form)
in a ``Spill``: lists in memory for a school, pickled to a temporary file past
``SPILL_ROWS`` for a province. The summary reads the runs of one form in unit order
(``Records.runs``); everything else iterates the records in file order, as it iterated the tuple.
``Issues`` is the report's issue list kept the same way, one chunk per file.

Below the limit the pipeline hands out plain tuples, exactly as before; past it, the report
holds these two, which read back one chunk at a time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator

from ..util.spill import Spill
from .issues import Issue, Severity, issue_fields, issue_of
from .records import Record

# A record's key: the number of the chunk holding it, shifted, plus its place there. Chunks are
# numbered as the records arrive, file by file, so keys sort as the records were read.
_SHIFT = 32


def _pack_issues(issues: list[Issue]) -> list[tuple]:
    return [issue_fields(i) for i in issues]


def _unpack_issues(rows: list[tuple]) -> list[Issue]:
    return [issue_of(r) for r in rows]


@dataclass(frozen=True)
class Run:
    """Consecutive records of one file, unit and form: chunk ``chunk`` of the spill."""

    seq: int  # the file's place among the files read
    file: str
    unit: str
    form: int
    chunk: int
    count: int
    extras: tuple[str, ...]  # the extra columns' names, in order of first appearance


class RecordStore:
    """A run's records, file by file; iterating gives them in file order, as the tuple did."""

    def __init__(self, limit: int | None = None):
        self.spill = Spill(limit)
        self.runs: list[Run] = []
        self.dropped: set[int] = set()  # files whose records no longer count (a summary read twice)
        self.charts: dict[int, tuple] = {}  # chunk -> report.chart_counts of its records, as they stand

    def add(self, seq: int, records: list[Record]) -> list[int]:
        """Store one file's records; returns, for each record in order, its key (``key``)."""
        keys = []
        start = 0
        for k in range(1, len(records) + 1):
            if k == len(records) or records[k].unit != records[start].unit or records[k].form is not records[start].form:
                chunk = records[start:k]
                extras = tuple(dict.fromkeys(name for rec in chunk for name in rec.extras))
                n = self.spill.add(chunk)  # the spill holds only runs: chunk n is self.runs[n]
                first = chunk[0]
                run = Run(seq, first.file, first.unit, first.form.id, n, len(chunk), extras)
                self.runs.append(run)
                keys.extend(self.key(run, p) for p in range(len(chunk)))
                start = k
        return keys

    @staticmethod
    def key(run: Run, place: int) -> int:
        """The key of the record at ``place`` in ``run``."""
        return (run.chunk << _SHIFT) + place

    def live_key(self, key: int) -> bool:
        """Whether the record of ``key`` still counts (its file was not dropped)."""
        return self.runs[key >> _SHIFT].seq not in self.dropped

    def get(self, keys: Iterable[int]) -> dict[int, Record]:
        """The records of ``keys``, each chunk read once."""
        by_chunk: dict[int, list[int]] = {}
        for key in keys:
            by_chunk.setdefault(key >> _SHIFT, []).append(key)
        out: dict[int, Record] = {}
        for n, wanted in by_chunk.items():
            chunk = self.spill.get(n)
            out.update((key, chunk[key - (n << _SHIFT)]) for key in wanted)
        return out

    def live(self) -> Iterator[Run]:
        return (r for r in self.runs if r.seq not in self.dropped)

    def file_runs(self) -> dict[int, list[Run]]:
        """Each file's runs (by its place among the files read), in order."""
        out: dict[int, list[Run]] = {}
        for run in self.live():
            out.setdefault(run.seq, []).append(run)
        return out

    def load(self, run: Run) -> list[Record]:
        return self.spill.get(run.chunk)

    def save(self, run: Run, records: list[Record]) -> None:
        self.spill.put(run.chunk, records)
        self.charts.pop(run.chunk, None)  # counted again by whoever counts it next

    def records(self) -> "Records":
        return Records(self)


class _Lazy:
    """What the report's code asks of its tuples: len, iteration, an index, ``+``, ``==``."""

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self)[index]
        if index < 0:
            index += len(self)
        return next(islice(iter(self), index, None))

    def __add__(self, other) -> "_Chain":
        return _Chain(self, tuple(other))

    def __eq__(self, other) -> bool:
        return isinstance(other, (tuple, _Lazy)) and len(other) == len(self) and all(
            a == b for a, b in zip(self, other))

    def __bool__(self) -> bool:
        return len(self) > 0

    __hash__ = None


class Records(_Lazy):
    """The records of a report, read back from a ``RecordStore`` one run at a time."""

    def __init__(self, store: RecordStore):
        self.store = store
        self._len = sum(r.count for r in store.live())

    def __iter__(self) -> Iterator[Record]:
        for run in self.store.live():
            yield from self.store.load(run)

    def runs(self) -> Iterator[Run]:
        return self.store.live()


class Issues(_Lazy):
    """A report's issues: ``head`` (in memory), then one chunk per file in a spill."""

    def __init__(self, head: list[Issue], limit: int | None = None):
        self.head = list(head)
        self.spill = Spill(limit, _pack_issues, _unpack_issues)
        self.severities = {s: 0 for s in Severity}
        self.tally: Counter = Counter()  # (unit, severity, code) -> issues: what is counted, without reading back
        self._len = 0
        self._count(self.head)

    def _count(self, issues) -> None:
        self._len += len(issues)
        _count_into(self.severities, self.tally, issues)

    def add(self, issues: list[Issue]) -> None:
        if issues:
            self.spill.add(issues)
            self._count(issues)

    def __iter__(self) -> Iterator[Issue]:
        yield from self.head
        for n in range(len(self.spill)):
            yield from self.spill.get(n)


class _Chain(_Lazy):
    """``issues + tuple(more)``: the lazy list, then ``more``."""

    def __init__(self, first: _Lazy, more: tuple):
        self.first, self.more = first, more
        self._len = len(first) + len(more)
        if hasattr(first, "severities"):  # counted once, as the list was built
            self.severities = dict(first.severities)
            self.tally = Counter(first.tally)
            _count_into(self.severities, self.tally, more)

    def __iter__(self):
        yield from self.first
        yield from self.more


def _count_into(severities: dict, tally: Counter, issues) -> None:
    """Count ``issues`` into a lazy list's severities and its (unit, severity, code) tally."""
    for i in issues:
        severities[i.severity] += 1
        tally[i.unit, i.severity, i.code] += 1


def count_severity(issues, severity: Severity) -> int:
    """Issues of ``severity``: counted once when the list was built, for a lazy list."""
    counted = getattr(issues, "severities", None)
    if counted is not None:
        return counted[severity]
    return sum(1 for i in issues if i.severity is severity)


def issue_tally(issues) -> Counter:
    """(unit, severity, code) -> how many issues: counted once as a lazy list was built (a
    province's issues are not read back from disk for it), else counted here."""
    counted = getattr(issues, "tally", None)
    if counted is not None:
        return counted
    return Counter((i.unit, i.severity, i.code) for i in issues)


def tallies(records) -> Iterator[tuple[str, int, str, int]]:
    """(unit, form id, file, rows) of the records, from a store's runs without reading them back."""
    runs = getattr(records, "runs", None)
    if runs is not None:
        for run in runs():
            yield run.unit, run.form, run.file, run.count
    else:
        for rec in records:
            yield rec.unit, rec.form.id, rec.file, 1
