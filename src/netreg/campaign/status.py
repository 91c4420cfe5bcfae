"""Where every unit stands on a day (``netreg status``), and one unit's story (``netreg history``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ..config import Campaign
from ..model.issues import Issue
from ..model.report import UNIT_STATE_LABEL, UnitStatus, unit_statuses
from .counting import CampaignView, Round, campaign_report, is_late, rounds
from .ledger import Ledger, Submission


@dataclass
class UnitRow:
    status: UnitStatus
    late: bool
    paper: date | None
    submissions: int
    last_received: datetime | None
    changes: Round | None  # since its previous submission

    def to_dict(self) -> dict:
        s = self.status
        return {"unit": s.unit, "status": UNIT_STATE_LABEL[s.state], "state": str(s.state), "late": self.late,
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
    as_of = as_of or date.today()
    view = view or campaign_report(ledger, config, units=units, as_of=as_of)
    subs = [s for s in view.counting.submissions if s.received.date() <= as_of]
    rows = []
    for st in unit_statuses(view.report):
        own = [s for s in subs if s.unit == st.unit and s.state != "duplicate" and s.excluded is None]
        changes = None
        if sum(1 for s in own if s.readable) > 1:
            found = rounds(ledger, config, st.unit, as_of=as_of, last_only=True)
            changes = found[-1] if found else None
        rows.append(UnitRow(st, is_late(st.unit, view, as_of), view.paper.get(st.unit), len(own),
                            max((s.received for s in own), default=None), changes))
    unassigned = [s for s in subs if s.unit is None and view.counting.state[s.id] == "unknown-unit"]
    return Status(as_of, view.deadline, rows, view, unassigned)


@dataclass
class History:
    unit: str
    submissions: list[tuple[Submission, str]]  # with its state, in Chinese
    rounds: list[Round]

    def to_dict(self) -> dict:
        def issues(items: list[Issue]) -> list[dict]:
            return [i.to_dict() for i in items]

        return {"unit": self.unit,
                "submissions": [{"id": s.id, "received": s.received.isoformat(sep=" "), "sender": s.sender,
                                 "file": s.name, "forms": sorted(s.forms), "state": state}
                                for s, state in self.submissions],
                "rounds": [{"from": r.before, "to": r.after, "fixed": issues(r.fixed), "open": issues(r.open),
                            "new": issues(r.new)} for r in self.rounds]}


def unit_history(ledger: Ledger, config: Campaign, unit: str, as_of: date | None = None) -> History:
    from .counting import count

    counting = count(ledger.submissions())
    own = [s for s in counting.submissions if s.unit == unit or (s.duplicate_of and _unit_of(counting, s.duplicate_of) == unit)]
    return History(unit, [(s, counting.state[s.id]) for s in own], rounds(ledger, config, unit, as_of=as_of))


def _unit_of(counting, sid: int) -> str | None:
    return next((s.unit for s in counting.submissions if s.id == sid), None)

