"""Profile serial validation (one process) with pyinstrument, and time its phases.

    python benchmarks/profile_validate.py DIR [--html out.html] [--phases]

Serial: ``netreg.pipeline.PARALLEL_MIN_FILES`` is patched high and NETREG_START_METHOD is
left unset, so every file is read and checked in this process (no worker, nothing pickled).
``--phases`` instead times each stage separately over the same files, in CPU-seconds:
read (sources.open_book), scan (scan.tables.scan_book), check (rows.check_table: normalise
+ row rules), cross-file, the pickling a worker's FileCheck costs (dumps + loads), write;
then open_book against python-calamine's own read (``--repeat N``: N alternating runs).
``NETREG_SRC=/other/tree/src`` times another checkout (before/after, one after the other).
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, os.environ.get("NETREG_SRC", str(HERE.parent / "src")))  # NETREG_SRC: another tree, for A/B


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def serial_report(folder: Path):
    from netreg import pipeline
    from netreg.config import Campaign

    pipeline.PARALLEL_MIN_FILES = 10**9
    import netreg.util.parallel as par
    original = par.forked_map

    def serial(fn, items, min_items, on_crash=None):  # no isolation workers either
        return map(fn, items)

    pipeline_forked = original
    par.forked_map = serial
    try:
        return pipeline.validate_paths([folder], Campaign(), as_of=date(2025, 11, 25))
    finally:
        par.forked_map = pipeline_forked


def phases(folder: Path, out: Path | None, repeat: int = 1) -> None:
    import gc

    from netreg import pipeline
    from netreg.check.cross import CrossIndex
    from netreg.model.store import RecordStore
    from netreg.check.rows import Context, check_table
    from netreg.config import Campaign
    from netreg.sources import open_book
    from netreg.scan.tables import scan_book

    gc.disable()
    config = Campaign()
    files = sorted(p for p in folder.iterdir() if p.is_file())
    times = dict.fromkeys(("read", "scan", "check", "cross", "pickle", "assemble", "write"), 0.0)
    t = cpu()
    books = [open_book(p, config.limits) for p in files]
    times["read"] = cpu() - t
    t = cpu()
    scans = [scan_book(b) for b in books]
    times["scan"] = cpu() - t
    del books
    as_of = date(2025, 11, 25)
    t = cpu()
    records = []
    for p, s in zip(files, scans):
        ctx = Context.build(config, as_of, str(p), p.stem)
        for table in s.tables:
            recs, _ = check_table(table, ctx)
            records.extend(recs)
    times["check"] = cpu() - t
    t = cpu()
    store, cross = RecordStore(), CrossIndex()
    cross.add(records, store.add(0, records))
    cross.resolve(store, Context.build(config, as_of), {})
    times["cross"] = cpu() - t
    # what travels back from the workers: every file's FileCheck, pickled and unpickled
    from netreg.intake.folder import Input
    inputs = [Input(p, str(p)) for p in files]
    checks = [pipeline.check_file(i, config, list(config.units), as_of) for i in inputs]
    t = cpu()
    size = 0
    for c in checks:
        blob = pickle.dumps(c, protocol=pickle.HIGHEST_PROTOCOL)
        size += len(blob)
        pickle.loads(blob)
    times["pickle"] = cpu() - t
    t = cpu()
    report = serial_report(folder)
    times["assemble"] = cpu() - t  # the whole serial validate (read..cross), for reference
    if out is not None:
        from netreg.app.merge import merge
        t = cpu()
        merge(report, out, school=config.school, force=True)
        times["write"] = cpu() - t
    rows = len(records)
    print(f"{len(files)} files, {rows} rows, pickled FileChecks {size / 1e6:.1f} MB")
    for k, v in times.items():
        print(f"  {k:9} {v:7.2f} CPU-s  {v / rows * 1e6:7.1f} µs/row")
    versus_calamine(files, config, repeat)


def versus_calamine(files: list[Path], config, repeat: int = 1) -> None:
    """issue 24's first target: netreg's open_book against python-calamine's own read of every
    sheet of the same spreadsheets (Word and csv files aside), in one run. ``repeat`` > 1
    alternates the two that many times and reports the least of each and the median of the
    ratios (the VM is shared: a neighbour's burst lands on one side or the other)."""
    import statistics

    from python_calamine import CalamineWorkbook

    from netreg.sources import open_book

    sheets = [p for p in files if p.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".et", ".ods", ".xlsb")]
    if not sheets:
        return
    alone_runs, ours_runs = [], []
    for _ in range(max(repeat, 1)):
        t = cpu()
        for p in sheets:
            book = CalamineWorkbook.from_path(str(p))
            for name in book.sheet_names:
                book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        alone_runs.append(cpu() - t)
        t = cpu()
        for p in sheets:
            open_book(p, config.limits)
        ours_runs.append(cpu() - t)
    n = len(sheets)
    ours, alone = min(ours_runs), min(alone_runs)
    print(f"  open_book {ours:.2f} CPU-s vs python-calamine alone {alone:.2f} CPU-s on {n} spreadsheets: "
          f"{ours / alone:.2f}× ({ours / n * 1000:.2f} vs {alone / n * 1000:.2f} ms a file)")
    if repeat > 1:
        ratios = [o / a for o, a in zip(ours_runs, alone_runs)]
        print(f"  (least of {repeat} alternating runs; ratio of each run: median {statistics.median(ratios):.2f}, "
              f"from {min(ratios):.2f} to {max(ratios):.2f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("--html", type=Path)
    ap.add_argument("--phases", action="store_true")
    ap.add_argument("--write", type=Path, help="with --phases: also time writing the summary here")
    ap.add_argument("--repeat", type=int, default=1,
                    help="with --phases: time open_book against python-calamine this many times, alternating")
    args = ap.parse_args()
    if args.phases:
        phases(args.folder, args.write, args.repeat)
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    start = cpu()
    profiler.start()
    serial_report(args.folder)
    profiler.stop()
    print(f"serial validate: {cpu() - start:.2f} CPU-s", file=sys.stderr)
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        args.html.write_text(profiler.output_html(), encoding="utf-8")


if __name__ == "__main__":
    main()
