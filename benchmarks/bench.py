"""Benchmark: netreg validate / merge against the pandas route and the read/write floor.

    python benchmarks/bench.py                # N = 50, 300, 1000
    python benchmarks/bench.py --sizes 50     # one size

For each N it generates N synthetic returned workbooks (seeded; the notice's layout; 10–60 rows
per form), then times, each in its own process (wall time, peak RSS of that process):
  * ``netreg validate DIR --format json`` and ``netreg merge DIR -o out.xlsx`` as a user runs them;
  * the pandas route: ``pandas.read_excel(sheet_name=None)`` over every file + concat + to_excel;
  * the floor: python-calamine reading every cell + openpyxl write-only writing as many cells.
At N <= 100 each is run three times and the median run is reported (a busy moment of the
machine weighs most on runs of a second or two).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from netreg.model import forms as F  # noqa: E402
from netreg.config import DEFAULT_UNITS  # noqa: E402

PLATFORMS = ["微信公众号", "公众号", "微博", "抖音", "视频号", "B站", "今日头条", "快手", "小红书"]
NAMES = ["王丽", "李强", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄婷", "周杰", "吴芳"]


def _value(col: F.Column, rng: random.Random, n: int):
    kind = col.kind
    if kind is F.Kind.PHONE:
        return rng.choice([f"13{rng.randint(0, 9)}{rng.randint(10**7, 10**8 - 1)}",
                           float(f"15{rng.randint(0, 9)}{rng.randint(10**7, 10**8 - 1)}"),
                           f"0395-{rng.randint(2000000, 9999999)}"])
    if kind is F.Kind.DATE:
        return rng.choice([f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                           f"2025.{rng.randint(1, 10)}.{rng.randint(1, 28)}"])
    if kind is F.Kind.COUNT:
        return rng.choice([rng.randint(2000, 90000), f"{rng.randint(2, 9)}.{rng.randint(1, 9)}万", "约5000"])
    if kind is F.Kind.YESNO:
        return rng.choice(["是", "是", "否", "√"])
    if kind is F.Kind.PLATFORM:
        return rng.choice(PLATFORMS)
    if kind is F.Kind.GROUP_TYPE:
        return rng.choice(["微信群", "QQ群", "钉钉群"])
    if col.key in ("admin", "owner", "person"):
        return rng.choice(NAMES)
    if col.key == "account_id":
        return f"gh_{rng.getrandbits(48):012x}"
    if col.key == "title":
        return rng.choice(["讲师", "", "副教授"])
    if col.key == "major":
        return rng.choice(["", "护理2023级", "计算机2024级"])
    return f"{col.label}{n}-{rng.randint(0, 9999)}"


def generate(folder: Path, n_files: int, seed: int = 1) -> int:
    """N workbooks with the notice's layout; returns the number of data rows written."""
    import xlsxwriter

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows_total = 0
    for i in range(n_files):
        unit = DEFAULT_UNITS[i % len(DEFAULT_UNITS)] + ("" if i < len(DEFAULT_UNITS) else f"{i}")
        safe = unit.replace("/", "、")
        wb = xlsxwriter.Workbook(str(folder / f"{i:04d}-{safe}.xlsx"))
        for form in F.FORMS:
            ws = wb.add_worksheet(form.sheet)
            ws.write(0, 0, form.sheet)
            ws.write(0, len(form.columns) - 2, f"填报单位：{unit}")
            ws.write(1, 0, form.title("漯河职业技术学院"))
            ws.write(2, 0, f"{form.signer_label}：")
            ws.write(2, 3, "填表人：")
            ws.write(2, 4, rng.choice(NAMES))
            ws.write(2, 5, f"{form.phone_label}：")
            ws.write(2, 6, f"139{rng.randint(10**7, 10**8 - 1)}")
            header = 3
            for c, col in enumerate(form.columns):
                if col.parent:
                    ws.write(header, c, col.parent)
                    ws.write(header + 1, c, col.header)
                else:
                    ws.write(header, c, col.header)
            first = header + form.header_rows
            n_rows = rng.randint(10, 60)
            for r in range(n_rows):
                ws.write(first + r, 0, r + 1)
                for c, col in enumerate(form.columns[1:], start=1):
                    ws.write(first + r, c, _value(col, rng, r))
            rows_total += n_rows
        wb.close()
    return rows_total


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit code) of one child process."""
    with tempfile.TemporaryFile() as errfile:  # a pipe read only at the end would fill and block
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errfile, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        errfile.seek(0)
        err = errfile.read().decode("utf-8", "replace")
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, proc.returncode


SMALL_N, SMALL_REPEATS = 100, 3


def median_run(repeats: int, cmd: list[str]) -> tuple[float, float, int]:
    """The run with the median wall time of ``repeats`` runs of ``cmd``."""
    runs = sorted((timed(cmd) for _ in range(repeats)), key=lambda t: t[0])
    return runs[len(runs) // 2]


PANDAS_ROUTE = """
import sys, pathlib, pandas as pd
frames = []
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.xlsx")):
    for name, df in pd.read_excel(f, sheet_name=None, header=None).items():
        df.insert(0, "file", f.name)
        frames.append(df)
pd.concat(frames).to_excel(sys.argv[2], index=False)
"""

FLOOR = """
import sys, pathlib
from python_calamine import CalamineWorkbook
from openpyxl import Workbook
cells = []
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.xlsx")):
    book = CalamineWorkbook.from_path(str(f))
    for name in book.sheet_names:
        cells.extend(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
wb = Workbook(write_only=True)
ws = wb.create_sheet("all")
for row in cells:
    ws.append(row)
wb.save(sys.argv[2])
"""


def run(sizes: list[int], keep: Path | None) -> None:
    py = sys.executable
    print(f"机器：{os.cpu_count()} 核，Python {sys.version.split()[0]}；N ≤ {SMALL_N} 时每项运行 {SMALL_REPEATS} 次取中位数")
    header = f"{'N':>5} {'行数':>7} | {'validate':>14} | {'merge':>14} | {'pandas':>14} | {'floor':>14} | {'pandas/merge':>12} {'merge/floor':>11}"
    print(header)
    print("-" * len(header))
    results: dict[int, tuple] = {}
    for n in sizes:
        base = Path(tempfile.mkdtemp(prefix=f"netreg-bench-{n}-", dir=keep))
        rows = generate(base / "in", n)
        # Small runs last a second or two, where a busy moment of the machine weighs most:
        # each of the four is run three times there and its median run is reported.
        repeats = SMALL_REPEATS if n <= SMALL_N else 1
        v = median_run(repeats, [py, "-m", "netreg", "validate", str(base / "in"), "--format", "json",
                                 "--as-of", "2025-11-25"])
        m = median_run(repeats, [py, "-m", "netreg", "merge", str(base / "in"), "-o", str(base / "summary.xlsx"),
                                 "--as-of", "2025-11-25", "--force"])
        p = median_run(repeats, [py, "-c", PANDAS_ROUTE, str(base / "in"), str(base / "pandas.xlsx")])
        f = median_run(repeats, [py, "-c", FLOOR, str(base / "in"), str(base / "floor.xlsx")])

        def cell(t):
            return f"{t[0]:6.2f}s {t[1]:5.0f}MB"

        print(f"{n:>5} {rows:>7} | {cell(v)} | {cell(m)} | {cell(p)} | {cell(f)} | "
              f"{p[0] / m[0]:11.1f}× {m[0] / f[0]:10.2f}×", flush=True)
        results[n] = (rows, v, m, p, f)
    help_times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([py, "-m", "netreg", "--help"], stdout=subprocess.DEVNULL, check=True)
        help_times.append(time.perf_counter() - start)
    print(f"netreg --help：最快 {min(help_times):.3f}s，中位 {sorted(help_times)[2]:.3f}s（5 次）")
    print()
    for line in targets(results, sorted(help_times)[2]):
        print(line)


def targets(results: dict[int, tuple], help_median: float) -> list[str]:
    """Issue 6's targets, each checked on this run's figures."""
    lines = []

    def check(ok: bool, text: str) -> None:
        lines.append(f"{'达到' if ok else '未达到'}  {text}")

    for n in (300, 1000):
        if n in results:
            _rows, _v, m, p, f = results[n]
            check(p[0] / m[0] >= 3, f"N={n}：merge 比 pandas 路线快 ≥3 倍（{p[0] / m[0]:.1f} 倍）")
            check(m[0] / f[0] <= 1.5, f"N={n}：merge ≤ 读写下限的 1.5 倍（{m[0] / f[0]:.2f} 倍）")
    if 1000 in results:
        v, m = results[1000][1], results[1000][2]
        check(max(v[1], m[1]) <= 600, f"N=1000：峰值内存 ≤600MB（validate {v[1]:.0f}MB，merge {m[1]:.0f}MB）")
    if 50 in results:
        check(results[50][2][0] <= 2, f"N=50：merge ≤2 秒（{results[50][2][0]:.2f} 秒，含启动）")
    check(help_median <= 0.2, f"netreg --help ≤0.2 秒（中位 {help_median:.3f} 秒）")
    big = [n for n in sorted(results) if n >= 300]
    if len(big) >= 2:  # linear: time per row stays flat between the two largest sizes
        per_row = [results[n][2][0] / results[n][0] * 1000 for n in big[-2:]]
        check(per_row[1] <= per_row[0] * 1.25,
              f"merge 用时随 N 线性增长（每千行 {per_row[0]:.3f}s → {per_row[1]:.3f}s）")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description="netreg 性能基准")
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 300, 1000])
    ap.add_argument("--keep", type=Path, default=None, help="生成文件放在此文件夹（默认临时文件夹）")
    args = ap.parse_args()
    run(args.sizes, args.keep)


if __name__ == "__main__":
    main()
