"""Phone numbers as people may see them on a screen: 138****5678."""

from __future__ import annotations

import re

from ..model.issues import Issue

PHONE_CODES = {"phone-invalid", "student-phone-binding", "filler-missing"}
_DIGITS = re.compile(r"\d{7,}")


def mask_digits(text: str) -> str:
    """138****5678 for a mobile, ***4567 for a 7/8-digit local number."""
    def repl(m: re.Match) -> str:
        d = m.group(0)
        head = d[:3] if len(d) >= 9 else ""
        return head + "*" * (len(d) - len(head) - 4) + d[-4:]
    return _DIGITS.sub(repl, text)


def masked(issue: Issue) -> tuple[str, str]:
    """(value, message) as shown to people. A masked invalid number says how many digits it
    has: the stars would hide the very count that is wrong (138***4567（10 位）)."""
    value, message = issue.value or "", issue.message
    if issue.code in PHONE_CODES and value:
        shown = mask_digits(value)
        if shown != value and issue.code != "student-phone-binding":
            counts = [len(d) for d in _DIGITS.findall(value)]
            shown += "（" + "、".join(f"{n} 位" for n in counts) + "）"
        value = shown
        message = message.replace(issue.value, value)
    return value, message
