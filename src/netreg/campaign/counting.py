"""Which submissions count, and what the campaign looks like on a given day.

Per unit and per form, the latest received submission holding that form counts (a tie in
time: the one recorded later); the rest are superseded for that form. An excluded submission
never counts, a duplicate is its first copy. A unit's readable submissions that hold no form at
all (a blank template sent back) count only when the unit has sent nothing else, so that its
status still says what is wrong; a unit whose every file is unreadable is shown by its latest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime

from ..config import Campaign
from ..model import forms as F
from ..model.issues import Issue, make
from ..model.report import Report
from .ledger import Ledger, Submission

COUNTED, SUPERSEDED, EXCLUDED, DUPLICATE, UNREADABLE, NO_UNIT = (
    "counted", "superseded", "excluded", "duplicate", "unreadable", "unknown-unit")
STATE_LABEL = {COUNTED: "计入", SUPERSEDED: "已被替代", EXCLUDED: "已排除", DUPLICATE: "重复",
               UNREADABLE: "无法读取", NO_UNIT: "无法确定单位"}


@dataclass(frozen=True)
class Counting:
    submissions: tuple[Submission, ...]
    state: dict[int, str]  # submission id -> COUNTED, SUPERSEDED…
    forms: dict[int, frozenset[int]]  # counted submission id -> the forms counted from it
    later: dict[int, int]  # superseded submission id -> the one that replaced it (the latest)

    def counted(self) -> list[Submission]:
        return [s for s in self.submissions if self.state[s.id] == COUNTED]


def count(subs: list[Submission] | tuple[Submission, ...], *, until: int | None = None,
          by: date | None = None) -> Counting:
    """The counting over ``subs`` (those recorded up to id ``until`` and received by day ``by``)."""
    subs = tuple(s for s in subs if (until is None or s.id <= until) and (by is None or s.received.date() <= by))
    state: dict[int, str] = {}
    forms: dict[int, set[int]] = {}
    later: dict[int, int] = {}
    by_unit: dict[str, list[Submission]] = {}
    for s in subs:
        if s.state == "duplicate":
            state[s.id] = DUPLICATE
        elif s.excluded is not None:
            state[s.id] = EXCLUDED
        elif s.unit is None:
            state[s.id] = NO_UNIT
        elif not s.readable:
            state[s.id] = UNREADABLE
        else:
            by_unit.setdefault(s.unit, []).append(s)
    for unit, own in by_unit.items():
        own.sort(key=lambda s: (s.received, s.id))
        for form in F.FORMS:
            holders = [s for s in own if form.id in s.forms]
            if holders:
                forms.setdefault(holders[-1].id, set()).add(form.id)
        if not forms.keys() & {s.id for s in own}:  # only blank returns: the latest shows what is wrong
            forms[own[-1].id] = set()
        newest = own[-1]
        for s in own:
            if s.id in forms:
                state[s.id] = COUNTED
            else:
                state[s.id] = SUPERSEDED
                later[s.id] = next((t.id for t in reversed(own) if t.id in forms and (t.received, t.id) > (s.received, s.id)),
                                   newest.id)
    # a unit whose only submissions are unreadable: its latest shows 无法读取
    readable_units = set(by_unit)
    for s in reversed(subs):
        if state[s.id] == UNREADABLE and s.unit not in readable_units and s.stored is not None:
            readable_units.add(s.unit)
            forms[s.id] = set()
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
    shown: dict[str, int]  # the name a counted file is shown by -> its submission id


def shown_name(sub: Submission) -> str:
    return f"#{sub.id} {sub.name}"


def campaign_report(ledger: Ledger, config: Campaign, *, units: list[str] | None = None,
                    as_of: date | None = None, until: int | None = None, only: str | None = None,
                    roster=None, on_file=None) -> CampaignView:
    """Check the counted submissions (of unit ``only``, and as recorded up to submission
    ``until``, when given) as one run, with the campaign's own warnings."""
    from ..intake.folder import Input
    from ..pipeline import validate_inputs

    as_of = as_of or date.today()
    counting = count(ledger.submissions(), until=until, by=as_of)
    chosen = [s for s in counting.submissions if s.id in counting.forms and (only is None or s.unit == only)]
    inputs = [Input(ledger.path_of(s), shown_name(s), unit=s.unit) for s in chosen]
    unit_list = list(units if units is not None else config.units)
    run = validate_inputs(inputs, config, units=[only] if only else unit_list, as_of=as_of, roster=roster,
                          on_file=on_file)
    shown = {shown_name(s): s.id for s in chosen}
    by_id = {s.id: s for s in chosen}

    def keep(file: str | None, form: int | None) -> bool:
        """Not a form this file holds but a later one replaced (its rows, its issues)."""
        sid = shown.get(file or "")
        return sid is None or form is None or form not in by_id[sid].forms or form in counting.forms[sid]

    records = tuple(r for r in run.records if keep(r.file, r.form.id))
    issues = [i for i in run.issues if keep(i.file, i.form)]
    deadline = deadline_of(config, ledger.created().year)
    paper = ledger.paper()
    issues += campaign_issues(counting, by_id, deadline, paper, as_of, config, only)
    report = replace(run, records=records, issues=tuple(issues))
    return CampaignView(report, counting, deadline, paper, shown)


def campaign_issues(counting: Counting, by_id: dict[int, Submission], deadline: date | None,
                    paper: dict[str, date], as_of: date, config: Campaign, only: str | None) -> list[Issue]:
    out: list[Issue] = []
    latest: dict[str, Submission] = {}
    for s in counting.counted():
        if s.id in by_id and (latest.get(s.unit) is None or s.received > latest[s.unit].received):
            latest[s.unit] = s
    if deadline is not None:
        for unit, s in latest.items():
            if s.received.date() > deadline:
                out.append(make("submission-late", file=shown_name(s), unit=unit,
                                what=f"的登记表于 {s.received:%Y-%m-%d %H:%M} 收到，已逾期",
                                deadline=deadline.isoformat()))
        if as_of > deadline:
            for unit in latest:
                if unit not in paper:
                    out.append(make("paper-missing", file=shown_name(latest[unit]), unit=unit,
                                    office=f"至{config.office}" if config.office else "交宣传统战部"))
    for s in counting.submissions:
        if counting.state[s.id] == SUPERSEDED and (only is None or s.unit == only):
            other = next((t for t in counting.submissions if t.id == counting.later[s.id]), None)
            out.append(make("file-superseded", file=shown_name(s), unit=s.unit, n=s.id,
                            received=f"{s.received:%Y-%m-%d %H:%M}",
                            forms="、".join(f"附件{f}" for f in sorted(s.forms)) or "内容",
                            later=shown_name(other) if other else "后来的报送"))
    return out


def is_late(unit: str, view: CampaignView, as_of: date) -> bool:
    if view.deadline is None:
        return False
    counted = [s for s in view.counting.counted() if s.unit == unit]
    if not counted:
        return as_of > view.deadline
    return max(s.received for s in counted).date() > view.deadline


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
        if i.unit == unit and i.code not in ("submission-late", "paper-missing", "file-superseded"):
            out.setdefault(issue_key(i, identities), i)
    return out


@dataclass(frozen=True)
class Round:
    before: int  # submission id
    after: int
    fixed: list[Issue]
    open: list[Issue]
    new: list[Issue]


def rounds(ledger: Ledger, config: Campaign, unit: str, *, as_of: date | None = None,
           last_only: bool = False) -> list[Round]:
    """Between each of the unit's submissions and the one before it (both as counted then):
    the issues fixed, still open and new."""
    subs = [s for s in ledger.submissions() if s.unit == unit and s.state != "duplicate" and s.excluded is None]
    ids = [s.id for s in subs]
    if last_only:
        ids = ids[-2:]
    out, previous = [], None
    for sid in ids:
        now_issues = unit_issues(campaign_report(ledger, config, as_of=as_of, until=sid, only=unit), unit)
        if previous is not None:
            before_id, before = previous
            out.append(Round(before_id, sid,
                             fixed=[i for k, i in before.items() if k not in now_issues],
                             open=[i for k, i in now_issues.items() if k in before],
                             new=[i for k, i in now_issues.items() if k not in before]))
        previous = (sid, now_issues)
    return out
