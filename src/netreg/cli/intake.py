"""netreg intake: record received files, or the campaign mailbox's new messages, in the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import CampaignOpt, UnitsOpt, fail, new_console, open_campaign, parse_when


def intake(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="收到的文件或文件夹（含 .zip 和另存的邮件 .eml）", metavar="路径", show_default=False)] = None,
    mail: Annotated[bool, typer.Option("--mail", help="从活动邮箱（netreg.toml 的 [mail]）收取新邮件的附件")] = False,
    received: Annotated[Optional[str], typer.Option("--received", help="收到时间，如 2025-11-20 14:30（默认：.eml 取邮件的发送时间，其他文件取修改时间）", metavar="时间")] = None,
    sender: Annotated[Optional[str], typer.Option("--from", help="发件人邮箱", metavar="地址")] = None,
    unit: Annotated[Optional[str], typer.Option("--unit", help="指定这些文件属于哪个单位", metavar="单位")] = None,
    campaign: CampaignOpt = None,
    units_file: UnitsOpt = None,
) -> None:
    """把收到的登记表记入报送台账：每次报送（一封邮件、一个 .eml、一个压缩包，或本次给出的同一单位的文件）一行，说明单位、第几次报送、含哪些附件、结果，下面列出其中的文件。

    示例：netreg intake 回收/ 或 netreg intake --mail
    """
    if not paths and not mail:
        fail("请给出收到的文件或文件夹，或加 --mail 从邮箱收取")
    when = parse_when(received, "--received 的时间")
    ledger, config, units, contacts = open_campaign(campaign, units_file)
    if unit is not None and unit not in units:
        fail(f"单位“{unit}”不在单位名单中（名单共 {len(units)} 个单位）")
    from ..render.campaign import intake_line, message_line

    console = new_console()
    with ledger:
        if paths:
            from ..app.intake import take_paths

            taken = take_paths(ledger, list(paths), config, units, received=when, sender=sender, unit=unit,
                               on_taken=lambda t: console.print(intake_line(t)), contacts=contacts,
                               on_note=lambda text: console.print(text, style="yellow"))
            if not taken:
                console.print("没有找到文件")
        if mail:
            _mail(ledger, config, units, contacts, console, message_line)


def _mail(ledger, config, units, contacts, console, message_line) -> None:
    if not config.mail.imap_host or not config.mail.user:
        fail("netreg.toml 中没有设置邮箱：请在 [mail] 中填写 imap_host 和 user（见 netreg init 生成的示例）")
    from ..intake.mail import password_from_env_or_prompt
    from ..app.intake import take_mail

    password = password_from_env_or_prompt(config.mail.user)
    host, port = config.mail.imap_address()
    console.print(f"正在收取 {config.mail.user} 的邮件（{host}:{port}）…")
    fetched = take_mail(ledger, config, units, contacts, password, on_message=lambda m: console.print(message_line(m)))
    console.print(f"共收取 {len(fetched)} 封新邮件，{sum(len(m.files) for m in fetched)} 个附件" if fetched
                  else "没有新邮件")
