"""Chunks of a run's rows kept in memory, or, past a size, in a temporary file (issue 17).

A province merges thousands of returns: holding every record and issue until the summary is
written cost ~2 KB a row (1.1 GB at 3,000 files). A ``Spill`` holds lists ("chunks") of
picklable items. Below ``limit`` items they stay lists in memory, as before. Past it, every
chunk is pickled to an unnamed temporary file (deleted when closed, or when the process
ends), so the main process keeps offsets instead of rows. Each chunk is read back, one at
a time, when it is needed.
"""

from __future__ import annotations

import os
import pickle
from typing import Callable

SPILL_ROWS = 200_000  # items held in memory before chunks go to disk (N=1000 returns: ~176k rows)


def spill_limit() -> int:
    """``SPILL_ROWS``, or NETREG_SPILL_ROWS (the tests set 0 to take the disk path on small runs)."""
    value = os.environ.get("NETREG_SPILL_ROWS", "")
    return int(value) if value.isdigit() else SPILL_ROWS


class Spill:
    """Numbered chunks, in memory below ``limit`` items in all, pickled to a temporary file past it.

    ``pack``/``unpack`` turn a chunk into what is pickled and back (plain tuples pickle in
    about half the time of dataclasses)."""

    def __init__(self, limit: int | None = None, pack: Callable = list, unpack: Callable = list):
        self.limit = spill_limit() if limit is None else limit
        self._pack, self._unpack = pack, unpack
        self._mem: list[list | None] = []  # chunk n in memory, or None (on disk)
        self._where: list[tuple[int, int]] = []  # chunk n's (offset, length) on disk
        self._file = None
        self.items = 0

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def add(self, chunk: list) -> int:
        """Store ``chunk``; returns its number."""
        self._mem.append(chunk)
        self._where.append((0, 0))
        self.items += len(chunk)
        n = len(self._mem) - 1
        if self._file is not None:
            self.put(n, chunk)
        elif self.items > self.limit:
            import tempfile

            self._file = tempfile.TemporaryFile(prefix="netreg-")
            for k, held in enumerate(self._mem):
                self.put(k, held)
        return n

    def put(self, n: int, chunk: list) -> None:
        """Chunk ``n`` replaced by ``chunk`` (on disk: written anew at the end of the file)."""
        if self._file is None:
            self._mem[n] = chunk
            return
        data = pickle.dumps(self._pack(chunk), pickle.HIGHEST_PROTOCOL)
        offset = self._file.seek(0, os.SEEK_END)
        self._file.write(data)
        self._where[n] = (offset, len(data))
        self._mem[n] = None

    def get(self, n: int) -> list:
        """Chunk ``n`` (from disk: a new list each time; changes to it are kept only by ``put``)."""
        held = self._mem[n]
        if held is not None:
            return held
        offset, length = self._where[n]
        self._file.seek(offset)
        return self._unpack(pickle.loads(self._file.read(length)))

    def __len__(self) -> int:
        return len(self._mem)
