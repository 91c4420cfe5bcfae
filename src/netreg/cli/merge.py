"""netreg merge: the school-wide summary workbook and HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..util.oserror import os_reason, os_target
from .options import (
    AsOfOpt,
    CampaignOpt,
    PathsArg,
    checked_report,
    ConfigOpt,
    RosterOpt,
    UnitsOpt,
    fail,
    new_console,
    parse_day,
)


def merge(
    output: Annotated[Path, typer.Option("--output", "-o", help="汇总表保存位置（.xlsx）", metavar="文件")],
    paths: PathsArg = None,
    config_path: ConfigOpt = None,
    campaign: CampaignOpt = None,
    units_file: UnitsOpt = None,
    as_of: AsOfOpt = None,
    roster: RosterOpt = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="同时生成网页报告（可离线打开、可打印）", metavar="文件")] = None,
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的汇总表/网页报告")] = False,
) -> None:
    """校验全部回收的登记表并生成全校汇总表（总览、附件1～5、问题清单），可选网页报告。

    退出码：0 没有错误；1 有错误；2 用法错误、没有可读取的文件或结果未能保存。

    示例：netreg merge samples/returned -o 汇总.xlsx --html 汇总报告.html --as-of 2025-11-25
    """
    if output.suffix.lower() != ".xlsx":
        fail("汇总表文件名须以 .xlsx 结尾，如 -o 汇总.xlsx")
    day = parse_day(as_of)
    if roster is not None and not roster.is_file():
        fail(f"找不到学生花名册 {roster}")
    from ..app.merge import merge as write_summary
    from ..render.terminal import render_merge_overview

    console = new_console()
    with console.status("正在读取和校验…") as status:
        read = [0]

        def on_file(_path) -> None:
            read[0] += 1
            status.update(f"正在读取和校验…（已读取 {read[0]} 个文件）")

        report, config, view = checked_report(paths, campaign, config_path, units_file, day, roster, on_file)
        if not any(f.ok for f in report.files):
            status.stop()
            for issue in report.issues:
                typer.echo(f"{issue.file}：{issue.message}", err=True)
            fail("没有找到可以读取的登记表文件", 2)
        try:  # OutputExists is a NetregError: the boundary prints it
            result = write_summary(report, output, school=config.school, html=html, force=force, inputs=paths or [],
                                   campaign=view,
                                   on_phase=status.update)
        except OSError as exc:
            status.stop()
            fail(f"无法写入 {os_target(exc, output)}：{os_reason(exc)}")
    render_merge_overview(result, console)
    raise typer.Exit(2 if result.failed else report.exit_code())
