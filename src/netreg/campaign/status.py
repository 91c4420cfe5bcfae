"""What ``netreg status`` and ``netreg history`` say (made by ``app.campaign``): where every
unit stands on a day, and one unit's story."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ..model.issues import Issue
from ..model.report import UNIT_STATE_LABEL, UnitStatus
from .counting import CampaignView, Round
from .ledger import Submission


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
