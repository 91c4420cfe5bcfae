"""Which submissions count, and what the campaign looks like on a given day.

Per unit and per form, the latest received submission holding that form counts (a tie in
time: the one recorded later); the rest are superseded for that form. An excluded submission
never counts, a duplicate is its first copy. A unit's readable submissions that hold no form at
all (a blank template sent back) count only when the unit has sent nothing else, so that its
status still says what is wrong; a unit whose every file is unreadable is shown by its latest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from ..config import Campaign
from ..model import forms as F
from ..model.issues import Issue, make
from ..model.report import Report
from .ledger import File, Ledger, Submission

COUNTED, SUPERSEDED, EXCLUDED, DUPLICATE, UNREADABLE, NO_UNIT = (
    "counted", "superseded", "excluded", "duplicate", "unreadable", "unknown-unit")
CAMPAIGN_CODES = frozenset({"submission-late", "correction-late", "paper-missing", "file-superseded", "unit-not-listed"})
STATE_LABEL = {COUNTED: "计入", SUPERSEDED: "已被替代", EXCLUDED: "已排除", DUPLICATE: "重复",
               UNREADABLE: "无法读取", NO_UNIT: "无法确定单位"}


@dataclass(frozen=True)
class Counting:
    submissions: tuple[Submission, ...]  # deliveries, each with its files
    state: dict[int, str]  # file id -> COUNTED, SUPERSEDED…
    forms: dict[int, frozenset[int]]  # counted file id -> the forms counted from it
    later: dict[int, int]  # superseded file id -> the submission that replaced it (the latest)

    @property
    def files(self) -> list[File]:
        return [f for s in self.submissions for f in s.files]

    def counted(self) -> list[File]:
        return [f for f in self.files if self.state[f.id] == COUNTED]

    def state_of(self, sub: Submission) -> str:
        """A submission's state: counted when any of its files counts."""
        if sub.duplicate:
            return DUPLICATE
        states = [self.state[f.id] for f in sub.files if f.state != "duplicate"]
        for state in (EXCLUDED, COUNTED, SUPERSEDED, NO_UNIT, UNREADABLE):
            if state in states:
                return state
        return DUPLICATE if not states else states[0]

    def of_unit(self, unit: str) -> list[Submission]:
        """The unit's submissions that brought something (次数): not repeats, not excluded."""
        return [s for s in self.submissions if s.unit == unit and not s.duplicate and s.excluded is None]

    def get(self, sid: int) -> Submission | None:
        return next((s for s in self.submissions if s.id == sid), None)


def listed_submissions(ledger: Ledger, config: Campaign, units: list[str] | None = None) -> list[Submission]:
    """The ledger's submissions, a unit recorded by a name that the unit table now gives as an
    别名 shown as that unit (a unit not on the list, resolved by adding its alias later)."""
    from ..check.units import alias_unit

    units = list(units if units is not None else config.units)
    subs = ledger.submissions()
    if not config.aliases:
        return subs
    out = []
    for s in subs:
        named = alias_unit(s.unit, config.aliases, config.school) if s.unit and s.unit not in units else None
        if named:
            s = replace(s, unit=named, files=tuple(replace(f, unit=named) for f in s.files))
        out.append(s)
    return out


def count(subs: list[Submission] | tuple[Submission, ...], *, until: int | None = None,
          by: date | None = None) -> Counting:
    """The counting over ``subs`` (those recorded up to submission ``until`` and received by day ``by``)."""
    subs = tuple(s for s in subs if (until is None or s.id <= until) and (by is None or s.received.date() <= by))
    state: dict[int, str] = {}
    forms: dict[int, set[int]] = {}
    later: dict[int, int] = {}
    by_unit: dict[str, dict[int, list[File]]] = {}  # unit -> submission id -> its readable files
    order = {s.id: (s.received, s.id) for s in subs}
    for s in subs:
        for f in s.files:
            if f.state == "duplicate":
                state[f.id] = DUPLICATE
            elif s.excluded is not None:
                state[f.id] = EXCLUDED
            elif s.unit is None:
                state[f.id] = NO_UNIT
            elif not f.readable:
                state[f.id] = UNREADABLE
            else:
                by_unit.setdefault(s.unit, {}).setdefault(s.id, []).append(f)
    for unit, own in by_unit.items():
        ids = sorted(own, key=order.__getitem__)
        for form in F.FORMS:
            holders = [sid for sid in ids if any(form.id in f.forms for f in own[sid])]
            if holders:
                for f in own[holders[-1]]:
                    if form.id in f.forms:
                        forms.setdefault(f.id, set()).add(form.id)
        for f in own[ids[-1]]:  # the latest submission's blank files are part of what it says
            forms.setdefault(f.id, set())
        counted_ids = [sid for sid in ids if any(f.id in forms for f in own[sid])]
        for sid in ids:
            for f in own[sid]:
                if f.id in forms:
                    state[f.id] = COUNTED
                else:
                    state[f.id] = SUPERSEDED
                    later[f.id] = next((t for t in counted_ids if order[t] > order[sid]), counted_ids[-1])
    # a unit whose only submissions are unreadable: its latest shows 无法读取
    readable_units = set(by_unit)
    for s in reversed(subs):
        for f in s.files:
            if state[f.id] == UNREADABLE and s.unit not in readable_units and f.stored is not None:
                readable_units.add(s.unit)
                forms[f.id] = set()
    return Counting(subs, state, {k: frozenset(v) for k, v in forms.items()}, later)


# ------------------------------------------------------------------------------ deadline

def deadline_of(config: Campaign, year: int) -> date | None:
    """``deadline`` as a day: 2026-11-25, or as the notice writes it, 11月25日 (of ``year``)."""
    text = config.deadline.strip()
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        m = re.fullmatch(r"(\d{1,2})月(\d{1,2})日?", text)
        if m:
            return date(year, int(m[1]), int(m[2]))
    except ValueError:
        return None
    return None


# ------------------------------------------------------------------------------ the campaign's report

@dataclass(frozen=True)
class CampaignView:
    report: Report  # the counted submissions, checked, superseded forms left out
    counting: Counting
    deadline: date | None
    paper: dict[str, date]
    shown: dict[str, int]  # the name a counted file is shown by -> its file id
    asked: dict[str, tuple[date, date]] = field(default_factory=dict)  # unit -> (letter made, 完成日期)


def shown_name(f: File) -> str:
    """How a stored file is named in reports: its submission's number, then the name it arrived by."""
    return f"#{f.delivery} {f.name}"


def counted_files(ledger: Ledger, config: Campaign, units: list[str] | None, *, as_of: date,
                  until: int | None = None, only: str | None = None) -> tuple[Counting, list[File]]:
    """What counts on ``as_of`` (as recorded up to submission ``until``), and the files to check
    for it: every counted file (of unit ``only``)."""
    counting = count(listed_submissions(ledger, config, units), until=until, by=as_of)
    return counting, [f for f in counting.files if f.id in counting.forms and (only is None or f.unit == only)]


def campaign_view(ledger: Ledger, config: Campaign, counting: Counting, chosen: list[File], run: Report, *,
                  as_of: date, only: str | None, units: list[str]) -> CampaignView:
    """The campaign on ``as_of`` from ``run``, the check of ``chosen`` (``counted_files``):
    rows and issues of forms a later submission replaced left out, the campaign's own warnings added."""
    shown = {shown_name(f): f.id for f in chosen}
    by_id = {f.id: f for f in chosen}

    def keep(file: str | None, form: int | None) -> bool:
        """Not a form this file holds but a later one replaced (its rows, its issues)."""
        fid = shown.get(file or "")
        return fid is None or form is None or form not in by_id[fid].forms or form in counting.forms[fid]

    records = tuple(r for r in run.records if keep(r.file, r.form.id))
    issues = [i for i in run.issues if keep(i.file, i.form)]
    deadline = deadline_of(config, ledger.created().year)
    paper = ledger.paper()
    asked = {u: a for u, a in ledger.asked().items() if a[0] <= as_of}
    view = CampaignView(replace(run, records=records), counting, deadline, paper, shown, asked)
    issues += campaign_issues(view, as_of, config, only, units)
    return replace(view, report=replace(run, records=records, issues=tuple(issues)))


def campaign_issues(view: CampaignView, as_of: date, config: Campaign, only: str | None,
                    units: list[str]) -> list[Issue]:
    counting, deadline = view.counting, view.deadline
    out: list[Issue] = []
    reported = {s.unit for s in counting.submissions if s.unit and (only is None or s.unit == only)}
    for unit in sorted(reported, key=lambda u: (u not in units, units.index(u) if u in units else 0, u)):
        first = first_submission(counting, unit)
        latest = _latest_counted(counting, unit)
        label = shown_name(latest) if latest else None
        if first is not None and deadline is not None and first.received.date() > deadline:
            out.append(make("submission-late", file=label, unit=unit,
                            what=f"首次报送于 {first.received:%Y-%m-%d %H:%M} 收到，已逾期", deadline=deadline.isoformat()))
        if unit not in units and latest is not None:  # recorded, but on no list: said, never quietly counted
            out.append(make("unit-not-listed", file=label, unit=unit, value=unit))
        late = correction_late(unit, view, as_of)
        if late:
            out.append(make("correction-late", file=label, unit=unit, what=late, due=view.asked[unit][1].isoformat()))
        if deadline is not None and as_of > deadline and unit not in view.paper and latest is not None:
            out.append(make("paper-missing", file=label, unit=unit,
                            office=f"至{config.office}" if config.office else "交宣传统战部"))
    rounds_of: dict[str, list[int]] = {}
    for s in counting.submissions:
        if s.unit and not s.duplicate:
            rounds_of.setdefault(s.unit, []).append(s.id)
    for s in counting.submissions:
        for f in s.files:
            if counting.state[f.id] == SUPERSEDED and (only is None or s.unit == only):
                other = counting.get(counting.later[f.id])
                n = rounds_of[s.unit].index(s.id) + 1
                later_n = rounds_of[s.unit].index(other.id) + 1 if other else None
                out.append(make("file-superseded", file=shown_name(f), unit=s.unit, n=n, id=s.id,
                                received=f"{s.received:%Y-%m-%d %H:%M}",
                                forms="、".join(f"附件{x}" for x in sorted(f.forms)) or "内容",
                                later=f"第 {later_n} 次报送（编号 {other.id}）" if other else "报送"))
    return out


def nothing_counted(ledger: Ledger, view: CampaignView, as_of: date) -> str:
    """Why a campaign's run has no file to check, in one Chinese line ('' when it has one)."""
    if view.shown:
        return ""
    subs = ledger.submissions()
    if not subs:
        return "台账中还没有任何报送：请先用 netreg intake 登记收到的文件（或 netreg intake --mail 收取邮件）"
    first = min(s.received for s in subs)
    if first.date() > as_of:
        return (f"统计日期 {as_of.isoformat()} 早于台账中最早的报送（{first:%Y-%m-%d %H:%M} 收到）：那时还没有收到任何报送，"
                "请检查 --as-of")
    return ""


def first_submission(counting: Counting, unit: str) -> Submission | None:
    """The unit's first submission that brought something (repeats and excluded ones aside)."""
    own = sorted(counting.of_unit(unit), key=lambda s: (s.received, s.id))
    return own[0] if own else None


def _latest_counted(counting: Counting, unit: str) -> File | None:
    files = [f for f in counting.files if f.unit == unit and counting.state[f.id] in (COUNTED, UNREADABLE)
             and f.id in counting.forms]
    return max(files, key=lambda f: (f.received, f.id), default=None)


def is_late(unit: str, view: CampaignView, as_of: date) -> bool:
    """逾期: the unit's first submission came after the deadline, or none by then."""
    if view.deadline is None:
        return False
    first = first_submission(view.counting, unit)
    if first is None:
        return as_of > view.deadline
    return first.received.date() > view.deadline


def correction_late(unit: str, view: CampaignView, as_of: date) -> str:
    """整改逾期: a letter asked the unit for a correction by its 完成日期, and the first
    submission after the letter came later than that, or none has come and the day is past.
    The words for the issue, or '' when not late."""
    if unit not in view.asked:
        return ""
    made, due = view.asked[unit]
    after = sorted((s for s in view.counting.of_unit(unit) if s.received.date() > made), key=lambda s: s.received)
    if after:
        if after[0].received.date() > due:
            return f"整改后的登记表于 {after[0].received:%Y-%m-%d %H:%M} 收到，晚于完成日期"
        return ""
    if as_of > due:
        return f"截至 {as_of.isoformat()} 仍未按整改通知重新报送"
    return ""


# ------------------------------------------------------------------------------ rounds

def issue_key(issue: Issue, identities: dict[tuple, str]) -> tuple:
    """What an issue is about, whatever row it sits in now: form, code, the row's identity
    (its 网站名称, 平台 + 账号ID…) and the column; an issue without a row by form and code."""
    ident = identities.get((issue.file, issue.sheet, issue.row)) if issue.row else None
    if issue.row and ident is None:
        ident = f"{issue.sheet}#{issue.value or ''}"  # a row with no identity: its value
    return issue.form, issue.code, ident, issue.field if issue.row else None


def unit_issues(view: CampaignView, unit: str) -> dict[tuple, Issue]:
    """The unit's issues of a view, by key (the campaign's own late/paper/superseded left out)."""
    identities = {(r.file, r.sheet, r.row): r.form.identity_text(r.values) for r in view.report.records
                  if r.unit == unit}
    out: dict[tuple, Issue] = {}
    for i in view.report.issues:
        if i.unit == unit and i.code not in CAMPAIGN_CODES:
            out.setdefault(issue_key(i, identities), i)
    return out


@dataclass(frozen=True)
class Round:
    before: int  # submission id
    after: int
    fixed: list[Issue]
    open: list[Issue]
    new: list[Issue]
