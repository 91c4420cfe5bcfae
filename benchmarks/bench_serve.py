"""netreg serve at scale (issue 23): a board of N units (default 3000), of which M sent their
forms, answered cold (first load: the campaign's one validation of the counted files) and warm
(the board as the page polls it, the ledger unchanged); and an upload of K files through the
page against `netreg intake` of the same files. CPU-seconds and wall, one run.

    python benchmarks/bench_serve.py [--units 3000] [--sent 100] [--upload 50]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import _unit, generate_mix  # noqa: E402


def clock():
    return time.perf_counter(), time.process_time()


def since(start) -> tuple[float, float]:
    wall, cpu = start
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=3000)
    ap.add_argument("--sent", type=int, default=100)
    ap.add_argument("--upload", type=int, default=50)
    args = ap.parse_args()
    from starlette.testclient import TestClient

    from netreg.pipeline import remember_always
    from netreg.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        tmp = Path(tmp)
        campaign = tmp / "活动"
        subprocess.run([sys.executable, "-m", "netreg", "init", str(campaign)], check=True, capture_output=True)
        names = [_unit(i) for i in range(args.units)]
        (campaign / "单位名单.csv").write_text("单位\n" + "\n".join(names) + "\n", encoding="utf-8")
        toml = campaign / "netreg.toml"
        text = toml.read_text(encoding="utf-8")
        start = text.index("units = [")
        end = text.index("]", start) + 1
        toml.write_text(text[:start] + 'units = "单位名单.csv"' + text[end:], encoding="utf-8")
        sent = tmp / "sent"
        generate_mix(sent, args.sent, mix=False)
        subprocess.run([sys.executable, "-m", "netreg", "intake", str(sent), "--campaign", str(campaign),
                        "--received", "2025-11-20 10:00"], check=True, capture_output=True)
        remember_always()  # as netreg serve does
        client = TestClient(create_app(campaign, token="t"), follow_redirects=False)
        t = clock()
        page = client.get("/?token=t")
        cold = since(t)
        rows = len(re.findall(r"<tr class=\"st-", page.text))
        warm = []
        for _ in range(5):
            t = clock()
            assert client.get("/").status_code == 200
            warm.append(since(t))
        polls = []
        for _ in range(5):
            t = clock()
            client.get("/version")
            polls.append(since(t))
        up = tmp / "up"
        generate_mix(up, args.upload, seed=7, mix=True)
        files = sorted(p for p in up.rglob("*") if p.is_file())
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        t = clock()
        r = client.post("/upload", data={"csrf": csrf, "received": "2025-11-21 10:00"},
                        files=[("files", (p.name, p.read_bytes())) for p in files])
        upload = since(t)
        assert r.status_code == 303
        t = clock()
        client.get("/")
        after = since(t)
        other = tmp / "活动2"
        shutil.copytree(campaign, other)
        t = time.perf_counter()
        cmd = subprocess.run(["/usr/bin/time", "-f", "%U %S", sys.executable, "-m", "netreg", "intake", str(up),
                              "--campaign", str(other), "--received", "2025-11-21 10:00"],
                             capture_output=True, text=True)
        intake_wall = time.perf_counter() - t
        user, system = (float(x) for x in cmd.stderr.strip().splitlines()[-1].split())
    best = min(warm, key=lambda x: x[0])
    print(f"board of {args.units} units ({rows} rows shown), {args.sent} sent: "
          f"cold {cold[0]:.2f} s wall / {cold[1]:.2f} CPU-s; warm best {best[0]:.3f} s wall / {best[1]:.3f} CPU-s; "
          f"/version poll {min(p[0] for p in polls) * 1000:.0f} ms")
    print(f"upload of {len(files)} files through the page: {upload[0]:.2f} s wall / {upload[1]:.2f} CPU-s (in-process); "
          f"netreg intake of the same files: {intake_wall:.2f} s wall / {user + system:.2f} CPU-s")
    print(f"the board after that upload (50 units now with two submissions: their rounds): "
          f"{after[0]:.2f} s wall / {after[1]:.2f} CPU-s")


if __name__ == "__main__":
    main()
