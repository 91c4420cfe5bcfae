"""netreg serve: the campaign on a local web page (SPEC §10)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .options import CampaignOpt, fail


def serve(
    campaign: CampaignOpt = None,
    port: Annotated[int, typer.Option("--port", help="端口（默认 8765；被占用时自动换一个）", metavar="端口")] = 8765,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="不自动打开浏览器")] = False,
    host: Annotated[str, typer.Option("--host", help="监听地址（默认只允许本机访问）", metavar="地址")] = "127.0.0.1",
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help="允许用 --host 指定本机以外可访问的地址")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="没有报送台账时直接在当前文件夹建立，不再询问")] = False,
) -> None:
    """在本机打开报送台账网页：各单位报送情况、拖入文件登记、每个单位的报送记录和操作。按 Ctrl-C 停止。

    示例：netreg serve；netreg serve --campaign 2025登记备案 --port 9000
    """
    from ..campaign.ledger import DB_NAME

    folder = Path(campaign) if campaign else Path(".")
    if host not in ("127.0.0.1", "localhost", "::1") and not allow_remote:
        fail(f"--host {host} 会让本机以外的电脑访问台账：确需如此请同时加 --allow-remote")
    if not (folder / DB_NAME).exists():
        if not yes and not (sys.stdin and sys.stdin.isatty()
                            and typer.confirm(f"{folder.resolve()} 中没有报送台账，是否在此建立报送活动？", default=False)):
            fail(f"{folder.resolve()} 中没有报送台账：请先运行 netreg init，或用 --campaign 指定活动文件夹")
        from .init import init

        init(folder, force=False)
    from ..web.server import run

    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"警告：台账网页将在 {host} 上开放，同一网络中知道网址的人都能访问。", err=True)
    run(folder, host=host, port=port, open_browser=not no_browser, say=typer.echo)
