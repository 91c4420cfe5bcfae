"""``netreg remind`` and the page's 通知: who needs a letter and why, the drafts (.docx, .eml,
催报名单) and sending them once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..campaign.ledger import Ledger
from ..campaign.status import Status
from ..config import Campaign


def drafts(ledger: Ledger, config: Campaign, units: list[str], contacts, folder: Path, *,
           as_of: date | None = None, by: date | None = None, status: Status | None = None):
    """The letters of the campaign on ``as_of`` written into ``folder`` (the 完成日期 each asks
    for remembered in the ledger); ``status``: one already made for that day."""
    from ..letters import write_drafts
    from .campaign import campaign_status

    status = status or campaign_status(ledger, config, units, as_of)
    return write_drafts(status, config, contacts, folder, by=by, ledger=ledger)


@dataclass
class LetterPlan:
    letters: list  # each unit's letter as it will read (letters.plan.Letter)
    sent: dict[str, str]  # unit -> when this very letter was sent
    sender: str
    smtp: bool  # a sending server is set

    @property
    def to_go(self) -> list:
        """The letters that would be sent now: with a recipient, not sent before."""
        return [letter for letter in self.letters if letter.recipients and letter.unit not in self.sent]


def plan_sender(config: Campaign) -> str:
    """The address letters go out from."""
    from ..letters.eml import sender_of

    return sender_of(config)


def plan(ledger: Ledger, config: Campaign, contacts, status: Status) -> LetterPlan:
    """Who needs a letter and why, and which were already sent, without writing anything."""
    from ..letters.eml import sender_of
    from ..letters.plan import plan_letters
    from ..letters.send import sent_on

    letters = plan_letters(status, config, contacts)
    sent = {letter.unit: when for letter in letters if (when := sent_on(ledger, letter.key))}
    return LetterPlan(letters, sent, sender_of(config), bool(config.mail.smtp_host))


@dataclass
class Sending:
    todo: list  # letters.send items to send now
    done: list[tuple[str, str]]  # (unit, when) sent before, not sent again
    again: list[str] = field(default_factory=list)  # lines for letters whose earlier sending was not confirmed


def pending(ledger: Ledger, made) -> Sending:
    """What sending ``made`` (the drafts) would do, to list the recipients before a confirmation."""
    from ..letters import send as sending

    todo, done = sending.to_send(ledger, made)
    return Sending(todo, done, [sending.again(item) for item in todo if item.again])


def send(ledger: Ledger, config: Campaign, todo: list, password: str, on_outcome) -> tuple[list, str, bool]:
    """Send ``todo`` once each (as recorded in the ledger): the outcomes, the closing line, and
    whether every letter went. The password is used for this call only."""
    from ..letters import send as sending
    from ..letters.eml import sender_of

    outcomes, stop = sending.send_letters(ledger, config.mail, sender_of(config), todo, password,
                                          lambda o: on_outcome(sending.said(o)))
    return outcomes, sending.summary(outcomes, stop), not stop and all(o.sent for o in outcomes)
