"""The page's 下一年: an earlier summary compared with what counts now (as ``netreg diff``) and,
if asked, each unit's forms pre-filled with its rows from it, zipped (as ``template --prefill``)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from ..errors import NetregError

COMPARISON_BOOK, COMPARISON_PAGE, PREFILLED = "对比.xlsx", "对比.html", "预填登记表"


def next_year(ledger, config, units: list[str], contacts, earlier: Path, folder: Path, *,
              prefill: bool, progress=None) -> list[str]:
    """Write 对比.xlsx, 对比.html and (``prefill``) 预填登记表.zip into ``folder``; the result in
    Chinese lines. NetregError when ``earlier`` holds nothing readable."""
    from ..compare import diff
    from ..excel.diffbook import write_diff_book
    from ..excel.prefill import prefill_of, write_prefilled
    from ..render.diff import render_diff_html
    from ..util.atomic import atomic_path, write_text
    from . import Progress
    from .campaign import campaign_report
    from .check import read_side

    progress = progress or Progress()
    with ledger:
        progress.step = "正在读取上一次的汇总表…"
        try:  # read once: compared, and the forms pre-filled from it
            old, _notes = read_side(earlier, config, units)
        except NetregError:
            raise NetregError("上传的文件不是可以读取的汇总表或登记表") from None
        progress.step = "正在读取本次计入的报送…"
        new = campaign_report(ledger, config, units=units).report
    result = diff(old, new, old_label="上一次", new_label="本次", stale_days=config.stale_days)
    write_diff_book(result, folder / COMPARISON_BOOK)
    write_text(folder / COMPARISON_PAGE, render_diff_html(result))
    t = result.total
    lines = [f"与上一次相比：新增 {t.added} 项，删除 {t.removed} 项，变化 {t.changed} 项"]
    if not prefill:
        return lines
    progress.step = "正在生成预填的登记表…"
    rows = prefill_of(old, earlier)
    fillers = {c.unit: (c.contact, c.phone) for c in contacts if c.contact and c.phone}
    names = units + [u for u in rows if u not in units]
    out = folder / PREFILLED
    shutil.rmtree(out, ignore_errors=True)
    progress.total, progress.done = len(names), 0

    def made(_w) -> None:
        progress.done += 1
        progress.step = f"正在生成预填的登记表…（{progress.done}/{progress.total}）"

    written = write_prefilled(config, names, rows, out, force=True, fillers=fillers, on_progress=made)
    with atomic_path(folder / f"{PREFILLED}.zip") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for w in written:
            if w.status == "written":
                z.write(w.path, Path(w.path).name)
    lines.append(f"预填登记表 {sum(w.status == 'written' for w in written)} 份（每个单位一份，已填入上一次登记的内容）")
    return lines
