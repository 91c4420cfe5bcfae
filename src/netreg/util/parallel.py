"""One function over many items, on both cores: validation reads files, annotation writes copies.

Workers are forked, so the function and the items (a whole report, for annotation) are
inherited rather than pickled; only results travel back. Below a minimum number of items, on
one core, or off Linux (Windows cannot fork; macOS can but its system libraries are not
fork-safe), it runs in this process. A worker that dies (out of memory…) costs nothing: what
is left is done here.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_SHARED: tuple = ()  # (fn, items) while a pool runs; forked workers inherit it


def _call(index: int):
    fn, items = _SHARED
    return fn(items[index])


def forked_map(fn: Callable[[T], R], items: Sequence[T], min_items: int) -> Iterator[R]:
    """``fn(item)`` for every item, in order, as results arrive."""
    global _SHARED
    import multiprocessing

    workers = min(os.cpu_count() or 1, 4)
    # Fork only where it is the platform's own way (Linux): macOS offers fork but its system
    # libraries are not fork-safe, and Windows has none; there the work runs in this process.
    if len(items) < min_items or workers < 2 or not sys.platform.startswith("linux") \
            or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(fn, items)
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _SHARED = (fn, items)
    done = 0
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        chunk = max(1, min(16, len(items) // (workers * 4)))
        for result in pool.map(_call, range(len(items)), chunksize=chunk):
            done += 1
            yield result
    except BrokenProcessPool:
        pool.shutdown(wait=True)
        yield from map(fn, items[done:])
    except BaseException:  # Ctrl-C, or the caller stopped early: stop now, not after the queue
        _stop(pool)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        _SHARED = ()


def _stop(pool) -> None:
    """Kill the workers at once. ``shutdown(wait=True)``, what ``with`` does, let a 300-file
    --annotate run on for a minute after Ctrl-C, writing copies; a worker's own SIGINT is caught
    by the pool, which hands it the next item."""
    import threading
    from concurrent.futures import InvalidStateError

    # The pool's manager thread then finds its workers dead and fails every pending future; on
    # Python < 3.12 it raises InvalidStateError for one already cancelled and prints a traceback
    # from its thread while netreg says 已中断. Nothing is lost: the run is being stopped.
    previous = threading.excepthook

    def quiet(args):
        if not issubclass(args.exc_type, InvalidStateError):
            previous(args)

    threading.excepthook = quiet
    for process in list(getattr(pool, "_processes", {}).values()):  # private, but the only handle
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
