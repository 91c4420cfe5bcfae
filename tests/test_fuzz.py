"""Seeded fuzzing of what units send back (mutants from tests/fuzz.py) through the command line.

In CI: 150 mutants (the sample workbooks damaged inside one XML part, in their package or in
their bytes; a Word table, a CSV export and a zip of returns, damaged too) go through
``netreg validate --format json`` in batches of 50 per subprocess, a few alone, and one batch
through ``merge``. Each run: no traceback, exit code 0, 1 or 2, one JSON document, every file
given read or named by an issue, no reader failure reported as an internal error, an answer
in time, under 1 GB. A mutant that is still a valid workbook (its parts moved elsewhere) is
read with the original's rows.

NETREG_FUZZ_LONG=1 adds the long run (2,000 mutants, another seed) whose figures are in
docs/reliability.md.
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fuzz import AS_OF, CLASSES, SAMPLES, children_peak_mb, make_mutants, run_validate

SEED, COUNT, BATCH = 15, 150, 50
GB = 1024


def _batches(items, size):
    return [items[k:k + size] for k in range(0, len(items), size)]


def _timeout(files: int) -> float:
    """A batch may take 60 s a file at most (the issue's bar); it takes well under 1 s."""
    return 60 + 2 * files


@pytest.fixture(scope="module")
def mutants(tmp_path_factory):
    return make_mutants(SEED, COUNT, tmp_path_factory.mktemp("mutants"))


@pytest.fixture(scope="module")
def outcomes(mutants):
    return [(batch, run_validate([m.path for m in batch], _timeout(len(batch)))) for batch in _batches(mutants, BATCH)]


@pytest.fixture(scope="module")
def original_rows():
    proc = subprocess.run([sys.executable, "-m", "netreg", "validate", str(SAMPLES), "--format", "json",
                           "--as-of", AS_OF], capture_output=True, text=True, timeout=300)
    return {Path(f["path"]).name: {k: v["rows"] for k, v in f["forms"].items()} for f in json.loads(proc.stdout)["files"]}


def test_every_mutant_is_read_or_named_in_time(mutants, outcomes):
    classes = collections.Counter()
    for batch, outcome in outcomes:
        assert len(outcome.status) == len(batch)
        classes.update(outcome.status.values())
    assert sum(classes.values()) == COUNT
    assert classes["read"] and classes["unreadable"], classes  # the mutants do damage, and not only
    assert children_peak_mb() < GB
    kinds = collections.Counter(m.kind for m in mutants)
    assert set(kinds) == {"xlsx-xml", "xlsx-package", "xlsx-bytes", "docx", "csv", "zip"}, kinds
    print(dict(classes), dict(kinds), f"{max(o.seconds for _, o in outcomes):.1f} s per batch at most")


def test_a_still_valid_mutant_is_read_with_the_originals_rows(mutants, outcomes, original_rows):
    moved = 0
    for batch, outcome in outcomes:
        for m in batch:
            if m.kind == "xlsx-package" and m.op == "relocated-workbook" and outcome.status[str(m.path)] == "read":
                assert outcome.rows[str(m.path)] == original_rows[m.source], m
                moved += 1
    assert moved


@pytest.mark.parametrize("index", [0, 1, 2, 3, 4, 5])
def test_one_mutant_alone(mutants, index):
    """One file per kind, alone on the command line (text output and JSON)."""
    kinds = sorted({m.kind for m in mutants})
    mutant = next(m for m in mutants if m.kind == kinds[index % len(kinds)])
    outcome = run_validate([mutant.path], _timeout(1))
    assert outcome.status[str(mutant.path)] in CLASSES
    proc = subprocess.run([sys.executable, "-m", "netreg", "validate", str(mutant.path), "--as-of", AS_OF],
                          capture_output=True, text=True, timeout=_timeout(1), env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode in (0, 1, 2) and "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-2000:]
    assert mutant.path.name in proc.stdout


def test_a_merge_over_mutants_loses_no_row(mutants, tmp_path):
    out = tmp_path / "汇总.xlsx"
    batch = _batches(mutants, BATCH)[0]
    proc = subprocess.run([sys.executable, "-m", "netreg", "merge", *[str(m.path) for m in batch], "-o", str(out),
                           "--as-of", AS_OF], capture_output=True, text=True, timeout=_timeout(len(batch)),
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode in (0, 1, 2) and "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-2000:]
    counted = re.search(r"读入 (\d+) 行（[^）]*），写入汇总 (\d+) 行", proc.stdout)
    assert counted and counted.group(1) == counted.group(2) and int(counted.group(1)) > 0, proc.stdout[-2000:]
    assert out.is_file()


# --------------------------------------------------------------------------- the long run

PER_FILE = """
import json, sys, time
from datetime import date
from pathlib import Path
from netreg.config import Campaign
from netreg.pipeline import validate_paths
for line in sys.stdin:
    path = Path(line.rstrip("\\n"))
    start = time.perf_counter()
    validate_paths([path], Campaign(), as_of=date(2025, 11, 25))
    print(json.dumps([str(path), time.perf_counter() - start]), flush=True)
"""


def long_fuzz_run(tmp_path):
    count = int(os.environ.get("NETREG_FUZZ_COUNT", "2000"))
    start = time.perf_counter()
    made = make_mutants(int(os.environ.get("NETREG_FUZZ_SEED", "2026")), count, tmp_path / "mutants")
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    slowest_batch = 0.0
    for batch in _batches(made, 100):
        outcome = run_validate([m.path for m in batch], _timeout(len(batch)))
        slowest_batch = max(slowest_batch, outcome.seconds)
        for m in batch:
            table[m.kind][outcome.status[str(m.path)]] += 1
    batches = time.perf_counter() - start
    proc = subprocess.run([sys.executable, "-c", PER_FILE], input="".join(f"{m.path}\n" for m in made),
                          capture_output=True, text=True, timeout=60 * count)
    assert proc.returncode == 0, proc.stderr[-3000:]
    times = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(times) == count
    slowest = max(times, key=lambda t: t[1])
    merged = tmp_path / "汇总.xlsx"
    proc = subprocess.run([sys.executable, "-m", "netreg", "merge", *[str(m.path) for m in made], "-o", str(merged),
                           "--as-of", AS_OF], capture_output=True, text=True, timeout=60 * count)
    assert proc.returncode in (0, 1, 2) and "Traceback" not in proc.stdout + proc.stderr
    counted = re.search(r"读入 (\d+) 行（[^）]*），写入汇总 (\d+) 行", proc.stdout)
    assert counted and counted.group(1) == counted.group(2), proc.stdout[-2000:]
    peak = children_peak_mb()
    print(f"\n{count} mutants; validate in batches of 100: {batches:.0f} s (slowest batch {slowest_batch:.1f} s); "
          f"slowest file alone {slowest[1]:.2f} s ({Path(slowest[0]).name}); merge of all: rows in = rows out = "
          f"{counted.group(1)}; peak RSS of any process {peak} MB")
    for kind in sorted(table):
        print(kind, {c: table[kind][c] for c in CLASSES}, sum(table[kind].values()))
    print("total", {c: sum(t[c] for t in table.values()) for c in CLASSES})
    assert slowest[1] < 60 and peak < GB


# The 2,000-mutant run takes minutes: collected only on request (NETREG_FUZZ_LONG=1), so that a
# CI run never shows it as skipped.
if os.environ.get("NETREG_FUZZ_LONG") == "1":
    test_long_fuzz_run = pytest.mark.slow(long_fuzz_run)
