"""What the ``netreg`` command does before anything else is imported."""

from __future__ import annotations

import sys


def without_numpy() -> None:
    """openpyxl imports numpy whenever it is installed (Anaconda, or beside pandas) only to
    accept numpy scalars as numbers, and that import was 0.18 s of a command's 0.5 s start.
    netreg writes no numpy value, so the command (never the library) hides numpy from it."""
    if "numpy" not in sys.modules:
        sys.modules["numpy"] = None  # `import numpy` raises ImportError: openpyxl goes without
