"""netreg status / history / paper / exclude / include: reading and correcting the ledger."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .options import AsOfOpt, CampaignOpt, FormatOpt, UnitsOpt, fail, new_console, open_campaign, parse_day


def _json(data: dict) -> None:
    import json
    import sys

    sys.stdout.buffer.write((json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))


def _format(fmt: str) -> str:
    if fmt not in ("text", "json"):
        fail("--format 只能是 text 或 json")
    return fmt


def status(campaign: CampaignOpt = None, units_file: UnitsOpt = None, as_of: AsOfOpt = None,
           fmt: FormatOpt = "text") -> None:
    """各单位的报送情况：状态、是否逾期、纸质版、报送次数、最后报送时间、错误和警告、上次以来的整改。

    示例：netreg status；netreg status --as-of 2025-11-26 --format json
    """
    _format(fmt)
    day = parse_day(as_of)
    ledger, config, units, _ = open_campaign(campaign, units_file)
    from ..app.campaign import campaign_status

    with ledger:
        result = campaign_status(ledger, config, units, day)
    if fmt == "json":
        _json(result.to_dict())
    else:
        from ..render.campaign import render_status

        render_status(result, new_console())


def history(unit: Annotated[str, typer.Argument(help="单位名称", metavar="单位")], campaign: CampaignOpt = None,
            units_file: UnitsOpt = None, as_of: AsOfOpt = None, fmt: FormatOpt = "text") -> None:
    """一个单位的全部报送，以及每两次报送之间已改正、仍未改正、新出现的问题。

    示例：netreg history 医学院
    """
    _format(fmt)
    day = parse_day(as_of)
    ledger, config, units, contacts = open_campaign(campaign, units_file)
    from ..campaign.contacts import unit_named
    from ..app.campaign import unit_history

    name = unit_named(unit, units, contacts) or unit
    with ledger:
        result = unit_history(ledger, config, name, day)
    if not result.submissions:
        fail(f"台账中没有“{unit}”的报送")
    if fmt == "json":
        _json(result.to_dict())
    else:
        from ..render.campaign import render_history

        render_history(result, new_console())


def paper(units: Annotated[list[str], typer.Argument(help="交来纸质版的单位", metavar="单位")],
          date_: Annotated[Optional[str], typer.Option("--date", help="收到日期（默认今天）", metavar="日期")] = None,
          undo: Annotated[bool, typer.Option("--undo", help="撤销登记（记错了单位时用）")] = False,
          campaign: CampaignOpt = None, units_file: UnitsOpt = None) -> None:
    """登记收到加盖公章的纸质版登记表（一式两份）。

    示例：netreg paper 医学院 团委 --date 2025-11-24
    """
    day = parse_day(date_)
    ledger, _config, known, contacts = open_campaign(campaign, units_file)
    from ..campaign.contacts import unit_named

    names = []
    for u in units:
        name = unit_named(u, known, contacts)
        if name is None:
            fail(f"单位“{u}”不在单位名单中")
        names.append(name)
    with ledger:
        if undo:
            recorded = ledger.paper()
            absent = [n for n in names if n not in recorded]
            if absent:
                fail(f"{'、'.join(absent)}：台账中没有纸质版登记，无需撤销")
        with ledger.write():
            for name in names:
                ledger.set_paper(name, None if undo else day)
    what = "已撤销纸质版登记" if undo else f"已登记纸质版（{day.isoformat()} 收到）"
    typer.echo(f"{'、'.join(names)}：{what}")


def _override(sid: int, reason: str, campaign, action: str) -> None:
    if not reason.strip():
        fail("请用 --reason 写明原因（记入台账）")
    ledger, *_ = open_campaign(campaign)
    with ledger:
        sub = ledger.get(sid)
        if sub is None:
            fail(f"台账中没有第 {sid} 号报送")
        if action == "include" and sub.excluded is None:
            fail(f"第 {sid} 号报送没有被排除，无需恢复")
        with ledger.write():
            ledger.override(sid, action, reason)
    verb = "已排除，不再计入" if action == "exclude" else "已恢复计入"
    files = f"，{len(sub.files)} 个文件" if len(sub.files) > 1 else ""
    typer.echo(f"第 {sid} 号报送（{sub.unit or '单位未定'}，{sub.name}{files}）{verb}；原因：{reason}")


ReasonOpt = Annotated[str, typer.Option("--reason", help="原因（记入台账）", metavar="原因")]
IdArg = Annotated[int, typer.Argument(help="报送编号（见 netreg history）", metavar="编号")]


def exclude(sid: IdArg, reason: ReasonOpt, campaign: CampaignOpt = None) -> None:
    """不计入某次报送（文件仍保留在台账中），须写明原因。

    示例：netreg exclude 12 --reason "误发了其他学校的表"
    """
    _override(sid, reason, campaign, "exclude")


def include(sid: IdArg, reason: ReasonOpt, campaign: CampaignOpt = None) -> None:
    """恢复计入被排除的报送，须写明原因。

    示例：netreg include 12 --reason "核实后确认无误"
    """
    _override(sid, reason, campaign, "include")
