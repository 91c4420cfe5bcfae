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


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def setup(config_path: Path | None, units_path: Path | None):
    """The settings and the unit list (None: the settings' own); a ConfigError goes to the
    boundary (``cli.command``)."""
    from ..config import load_config, read_units_file

    config = load_config(config_path)
    units = read_units_file(units_path) if units_path else None
    return config, units


def parse_day(text: str | None) -> date:
    if not text:
        return date.today()
    from ..check.normalize import parse_date

    parsed = parse_date(text)
    if not parsed.ok or parsed.code:
        fail(f"--as-of 的日期“{text}”无法识别，请写成 2025-11-25 这样的格式")
    return parsed.value


def new_console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)
