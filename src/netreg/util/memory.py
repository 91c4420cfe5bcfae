"""Memory habits of a run that builds many long-lived objects."""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector. A run builds hundreds of thousands of records and
    issues that all live to its end; the collector's repeated passes over them freed nothing
    and cost a sixth of a 300-file merge (6.5 s → 5.4 s), mostly while unpickling the
    workers' results. Worker processes forked inside inherit the pause."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What was built is kept out of later collections (it is freed by reference counting
        # as usual); otherwise re-enabling would start a full pass over all of it at once.
        gc.freeze()
        if was_enabled:
            gc.enable()
