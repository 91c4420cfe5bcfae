"""netreg validate: check returned files, say what to fix and where."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

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


def validate(
    paths: PathsArg = None,
    config_path: ConfigOpt = None,
    campaign: CampaignOpt = None,
    units_file: UnitsOpt = None,
    as_of: AsOfOpt = None,
    roster: RosterOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="输出格式：text（表格报告）或 json", metavar="格式")] = "text",
    annotate: Annotated[Optional[Path], typer.Option("--annotate", help="为每个单位生成带批注的修改意见表，保存到此文件夹", metavar="文件夹")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="警告也算作错误（退出码 1）")] = False,
) -> None:
    """校验各单位交回的登记表，逐条说明问题和修改方法。

    退出码：0 没有错误；1 有错误；2 用法错误或没有可读取的文件。

    示例：netreg validate 回收/ --as-of 2025-11-25 --annotate 修改意见/
    """
    if fmt not in ("text", "json"):
        fail("--format 只能是 text 或 json")
    day = parse_day(as_of)
    if roster is not None and not roster.is_file():
        fail(f"找不到学生花名册 {roster}")
    from ..render.json import write_json

    report, config, view = checked_report(paths, campaign, config_path, units_file, day, roster)
    if not report.files:
        if fmt == "json":
            write_json(report)
        else:
            for issue in report.issues:  # e.g. a path that does not exist
                typer.echo(f"{issue.file}：{issue.message}", err=True)
        fail("没有找到可以读取的登记表文件", 2)
    if annotate is not None:
        from ..app.check import Checked
        from ..app.check import annotate as annotated_copies

        done = annotated_copies(Checked(report, config, view), annotate, day)
        if fmt == "text":
            out = new_console()
            replaced = f"（其中 {len(done.replaced)} 份替换了上一轮的同名文件）" if done.replaced else ""
            out.print(f"已生成 {len(done.written)} 份修改意见表，保存在 {annotate}{replaced}")
            if done.clean:
                out.print(f"{'、'.join(done.clean[:10])}{' 等' if len(done.clean) > 10 else ''} {len(done.clean)} 个单位"
                          "没有需要修改的问题，未生成修改意见表")
            for unit, why in done.failed:
                out.print(f"[bold red]未能生成[/] {unit} 的修改意见表：{why}")
            if done.stale:
                out.print(f"[yellow]注意[/]：{annotate} 中另有 {len(done.stale)} 份以前生成的修改意见表本次没有更新"
                          f"（{'、'.join(p.name for p in done.stale[:5])}{' 等' if len(done.stale) > 5 else ''}），"
                          "请勿把它们当作本轮意见发出")
        else:  # JSON keeps stdout for the document
            for unit, why in done.failed:
                typer.echo(f"未能生成 {unit} 的修改意见表：{why}", err=True)
    if fmt == "json":
        write_json(report)
    else:
        from ..render.terminal import render_text

        render_text(report, new_console())
    raise typer.Exit(max(report.exit_code(strict), int(annotate is not None and bool(done.failed))))  # a copy unwritten: 1

