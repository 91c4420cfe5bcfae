"""netreg init: the commented settings file of a campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..util.oserror import os_reason
from .options import fail


def init(
    directory: Annotated[Path, typer.Argument(help="写入 netreg.toml 的文件夹", metavar="文件夹")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的 netreg.toml")] = False,
) -> None:
    """生成带注释的配置文件 netreg.toml（包含全部内置设置），供修改后使用。

    示例：netreg init 然后编辑 netreg.toml 中的学校名称、截止日期、单位名单等
    """
    from ..config import write_default_config

    target = directory / "netreg.toml"
    if target.exists() and not force:
        fail(f"{target} 已存在；如需覆盖请加 --force")
    try:
        write_default_config(target)
    except OSError as exc:
        fail(f"无法写入 {target}：{os_reason(exc)}")
    typer.echo(f"已生成配置文件 {target}；修改后，在同一文件夹运行 netreg 时会自动使用它。")
