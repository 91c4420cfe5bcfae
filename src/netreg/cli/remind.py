"""netreg remind: a letter (.docx), an e-mail draft (.eml) and 催报名单.xlsx for every unit to
chase; with --send, the drafts go out through the campaign's SMTP server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import AsOfOpt, CampaignOpt, UnitsOpt, fail, open_campaign, parse_day


def remind(
    out: Annotated[Optional[Path], typer.Option("--output", "-o", help="保存通知的文件夹（默认：活动文件夹中的 催报/）", metavar="文件夹")] = None,
    as_of: AsOfOpt = None,
    by: Annotated[Optional[str], typer.Option("--by", help="通知中要求完成的日期（默认：截止日期；已过截止日期则为 3 个工作日后）", metavar="日期")] = None,
    send: Annotated[bool, typer.Option("--send", help="通过 netreg.toml [mail] 中的发信服务器发送邮件")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="发送前不再询问确认")] = False,
    campaign: CampaignOpt = None,
    units_file: UnitsOpt = None,
) -> None:
    """为需要催报的单位（未报送、需补报、需整改、无法读取、逾期、纸质版未交）生成通知（Word）、邮件草稿（.eml）和催报名单。

    加 --send 通过邮箱发出（发出前列出收件人并请您确认）；同一状态的通知只发送一次，发送失败的下次重试。

    示例：netreg remind --as-of 2025-11-28；netreg remind --send
    """
    day = parse_day(as_of)
    due = parse_day(by) if by else None
    ledger, config, units, contacts = open_campaign(campaign, units_file)
    folder = out or (campaign or Path(".")) / "催报"
    from ..app.remind import drafts as make_drafts

    with ledger:
        drafts = make_drafts(ledger, config, units, contacts, folder, as_of=day, by=due)
        for letter in drafts.letters:
            files = "、".join(p.name for p in (drafts.docx[letter.unit], drafts.eml.get(letter.unit)) if p)
            extra = [n for n in drafts.attached.get(letter.unit, [])[1:]]
            note = f"（附 {'、'.join(extra)}）" if extra else ""
            if not letter.recipients:
                note = f"（单位名单中没有{letter.unit}的邮箱，未生成邮件草稿）"
            typer.echo(f"{letter.unit}：{'；'.join(letter.needs) or letter.state.label} → {files}{note}")
        for unit, why in drafts.failed:
            typer.echo(f"未能附上{unit}的修改意见表：{why}")
        if not drafts.letters:
            typer.echo("各单位均已报送、没有需要整改的问题，纸质版也已交齐，不需要催报。")
        else:
            typer.echo(f"共 {len(drafts.letters)} 个单位需要催报：{len(drafts.docx)} 份通知、{len(drafts.eml)} 份邮件草稿，"
                       f"保存在 {folder}；催报名单：{drafts.roster}")
        if drafts.stale:
            typer.echo(f"注意：{folder} 中另有 {len(drafts.stale)} 份以前生成的通知本次没有更新"
                       f"（{'、'.join(p.name for p in drafts.stale[:5])}），这些单位现在不需要这份通知，请勿发出")
        if send:
            _send(ledger, config, drafts, yes)


def _send(ledger, config, drafts, yes: bool) -> None:
    from ..app import remind
    from ..intake.mail import password_from_env_or_prompt

    if not config.mail.smtp_host:
        fail("netreg.toml 中没有设置发信服务器：请在 [mail] 中填写 smtp_host 和 user（见 netreg init 生成的示例）")
    going = remind.pending(ledger, drafts)
    for unit, when in going.done:
        typer.echo(f"{unit}：这份通知已发送过（{when[:16]}），不再发送")
    if not going.todo:
        typer.echo("没有需要发送的邮件。")
        return
    sender = remind.plan_sender(config)
    typer.echo(f"将从 {sender} 发送 {len(going.todo)} 封邮件：")
    for item in going.todo:
        typer.echo(f"  {item.letter.unit}（{'、'.join(item.letter.recipients)}）：{item.letter.subject}")
    for line in going.again:
        typer.echo(line)
    if not yes:
        if not sys.stdin or not sys.stdin.isatty():
            fail("没有终端可以确认发送：确认无误后请加 --yes 再运行")
        if not typer.confirm("确认发送以上邮件吗？", default=False):
            typer.echo("已取消，没有发送任何邮件。")
            return
    password = password_from_env_or_prompt(config.mail.user or sender)
    _outcomes, closing, all_sent = remind.send(ledger, config, going.todo, password, typer.echo)
    typer.echo(closing)
    if not all_sent:
        raise typer.Exit(1)
