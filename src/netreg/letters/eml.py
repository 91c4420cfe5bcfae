"""A Letter as an e-mail draft (standard library ``email``): UTF-8, To: every address the unit
list gives for the unit, From: the campaign mailbox, a Chinese subject, the letter's text as
the body, the .docx and (for 整改) the unit's annotated workbooks attached. The .eml carries
``X-Unsent: 1`` so that Outlook opens it as a draft to send by hand; ``netreg remind --send``
sends the same message without it.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from ..util.atomic import atomic_path

if TYPE_CHECKING:
    from ..config import Campaign
    from .plan import Letter

TYPES = {".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
         ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")}


def sender_of(config: Campaign) -> str:
    """The campaign mailbox's login when it is an address, else the notice's e-mail."""
    user = config.mail.user.strip()
    return user if "@" in user else config.email


def draft(letter: Letter, config: Campaign, attachments: list[Path]) -> EmailMessage:
    from datetime import datetime

    sender = sender_of(config)
    msg = EmailMessage()
    msg["From"] = Address(display_name=f"{config.school}{config.department}", addr_spec=sender)
    msg["To"] = ", ".join(letter.recipients)
    msg["Subject"] = letter.subject
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = make_msgid("netreg", domain=sender.rpartition("@")[2] or None)
    msg["X-Unsent"] = "1"
    body = letter.text()
    if attachments:
        body += "\n附件：\n" + "".join(f"{n}. {p.name}\n" for n, p in enumerate(attachments, 1))
    msg.set_content(body, charset="utf-8", cte="base64")
    for path in attachments:
        maintype, subtype = TYPES.get(path.suffix.lower(), ("application", "octet-stream"))
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def write_eml(msg: EmailMessage, target: Path) -> Path:
    from email import policy

    with atomic_path(target) as tmp:
        tmp.write_bytes(msg.as_bytes(policy=policy.SMTP))
    return target


def for_sending(msg: EmailMessage) -> EmailMessage:
    """The draft as it goes out: dated now, without X-Unsent."""
    import copy
    from datetime import datetime

    out = copy.deepcopy(msg)
    del out["X-Unsent"]
    del out["Date"]
    out["Date"] = format_datetime(datetime.now().astimezone())
    return out
