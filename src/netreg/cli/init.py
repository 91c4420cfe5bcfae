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
    """在文件夹中建立报送活动：带注释的配置文件 netreg.toml（包含全部内置设置）和报送台账 netreg.db。
    已有的配置文件和台账都会保留（加 --force 才重新生成配置文件；台账从不覆盖）。

    示例：netreg init 然后编辑 netreg.toml 中的学校名称、截止日期、单位名单等
    """
    from ..campaign.ledger import DB_NAME, Ledger
    from ..config import write_default_config

    target = directory / "netreg.toml"
    kept = target.exists() and not force
    if not kept:
        try:
            write_default_config(target)
        except OSError as exc:
            fail(f"无法写入 {target}：{os_reason(exc)}")
    ledger = directory / DB_NAME
    existed = ledger.exists()
    Ledger.open(directory, create=True).close()  # a LedgerError goes to the boundary
    typer.echo(f"{target} 已存在，保留原样（加 --force 可重新生成）。" if kept else
               f"已生成配置文件 {target}；修改后，在同一文件夹运行 netreg 时会自动使用它。")
    typer.echo(f"报送台账 {ledger} 已存在，保留原样。" if existed else
               f"已建立报送台账 {ledger}；收到的文件用 netreg intake 登记，netreg status 查看报送情况。")
