"""netreg diff: what changed between last year's summary and this year's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..util.oserror import os_reason, os_target
from .options import ConfigOpt, fail, new_console, setup


def _read(path: Path, config):
    from ..app.check import read_side

    report, notes = read_side(path, config)
    for line in notes:
        typer.echo(f"注意：{line}", err=True)
    return report


def diff(
    old: Annotated[Path, typer.Argument(help="上次（如去年）的汇总表、报送活动文件夹或回收登记表的文件夹", metavar="上次")],
    new: Annotated[Path, typer.Argument(help="本次（如今年）的汇总表、报送活动文件夹或回收登记表的文件夹", metavar="本次")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="把对比结果保存为工作簿（.xlsx）", metavar="文件")] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="同时生成网页报告（可离线打开、可打印）", metavar="文件")] = None,
    fmt: Annotated[str, typer.Option("--format", help="输出格式：text（表格报告）或 json", metavar="格式")] = "text",
    config_path: ConfigOpt = None,
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的工作簿/网页报告")] = False,
) -> None:
    """对比两次登记（如去年和今年的汇总表）：各单位新增、删除和变化的账号、群组和网站。

    示例：netreg diff 2024汇总.xlsx 2025汇总.xlsx -o 对比.xlsx --html 对比.html
    """
    if fmt not in ("text", "json"):
        fail("--format 只能是 text 或 json")
    if output is not None and output.suffix.lower() != ".xlsx":
        fail("对比工作簿的文件名须以 .xlsx 结尾，如 -o 对比.xlsx")
    for target in filter(None, (output, html)):
        if target.resolve() in (old.resolve(), new.resolve()) or (target.exists() and not force):
            fail(f"{target} 已存在或是输入文件之一；如需覆盖已有文件请加 --force")
    config, _ = setup(config_path, None)
    from ..compare import diff as compare
    from ..excel.diffbook import write_diff_book
    from ..render.diff import render_diff_html, render_diff_text, write_diff_json
    from ..util.atomic import write_text

    result = compare(_read(old, config), _read(new, config), old_label=str(old), new_label=str(new),
                     stale_days=config.stale_days)
    try:
        if output is not None:
            write_diff_book(result, output)
        if html is not None:
            write_text(html, render_diff_html(result))
    except OSError as exc:
        fail(f"无法写入 {os_target(exc, output or html)}：{os_reason(exc)}")
    if fmt == "json":
        return write_diff_json(result)
    render_diff_text(result, new_console(), saved=[p for p in (output, html) if p is not None])
