"""Fault points for the tests: ``NETREG_FAULT=name`` (or ``name:kill``) makes the named point
raise (or the process die at once, as ``kill -9`` would); ``name=key`` arms it only where the
point is passed that key (one message's subject, one unit). Nothing else reads the variable;
unset, a point costs one dictionary look-up."""

from __future__ import annotations

import os
import signal


class Fault(RuntimeError):
    """Raised at an armed fault point."""


def point(name: str, key: str = "") -> None:
    armed = os.environ.get("NETREG_FAULT")
    if not armed:
        return
    for entry in armed.split(","):
        where, _, action = entry.partition(":")
        where, _, wanted = where.partition("=")
        if where == name and wanted in ("", key):
            if action == "kill":
                os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
            raise Fault(f"fault point {name}")
