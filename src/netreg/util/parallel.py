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
work always runs in workers, however few the items. Spawned workers (Windows) cannot be forked
one per item cheaply, so there the items are handed out one at a time, at most one per worker in
flight: when a worker dies, the items in flight are the suspects, each done alone in a spawned
process of its own (all at once), and the items never handed out go to a fresh pool.

Workers die with the process that started them: killed (``kill -9``, the task manager), it
would otherwise leave them waiting on their queue for good, holding open files and memory. On
Linux the kernel kills them (PR_SET_PDEATHSIG); elsewhere a thread in each worker watches the
parent and ends the worker when it is gone.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Iterator, Sequence, TypeVar

from . import faults

T = TypeVar("T")
R = TypeVar("R")

SPAWN_FACTOR = 4
WATCH_SECONDS = 1.0  # how often a worker without PR_SET_PDEATHSIG looks for its parent
_SHARED: tuple = ()  # (fn, items) in every worker: inherited when forked, installed when spawned


def _install(fn, items, parent: int) -> None:
    """A spawned worker's start: what to run, and die with ``parent``."""
    global _SHARED
    _SHARED = (fn, items)
    die_with(parent)


def _call(index: int):
    fn, items = _SHARED
    return _apply(fn, items[index])


def _apply(fn, item):
    """``fn(item)``, behind a fault point the tests arm for one item (NETREG_FAULT=
    parallel-item=坏文件.xlsx:kill: the process reading that file dies, as an aborting reader's)."""
    faults.point("parallel-item", _key(item))
    return fn(item)


def _key(item) -> str:
    shown = getattr(item, "shown", None)
    return os.path.basename(str(shown)) if shown else ""


def die_with(parent: int) -> None:
    """End this worker process when ``parent`` ends, however it ends: on Linux the kernel
    sends SIGKILL (PR_SET_PDEATHSIG); elsewhere a daemon thread looks every WATCH_SECONDS."""
    if sys.platform.startswith("linux") and _pdeathsig():
        if os.getppid() != parent:  # it was gone before the kernel was asked
            os._exit(1)
        return
    import threading

    from .workdir import alive

    def watch() -> None:
        import time

        while True:
            time.sleep(WATCH_SECONDS)
            if (os.name != "nt" and os.getppid() != parent) or not alive(parent):
                os._exit(1)

    threading.Thread(target=watch, name="netreg-parent-watch", daemon=True).start()


def _pdeathsig() -> bool:
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError, ValueError):
        return False


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
    isolate = on_crash is not None
    if method == "spawn":
        min_items *= SPAWN_FACTOR
    if isolate and method == "fork" and items:
        min_items, workers = 1, max(1, min(workers, len(items)))
    elif len(items) < min_items or workers < 2:
        yield from (_apply(fn, item) for item in items)
        return
    if isolate and method == "spawn":  # one item a worker at a time, so that a death names its suspects
        yield from _spawned_isolated(fn, items, workers, on_crash)
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    done = 0
    parent = os.getpid()
    if method == "fork":
        _SHARED = (fn, items)
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=die_with, initargs=(parent,))
    else:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_install, initargs=(fn, list(items), parent))
    try:
        chunk = max(1, min(16, len(items) // (workers * 4)))
        for result in pool.map(_call, range(len(items)), chunksize=chunk):
            done += 1
            faults.point("parallel-result")
            yield result
    except BrokenProcessPool:
        pool.shutdown(wait=True)
        if isolate:
            for item in items[done:]:
                yield _alone(fn, [item], on_crash, multiprocessing.get_context("fork"))[0]
        else:
            yield from (_apply(fn, item) for item in items[done:])
    except BaseException:  # Ctrl-C, or the caller stopped early: stop now, not after the queue
        _stop(pool)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        _SHARED = ()


def _spawned_isolated(fn, items: Sequence, workers: int, on_crash) -> Iterator:
    """forked_map with ``on_crash`` and spawned workers: each item handed out alone, at most
    ``workers`` in flight; when a worker dies, those in flight are done each alone in a process
    of its own and the rest by a fresh pool."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")
    parent = os.getpid()
    shared = list(items)
    results: dict[int, object] = {}
    left = deque(range(len(items)))  # never handed out, in order
    shown = 0  # results yielded so far (in order)
    while left:
        pool = ProcessPoolExecutor(max(1, min(workers, len(left))), mp_context=ctx,
                                   initializer=_install, initargs=(fn, shared, parent))
        flying: dict = {}
        suspects: list[int] = []
        try:
            while (left or flying) and not suspects:
                while left and len(flying) < workers:
                    index = left.popleft()
                    flying[pool.submit(_call, index)] = index
                finished, _ = wait(flying, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = flying.pop(future)
                    try:
                        results[index] = future.result()
                    except BrokenProcessPool:
                        suspects.append(index)
                while shown in results:
                    faults.point("parallel-result")
                    yield results.pop(shown)
                    shown += 1
        except BaseException:  # Ctrl-C, the caller stopped early, or fn raised: stop now
            _stop(pool)
            raise
        suspects += flying.values()  # broken too, or about to be
        pool.shutdown(wait=True)
        if suspects:
            suspects.sort()
            for index, result in zip(suspects, _alone(fn, [items[i] for i in suspects], on_crash, ctx)):
                results[index] = result
            while shown in results:
                yield results.pop(shown)
                shown += 1


def _alone(fn, chosen: Sequence, on_crash, ctx) -> list:
    """``fn(item)`` for each item, each in a process of its own (all started at once);
    ``on_crash(item)`` for one whose process dies before answering."""
    parent = os.getpid()
    started = []
    for item in chosen:
        reader, writer = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(fn, item, writer, parent), daemon=True)
        child.start()
        writer.close()
        started.append((item, reader, child))
    results = []
    for item, reader, child in started:
        try:
            result = reader.recv()
        except (EOFError, OSError):  # it died before answering: aborted, killed, out of memory
            result = on_crash(item)
        finally:
            reader.close()
            child.join()
        results.append(result)
    return results


def _child(fn, item, writer, parent: int) -> None:
    die_with(parent)
    try:
        writer.send(_apply(fn, item))
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
