"""Fingerprints of the summary workbook, to show that speed work changed nothing in it.

    python tests/golden.py    # rewrite tests/golden/*.json from the current code

Two runs are recorded: the shipped samples (16 files: read one by one), cell by cell, and 30
workbooks from the benchmark's generator (read on both cores), as a hash per sheet. A change
made for speed must leave both as they are; a change of behaviour rewrites them on purpose.
The files in the repository were written by the code as it was before the session-2 speed
work (commit ebe4e2e) and still match after it.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
AS_OF = date(2025, 11, 25)


def summary_cells(path: Path, base: Path) -> dict[str, dict]:
    """Sheet → layout and every cell (value, type, number format), paths made relative."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        rows = []
        for row in ws.iter_rows():
            cells = []
            for c in row:
                v = c.value
                if isinstance(v, str):
                    v = v.replace(str(base) + "/", "")
                cells.append([v if isinstance(v, (str, int, float, type(None))) else repr(v), c.data_type,
                              c.number_format, bool(c.quotePrefix)])
            while cells and cells[-1][0] is None:
                cells.pop()
            rows.append(cells)
        out[ws.title] = {"merged": sorted(str(r) for r in ws.merged_cells.ranges), "freeze": ws.freeze_panes,
                         "filter": ws.auto_filter.ref, "rows": rows}
    return out


def _merge(folder: Path, units: list[str] | None, out: Path) -> Path:
    from netreg.config import Campaign
    from netreg.app.merge import merge
    from netreg.pipeline import validate_paths

    config = Campaign()
    report = validate_paths([folder], config, units=units, as_of=AS_OF)
    merge(report, out, school=config.school, force=True)
    return out


def samples_run(tmp: Path) -> dict:
    from netreg.config import read_units_file

    out = _merge(ROOT / "samples" / "returned", read_units_file(ROOT / "samples" / "units.txt"), tmp / "samples.xlsx")
    return summary_cells(out, ROOT)


def generated_run(tmp: Path) -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench

    bench.generate(tmp / "in", 30, seed=3)
    out = _merge(tmp / "in", None, tmp / "generated.xlsx")
    cells = summary_cells(out, tmp)
    return {name: {"rows": len(sheet["rows"]),
                   "sha256": hashlib.sha256(json.dumps(sheet, ensure_ascii=False).encode()).hexdigest()}
            for name, sheet in cells.items()}


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("samples_summary.json", samples_run), ("generated_summary.json", generated_run)):
            (GOLDEN / name).write_text(json.dumps(fn(Path(tmp)), ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
            print("wrote", GOLDEN / name)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
