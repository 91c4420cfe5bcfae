"""Letters to the units (``netreg remind``): who needs chasing (``plan``), the Word letter
(``docx``), the e-mail draft (``eml``), 催报名单.xlsx (``roster``) and sending (``send``).

``write_drafts`` writes them all into one folder; nothing heavy is imported until it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import EmailMessage

    from ..campaign.contacts import Contact
    from ..campaign.status import Status
    from ..config import Campaign
    from .plan import Letter

KINDS = ("催报", "整改")


@dataclass
class Drafts:
    folder: Path
    letters: list[Letter]
    docx: dict[str, Path] = field(default_factory=dict)  # unit -> the letter
    eml: dict[str, Path] = field(default_factory=dict)  # unit -> the draft (units with an address)
    messages: dict[str, EmailMessage] = field(default_factory=dict)
    attached: dict[str, list[str]] = field(default_factory=dict)  # unit -> names of the files attached
    roster: Path | None = None
    failed: list[tuple[str, str]] = field(default_factory=list)  # (unit, why) for a workbook not attached
    stale: list[Path] = field(default_factory=list)  # letters of an earlier run not rewritten now


def write_drafts(status: Status, config: Campaign, contacts: list[Contact], folder: Path, *,
                 by: date | None = None, ledger=None) -> Drafts:
    """For every unit that needs chasing: ``<unit>-催报通知.docx`` or ``-整改通知.docx`` and,
    when the unit list gives an address, the .eml; and 催报名单.xlsx. With ``ledger``, the
    完成日期 of each letter that asks for a correction is remembered (整改逾期 is judged by it;
    a letter with the same content made again keeps the first one's date)."""
    import tempfile

    from ..excel.cells import safe_name
    from .docx import write_docx
    from .eml import draft, write_eml
    from .plan import RECTIFY, plan_letters, without_annotated_copy
    from .roster import NAME, write_roster

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    drafts = Drafts(folder, plan_letters(status, config, contacts, by=by))
    if ledger is not None:
        with ledger.write():
            for letter in drafts.letters:
                if letter.asks_correction and letter.due is not None:
                    ledger.ask(letter.unit, letter.kind, letter.key, status.as_of, letter.due)
    for n, letter in enumerate(drafts.letters):
        stem = safe_name(letter.name)
        with tempfile.TemporaryDirectory(prefix="netreg-remind-") as tmp:
            annotated = []
            if letter.kind == RECTIFY and letter.recipients:
                annotated = _annotated(status, config, letter, Path(tmp), drafts.failed)
            own = [f for f in status.view.report.files if f.unit == letter.unit]
            coloured = bool(annotated) and all(f.format in ("xlsx", "xlsm") for f in own if f.format)
            if letter.kind == RECTIFY and not coloured:  # a Word/.xls/.csv return is listed, not coloured
                letter = drafts.letters[n] = without_annotated_copy(letter, listed=bool(annotated))
            docx = drafts.docx[letter.unit] = write_docx(letter, folder / f"{stem}.docx")
            if not letter.recipients:
                continue
            attachments = [docx, *annotated]
            msg = drafts.messages[letter.unit] = draft(letter, config, attachments)
        drafts.attached[letter.unit] = [p.name for p in attachments]
        drafts.eml[letter.unit] = write_eml(msg, folder / f"{stem}.eml")
    drafts.roster = write_roster(drafts.letters, folder / NAME, as_of=status.as_of, deadline=status.deadline)
    written = set(drafts.docx.values()) | set(drafts.eml.values())
    drafts.stale = sorted(p for kind in KINDS for ext in ("docx", "eml") for p in folder.glob(f"*-{kind}通知.{ext}")
                          if p not in written)
    return drafts


def _annotated(status: Status, config: Campaign, letter: Letter, tmp: Path, failed: list) -> list[Path]:
    """The unit's annotated workbooks (validate --annotate), from the campaign's report."""
    from ..excel.annotate import of_unit, write_annotated

    done = write_annotated(of_unit(status.view.report, letter.unit), tmp, config=config, due=letter.due)
    failed.extend(done.failed)
    return sorted(done.written)
