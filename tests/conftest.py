"""Shared test settings: fixed terminal width, no colour, so output assertions are stable."""

import os

os.environ["COLUMNS"] = "200"
os.environ["NO_COLOR"] = "1"
os.environ.setdefault("TERM", "dumb")
