"""What a run found, frozen once built: the files, the normalised records and every issue,
and the unit statuses computed from it (never appended to it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from .forms import FORMS
from .issues import Issue, Severity, make
from .records import Record
from .store import count_severity, issue_tally, tallies


@dataclass(frozen=True)
class FileResult:
    path: str
    unit: str | None
    status: str  # ok | unreadable | unsupported (a kind netreg does not read) | skipped (a copy, netreg's own)
    forms: dict[int, tuple[str, int]]  # form id -> (sheet, data rows)
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    format: str | None = None  # xlsx, docx, csv… of a file that was read
    source: str | None = None  # where its bytes are, when not at ``path`` (an archive member)
    reader: str | None = None  # the library that read it (calamine, openpyxl, python-docx, csv)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def rows(self) -> int:
        return sum(n for _, n in self.forms.values())

    def to_dict(self) -> dict:
        return {"path": self.path, "unit": self.unit, "status": self.status, "format": self.format,
                "reader": self.reader,
                "forms": {str(k): {"sheet": s, "rows": n} for k, (s, n) in sorted(self.forms.items())},
                "errors": self.errors, "warnings": self.warnings}


@dataclass(frozen=True)
class Report:
    """What one run found: files, normalised records and every issue, in file/row order."""

    files: tuple[FileResult, ...]
    records: tuple[Record, ...]
    issues: tuple[Issue, ...]
    units: tuple[str, ...]  # the unit list the run matched against
    as_of: date
    roster: int = 0  # students' phone numbers read from the roster files

    def count(self, severity: Severity) -> int:
        return count_severity(self.issues, severity)

    @property
    def errors(self) -> int:
        return self.count(Severity.ERROR)

    @property
    def warnings(self) -> int:
        return self.count(Severity.WARNING)

    def exit_code(self, strict: bool = False) -> int:
        """0 nothing to fix; 1 errors (or warnings, ``strict``), or a unit that must fix its
        return (a blank template sent back as it was); 2 nothing could be read."""
        if not any(f.ok for f in self.files):
            return 2
        if self.errors or (strict and self.warnings):
            return 1
        return 1 if any(s.state is UnitState.FIX for s in unit_statuses(self)) else 0

    def to_dict(self, issues: bool = True) -> dict:
        units = {f.unit for f in self.files if f.unit}
        d = {
            "summary": {"files": len(self.files), "units": len(units), "rows": len(self.records),
                        "errors": self.errors, "warnings": self.warnings,
                        "infos": self.count(Severity.INFO)},
            "files": [f.to_dict() for f in self.files],
        }
        if issues:
            d["issues"] = [i.to_dict() for i in self.issues]
        return d


# ---------------------------------------------------------------------------- unit states

class UnitState(StrEnum):
    """A unit's state, in the order of precedence of SPEC §4; ``UNIT_STATE_LABEL`` is what
    people read. The values are stable names for programs and CSS classes."""

    UNREADABLE = "unreadable"
    FIX = "fix"
    INCOMPLETE = "incomplete"
    NOTHING = "nothing"
    OK = "ok"
    MISSING = "missing"

    @property
    def label(self) -> str:
        return UNIT_STATE_LABEL[self]


UNIT_STATE_LABEL = {
    UnitState.UNREADABLE: "无法读取", UnitState.FIX: "需整改", UnitState.INCOMPLETE: "需补报",
    UnitState.NOTHING: "已报送（无）", UnitState.OK: "已报送", UnitState.MISSING: "未报送",
}


@dataclass
class UnitStatus:
    unit: str
    state: UnitState
    files: list[str] = field(default_factory=list)
    rows: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    warnings: int = 0

    @property
    def label(self) -> str:
        return self.state.label

    @property
    def reported(self) -> bool:
        return self.state is not UnitState.MISSING


def unit_statuses(report: Report) -> list[UnitStatus]:
    """One status per unit: units of the list first (in list order), then units found that
    are not on it."""
    sent = [f for f in report.files if f.status != "skipped" and f.unit]  # not copies, not netreg's own
    counted = list(tallies(report.records))  # (unit, form, file, rows)
    found = {f.unit for f in sent} | {unit for unit, *_ in counted}  # a summary's rows name their units
    order = list(report.units) + sorted(found - set(report.units))
    by_unit = {u: UnitStatus(u, UnitState.MISSING) for u in order}
    for f in sent:
        by_unit[f.unit].files.append(f.path)
    for unit, form, file, n in counted:
        st = by_unit[unit]
        st.rows[form] = st.rows.get(form, 0) + n
        if file not in st.files:
            st.files.append(file)
    unanswered: dict[str, int] = {}  # forms neither filled in, declared 无 nor returned empty
    for (unit, severity, code), n in issue_tally(report.issues).items():
        if unit in by_unit:
            by_unit[unit].errors += n * (severity is Severity.ERROR)
            by_unit[unit].warnings += n * (severity is Severity.WARNING)
            if code == "form-not-found":
                unanswered[unit] = unanswered.get(unit, 0) + n
    readable = {f.unit for f in report.files if f.ok} | {unit for unit, *_ in counted}
    forms = len(FORMS)
    for st in by_unit.values():
        missing = unanswered.get(st.unit, 0)
        if not st.files:
            st.state = UnitState.MISSING
        elif st.unit not in readable:
            st.state = UnitState.UNREADABLE
        elif st.errors or (not st.rows and missing == forms):
            # A blank template sent back says nothing: 已报送（无） is for a unit that wrote 无
            # (or left a form empty beside filled ones); this one must fill in or write 无.
            st.state = UnitState.FIX
        elif missing:
            st.state = UnitState.INCOMPLETE
        elif not st.rows:
            st.state = UnitState.NOTHING
        else:
            st.state = UnitState.OK
    return list(by_unit.values())


def missing_unit_issues(statuses: list[UnitStatus]) -> list[Issue]:
    """unit-missing for each unit on the list that returned nothing (a merge lists them)."""
    return [make("unit-missing", unit=s.unit) for s in statuses if s.state is UnitState.MISSING]


@dataclass(frozen=True)
class Figures:
    """The counts the summary's charts and the HTML report show."""

    platforms: list[tuple[str, int]]  # accounts per platform, most first
    teachers: int
    students: int
    uncategorised: int
    cleaned: int
    pending: int


def chart_counts(records) -> tuple:
    """What the charts count of ``records``: accounts per platform, 网络大V per category, groups
    cleaned or not (Counters; ``figures`` adds them up), in one pass. Records kept in a store
    (a province's run on disk) are read back once, only the runs of the three forms counted."""
    from collections import Counter

    from .forms import ACCOUNTS, INFLUENCERS, ZOMBIE_GROUPS, Cleanup

    runs = getattr(records, "runs", None)
    if runs is not None:
        counted, store = (ACCOUNTS.id, INFLUENCERS.id, ZOMBIE_GROUPS.id), records.store
        records = (rec for run in runs() if run.form in counted for rec in store.load(run))
    platform = ACCOUNTS.identity.columns[0]
    flag = ZOMBIE_GROUPS.rule(Cleanup).flag
    platforms, categories, cleaned = Counter(), Counter(), Counter()
    for r in records:
        form = r.form
        if form is ACCOUNTS:
            platforms[r.values.get(platform) or "未填写"] += 1
        elif form is INFLUENCERS:
            # a person under the follower threshold is no 网络大V: not in the chart (the issue list names them)
            if not any(i.code == "below-threshold" for i in r.issues):
                categories[INFLUENCERS.category_of(r.values)] += 1
        elif form is ZOMBIE_GROUPS:
            cleaned[r.values.get(flag)] += 1
    return platforms, categories, cleaned


def figures(records) -> Figures:
    """The charts' counts of ``records``; a province's records (kept in a store, on disk)
    are counted from what each run's counts were when the run was last read
    (``RecordStore.charts``), never read back for it."""
    counts = _stored_chart_counts(records)
    if counts is None:
        counts = chart_counts(records)
    platforms, categories, cleaned = counts
    return Figures(sorted(platforms.items(), key=lambda kv: -kv[1]), categories["teacher"], categories["student"],
                   categories[None] + categories["both"], cleaned[True], cleaned[False])


def _stored_chart_counts(records) -> tuple | None:
    """``chart_counts`` of a store's live runs added up from ``RecordStore.charts``, or None
    when the records are not in a store or a run was not counted."""
    store = getattr(records, "store", None)
    if store is None:
        return None
    from collections import Counter

    total = (Counter(), Counter(), Counter())
    for run in store.live():
        counted = store.charts.get(run.chunk)
        if counted is None:
            return None
        for into, part in zip(total, counted):
            into.update(part)
    return total
