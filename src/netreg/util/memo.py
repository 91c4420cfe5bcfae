"""A dict that makes what it lacks and forgets everything past a size: the answers netreg
remembers by text (identity keys, placeholders, parsed choices), where the same texts repeat
row after row. A hit is a plain dict lookup, in C."""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Remembered(dict, Generic[K, V]):
    """``memo[key]``: ``make(key)``, made once; past ``limit`` entries it starts again empty
    (a province's ever-new texts must not grow it without end)."""

    def __init__(self, make: Callable[[K], V], limit: int = 65536):
        super().__init__()
        self.make, self.limit = make, limit

    def __missing__(self, key: K) -> V:
        if len(self) >= self.limit:
            self.clear()
        value = self[key] = self.make(key)
        return value
