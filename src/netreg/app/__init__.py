"""The application layer: one function per command (validate, merge, intake, status, history,
remind, diff, prefill, the page's next year), returning plain results. ``cli/`` and ``web/``
call it and only render; nothing below it imports it (tests/test_architecture.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Progress:
    """Where a long command is, for a page or a progress line to show: set by the command."""

    step: str = "正在开始…"
    done: int = 0
    total: int = 0
