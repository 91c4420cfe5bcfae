"""netreg template: one blank workbook per unit, or pre-filled with last year's rows (--prefill)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..util.oserror import os_reason, os_target
from .options import ConfigOpt, UnitsOpt, fail, new_console, setup


def template(
    units_file: UnitsOpt = None,
    unit: Annotated[Optional[list[str]], typer.Option("--unit", help="只为这个单位生成（可重复）", metavar="单位")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="输出文件夹", metavar="文件夹")] = Path("空白登记表"),
    prefill: Annotated[Optional[Path], typer.Option("--prefill", help="用上一年度的汇总表预填各单位的登记表，各单位只需核对、更新", metavar="汇总表")] = None,
    config_path: ConfigOpt = None,
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的文件")] = False,
) -> None:
    """为每个单位生成一份空白登记表（附件1～5 和填表说明），发给各单位填写。

    示例：netreg template --units samples/units.txt -o 空白登记表 --prefill 去年汇总.xlsx
    """
    config, units = setup(config_path, units_file)
    names = list(unit or units or config.units)
    from ..app.check import read_prefill
    from ..excel.prefill import row_count, write_prefilled

    rows, listed, fillers = None, set(names), {}
    if prefill is not None:  # unreadable: NetregError, one Chinese line and exit 2 at the boundary
        rows = read_prefill(prefill, config, names)
        table_file = units_file or config.units_file  # its 联系人 and 电话 become each form's 填表人
        if table_file is not None:
            from ..campaign.contacts import read_contacts

            fillers = {c.unit: (c.contact, c.phone) for c in read_contacts(table_file) if c.contact and c.phone}
        names += [] if unit else [u for u in rows if u not in listed]
    if not names:
        fail("没有单位名单：请用 --units 指定名单文件，或用 --unit 指定单位")
    from rich.progress import Progress
    from ..render.table import QuickTable as Table

    console = new_console()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("正在生成登记表…", total=len(names))
        try:
            written = write_prefilled(config, names, rows or {}, output, force=force, fillers=fillers,
                                      on_progress=lambda w: progress.advance(task))
        except OSError as exc:
            fail(f"无法写入 {os_target(exc, output)}：{os_reason(exc)}")
    table = Table("单位", "文件", "结果", header_style="bold")
    for w in written:
        result = _STATUS.get(w.status) or f"[bold red]未能保存：{w.why}[/]"
        if rows is not None and w.status == "written":
            n = row_count(rows.get(w.unit, {}))
            result += (f"，预填 {n} 行" if n else "，空白") + ("（不在单位名单中）" if w.unit not in listed else "")
        table.add_row(w.unit, str(w.path), result)
    console.print(table)
    done = sum(w.status == "written" for w in written)
    failed = sum(w.status == "failed" for w in written)
    console.print(f"共 {len(written)} 个单位，生成 {done} 份登记表，保存在 {output}"
                  + (f"；[bold red]{failed} 份未能保存[/]，见上表" if failed else ""))
    if failed:
        raise typer.Exit(2)


_STATUS = {"written": "已生成", "exists": "已存在，未覆盖（加 --force 可覆盖）"}
