"""Where every unit stands on a day (``netreg status``), and one unit's story (``netreg history``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ..config import Campaign
from ..model.issues import Issue
from ..model.report import UNIT_STATE_LABEL, UnitStatus, unit_statuses
from .counting import CampaignView, Round, campaign_report, correction_late, is_late, rounds
from .ledger import Ledger, Submission


@dataclass
class UnitRow:
    status: UnitStatus
    late: bool
    paper: date | None
    submissions: int
    last_received: datetime | None
    changes: Round | None  # since its previous submission
    correction_late: bool = False
    listed: bool = True  # on the unit list (a unit that is not is shown apart, with a warning)

    def to_dict(self) -> dict:
        s = self.status
        return {"unit": s.unit, "status": UNIT_STATE_LABEL[s.state], "state": str(s.state), "late": self.late,
                "correction_late": self.correction_late, "listed": self.listed,
                "paper": self.paper.isoformat() if self.paper else None, "submissions": self.submissions,
                "last_received": self.last_received.isoformat(sep=" ") if self.last_received else None,
                "errors": s.errors, "warnings": s.warnings,
                "fixed": len(self.changes.fixed) if self.changes else 0,
                "open": len(self.changes.open) if self.changes else 0,
                "new": len(self.changes.new) if self.changes else 0}


@dataclass
class Status:
    as_of: date
    deadline: date | None
    rows: list[UnitRow]
    view: CampaignView
    unassigned: list[Submission] = field(default_factory=list)  # recorded with no unit

    def to_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "deadline": self.deadline.isoformat() if self.deadline else None,
                "units": [r.to_dict() for r in self.rows]}


def campaign_status(ledger: Ledger, config: Campaign, units: list[str], as_of: date | None = None,
                    view: CampaignView | None = None) -> Status:
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


@dataclass
class History:
    unit: str
    submissions: list[tuple[Submission, str]]  # with its state (counted, superseded…)
    rounds: list[Round]
    states: dict[int, str] = field(default_factory=dict)  # file id -> its state
    messages: list[tuple] = field(default_factory=list)  # (sender, subject, received) of messages without files
    letters: list[tuple] = field(default_factory=list)  # (sent_at, kind, subject, error)
    overrides: dict[int, list[tuple[str, str, str]]] = field(default_factory=dict)  # sid -> (action, reason, at)

    def to_dict(self) -> dict:
        def issues(items: list[Issue]) -> list[dict]:
            return [i.to_dict() for i in items]

        return {"unit": self.unit,
                "submissions": [{"id": s.id, "received": s.received.isoformat(sep=" "), "sender": s.sender,
                                 "name": s.name, "forms": sorted(s.forms), "state": state,
                                 "excluded": s.excluded,
                                 "overrides": [{"action": a, "reason": r, "at": at}
                                               for a, r, at in self.overrides.get(s.id, ())],
                                 "files": [{"file": f.name, "forms": sorted(f.forms), "state": self.states.get(f.id, "")}
                                           for f in s.files]}
                                for s, state in self.submissions],
                "rounds": [{"from": r.before, "to": r.after, "fixed": issues(r.fixed), "open": issues(r.open),
                            "new": issues(r.new)} for r in self.rounds]}


def unit_history(ledger: Ledger, config: Campaign, unit: str, as_of: date | None = None) -> History:
    from .counting import count, listed_submissions

    counting = count(listed_submissions(ledger, config))
    own = [s for s in counting.submissions if s.unit == unit]
    states = {f.id: counting.state[f.id] for s in own for f in s.files}
    return History(unit, [(s, counting.state_of(s)) for s in own], rounds(ledger, config, unit, as_of=as_of),
                   states, overrides={s.id: ledger.overrides(s.id) for s in own if ledger.overrides(s.id)})
