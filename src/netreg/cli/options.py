"""What every command shares: the common options, loading the settings, the as-of date,
the console and the way a usage error ends a command (Chinese, exit 2)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="配置文件 netreg.toml（默认：当前目录下的 netreg.toml，没有则用内置设置）", metavar="文件")]
UnitsOpt = Annotated[Optional[Path], typer.Option("--units", help="单位名单文件（每行一个单位名称）", metavar="文件")]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help="统计日期 YYYY-MM-DD（默认今天），用于判断“日期晚于今天”“网站长期未更新”", metavar="日期")]
RosterOpt = Annotated[Optional[Path], typer.Option("--roster", help="学生花名册（.xlsx 或 .csv，含“姓名”“手机号”列），用于发现绑定学生手机号的账号", metavar="文件")]


CampaignOpt = Annotated[Optional[Path], typer.Option("--campaign", help="报送活动文件夹（含 netreg.toml 和台账 netreg.db；默认当前文件夹）", metavar="文件夹")]
FormatOpt = Annotated[str, typer.Option("--format", help="输出格式：text 或 json", metavar="格式")]


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def setup(config_path: Path | None, units_path: Path | None):
    """The settings and the unit list (None: the settings' own): ``app.check.settings``; a
    ConfigError goes to the boundary (``cli.command``)."""
    from ..app.check import settings

    return settings(config_path, units_path)


def parse_day(text: str | None) -> date:
    from ..util.days import typed_day  # 2025-11-25 or 11月25日; else a NetregError (exit 2)

    return typed_day(text) if text else date.today()


def new_console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def open_campaign(folder: Path | None, units_path: Path | None = None):
    """The campaign's ledger, settings, unit names and contacts (campaign.open_campaign)."""
    from ..campaign import open_campaign as opened

    return opened(folder or Path("."), units_path)


def parse_when(text: str | None, what: str):
    """A date or a date and time the user typed (2025-11-20, 2025-11-20 14:30, 11月20日 14:30), or None."""
    from ..util.days import typed_time

    return typed_time(text, what) if text else None


PathsArg = Annotated[Optional[list[Path]], typer.Argument(
    help="回收的登记表文件或文件夹（文件夹逐层查找，.zip 会解开）；在报送活动文件夹中可不写，即校验台账中计入的报送",
    metavar="路径", show_default=False)]


def checked_report(paths, campaign, config_path, units_file, day, roster, on_file=None):
    """(report, config, view): the files given, or with none, the campaign's counted
    submissions (view: the campaign's, else None); ``app.check.checked``."""
    from ..app.check import checked

    run = checked(paths, campaign=campaign, config_path=config_path, units_path=units_file, as_of=day,
                  roster=roster, on_file=on_file)
    return run.report, run.config, run.view
