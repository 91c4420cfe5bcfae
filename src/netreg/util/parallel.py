"""One function over many items, on both cores: validation reads files, annotation writes copies.

On Linux workers are forked: the function and the items (a whole report, for annotation) are
inherited rather than pickled; only results travel back. Elsewhere (Windows has no fork; macOS
has it but its system libraries are not fork-safe) workers are spawned: each starts a fresh
Python (about 0.6 s here to import what a worker needs), so the function and the items are
pickled once per worker, which is why callers pass a module-level function or a
``functools.partial`` of one, never a closure. A spawned pool pays off only for more items, so
its minimum is SPAWN_FACTOR times the caller's.

Below the minimum, or on one core, the work runs in this process. A worker that dies (out of
memory…) costs nothing: what is left is done here — or, with ``on_crash`` (parsing untrusted
files with native libraries that may abort the process), each item left is done alone in its
own forked process, and an item that kills that one too becomes ``on_crash(item)``: one file
that makes a reader abort never costs the other files or the run. With ``on_crash`` on Linux the
work always runs in workers, however few the items.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

SPAWN_FACTOR = 4
_SHARED: tuple = ()  # (fn, items) in every worker: inherited when forked, installed when spawned


def _install(fn, items) -> None:
    global _SHARED
    _SHARED = (fn, items)


def _call(index: int):
    fn, items = _SHARED
    return fn(items[index])


def start_method() -> str:
    """``fork`` on Linux, ``spawn`` elsewhere; NETREG_START_METHOD=spawn tries the Windows way here."""
    chosen = os.environ.get("NETREG_START_METHOD", "")
    if chosen in ("fork", "spawn"):
        return chosen
    return "fork" if sys.platform.startswith("linux") else "spawn"


def forked_map(fn: Callable[[T], R], items: Sequence[T], min_items: int,
               on_crash: Callable[[T], R] | None = None) -> Iterator[R]:
    """``fn(item)`` for every item, in order, as results arrive."""
    global _SHARED
    import multiprocessing

    workers = min(os.cpu_count() or 1, 4)
    method = start_method()
    if method not in multiprocessing.get_all_start_methods():
        method = "spawn"
    isolate = on_crash is not None and method == "fork"
    if method == "spawn":
        min_items *= SPAWN_FACTOR
    if isolate and items:
        min_items, workers = 1, max(1, min(workers, len(items)))
    elif len(items) < min_items or workers < 2:
        yield from map(fn, items)
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    done = 0
    if method == "fork":
        _SHARED = (fn, items)
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    else:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_install, initargs=(fn, list(items)))
    try:
        chunk = max(1, min(16, len(items) // (workers * 4)))
        for result in pool.map(_call, range(len(items)), chunksize=chunk):
            done += 1
            yield result
    except BrokenProcessPool:
        pool.shutdown(wait=True)
        if isolate:
            for item in items[done:]:
                yield _alone(fn, item, on_crash)
        else:
            yield from map(fn, items[done:])
    except BaseException:  # Ctrl-C, or the caller stopped early: stop now, not after the queue
        _stop(pool)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        _SHARED = ()


def _alone(fn, item, on_crash):
    """``fn(item)`` in a forked process of its own; ``on_crash(item)`` when that process dies."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(fn, item, writer), daemon=True)
    child.start()
    writer.close()
    try:
        result = reader.recv()
    except (EOFError, OSError):  # it died before answering: aborted, killed, out of memory
        result = on_crash(item)
    finally:
        reader.close()
        child.join()
    return result


def _child(fn, item, writer) -> None:
    try:
        writer.send(fn(item))
    finally:
        writer.close()
        os._exit(0)  # no atexit, no finalisers of the parent's objects


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
