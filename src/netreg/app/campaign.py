"""The campaign's commands: what counts checked as one run (validate, merge, diff and the
page's summary use it), ``status``, ``history`` and the rounds between a unit's submissions."""

from __future__ import annotations

from datetime import date

from ..campaign.counting import (
    CampaignView,
    Round,
    campaign_view,
    correction_late,
    count,
    counted_files,
    is_late,
    listed_submissions,
    shown_name,
    unit_issues,
)
from ..campaign.ledger import Ledger
from ..campaign.status import History, Status, UnitRow
from ..config import Campaign
from ..model.report import unit_statuses


def campaign_report(ledger: Ledger, config: Campaign, *, units: list[str] | None = None,
                    as_of: date | None = None, until: int | None = None, only: str | None = None,
                    roster=None, on_file=None, students: dict[str, str] | None = None) -> CampaignView:
    """Check the counted submissions (of unit ``only``, and as recorded up to submission
    ``until``, when given) as one run, with the campaign's own warnings."""
    from ..intake.folder import Input
    from ..pipeline import validate_inputs

    as_of = as_of or date.today()
    counting, chosen = counted_files(ledger, config, units, as_of=as_of, until=until, only=only)
    inputs = [Input(ledger.path_of(f), shown_name(f), unit=f.unit) for f in chosen]
    unit_list = list(units if units is not None else config.units)
    # every file intake read without harm needs no process of its own (a reader that died on
    # one recorded it unreadable: then each file is read apart, as always)
    read_before = all(f.state == "new" for f in chosen)
    run = validate_inputs(inputs, config, units=unit_list, as_of=as_of, roster=roster,
                          on_file=on_file, students=students, read_before=read_before)
    return campaign_view(ledger, config, counting, chosen, run, as_of=as_of, only=only, units=unit_list)


def rounds(ledger: Ledger, config: Campaign, unit: str, *, as_of: date | None = None,
           last_only: bool = False, view: CampaignView | None = None, units: list[str] | None = None) -> list[Round]:
    """Between each of the unit's submissions and the one before it (both as counted then):
    the issues fixed, still open and new. Each side is a run over the unit's files; the rules
    across units see the other units' students as ``view`` (the whole campaign now) has them."""
    from ..check.cross import student_phones

    subs = [s for s in listed_submissions(ledger, config) if s.unit == unit and not s.duplicate and s.excluded is None
            and (as_of is None or s.received.date() <= as_of)]
    ids = [s.id for s in subs]
    if last_only:
        ids = ids[-2:]
    if len(ids) < 2:
        return []
    if view is None:
        view = campaign_report(ledger, config, as_of=as_of)
    students = student_phones(view.report.records, but=unit)
    out, previous = [], None
    for sid in ids:
        now_issues = unit_issues(campaign_report(ledger, config, units=units, as_of=as_of, until=sid, only=unit,
                                                 students=students), unit)
        if previous is not None:
            before_id, before = previous
            out.append(Round(before_id, sid,
                             fixed=[i for k, i in before.items() if k not in now_issues],
                             open=[i for k, i in now_issues.items() if k in before],
                             new=[i for k, i in now_issues.items() if k not in before]))
        previous = (sid, now_issues)
    return out


def campaign_status(ledger: Ledger, config: Campaign, units: list[str], as_of: date | None = None,
                    view: CampaignView | None = None) -> Status:
    """Where every unit stands on ``as_of`` (``netreg status``, the page's board, ``remind``)."""
    from ..pipeline import remembering

    with remembering():  # the rounds read again the files the board has just read
        return _campaign_status(ledger, config, units, as_of, view)


def _campaign_status(ledger: Ledger, config: Campaign, units: list[str], as_of: date | None,
                     view: CampaignView | None) -> Status:
    as_of = as_of or date.today()
    view = view or campaign_report(ledger, config, units=units, as_of=as_of)
    rows = []
    for st in unit_statuses(view.report):
        own = view.counting.of_unit(st.unit)
        changes = None
        if sum(1 for s in own if any(f.readable for f in s.files)) > 1:
            found = rounds(ledger, config, st.unit, as_of=as_of, last_only=True, view=view, units=units)
            changes = found[-1] if found else None
        rows.append(UnitRow(st, is_late(st.unit, view, as_of), view.paper.get(st.unit), len(own),
                            max((s.received for s in own), default=None), changes,
                            bool(correction_late(st.unit, view, as_of)), st.unit in units))
    rows.sort(key=lambda r: not r.listed)  # the units not on the list come last, apart
    # a submission later recorded for a unit (指定单位, intake --unit) is no longer waiting for one
    given = {f.sha256 for s in view.counting.submissions if s.unit for f in s.files}
    unassigned = [s for s in view.counting.submissions if s.unit is None and view.counting.state_of(s) == "unknown-unit"
                  and not all(f.sha256 in given for f in s.files)]
    return Status(as_of, view.deadline, rows, view, unassigned)


def unit_history(ledger: Ledger, config: Campaign, unit: str, as_of: date | None = None) -> History:
    """One unit's story (``netreg history``, the unit's page)."""
    counting = count(listed_submissions(ledger, config))
    own = [s for s in counting.submissions if s.unit == unit]
    states = {f.id: counting.state[f.id] for s in own for f in s.files}
    return History(unit, [(s, counting.state_of(s)) for s in own], rounds(ledger, config, unit, as_of=as_of),
                   states, overrides={s.id: ledger.overrides(s.id) for s in own if ledger.overrides(s.id)})
