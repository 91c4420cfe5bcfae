"""The campaign in the terminal: one line per file taken in, the status table, a unit's history."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..campaign.counting import STATE_LABEL
from ..intake.record import DUPLICATE, NEW, NO_UNIT, UNREADABLE
from ..model.report import UnitState
from .terminal import issue_line

COLOURS = {NEW: "green", DUPLICATE: "cyan", NO_UNIT: "yellow", UNREADABLE: "bold red"}


def forms_text(forms) -> str:
    forms = sorted(forms)
    if not forms:
        return "没有填写内容的登记表"
    if forms == [1, 2, 3, 4, 5]:
        return "附件1～5"
    return "、".join(f"附件{f}" for f in forms)


def intake_line(t) -> Text:
    """医学院.xlsx：医学院 第 2 次报送 附件1～5 新增"""
    line = Text(f"{t.name}：")
    if t.id is not None:
        line.append(f"[{t.id}号] ")
    if t.unit:
        line.append(f"{t.unit} ")
    if t.round:
        line.append(f"第 {t.round} 次报送 ")
    if t.result in (NEW, DUPLICATE, NO_UNIT):
        line.append(forms_text(t.forms) + " ")
    line.append(t.result, style=COLOURS[t.result])
    if t.detail:
        line.append(f"（{t.detail}）")
    return line


def message_line(m) -> Text:
    head = Text(f"{m.received:%Y-%m-%d %H:%M} {m.sender} “{m.subject}”", style="bold")
    if not m.files:
        head.append(" 没有附件", style="yellow")
        return head
    for t in m.files:
        head.append("\n  ")
        head.append_text(intake_line(t))
    return head


def status_table(status) -> Table:
    colours = {UnitState.FIX: "bold red", UnitState.UNREADABLE: "bold red", UnitState.MISSING: "yellow",
               UnitState.INCOMPLETE: "yellow"}
    deadline = status.deadline.isoformat() if status.deadline else "未设置"
    table = Table(header_style="bold", title=f"报送情况（统计日期 {status.as_of.isoformat()}，截止日期 {deadline}）")
    for name in ("单位", "状态", "逾期", "纸质版", "次数", "最后报送", "错误", "警告", "整改"):
        table.add_column(name, justify="right" if name in ("次数", "错误", "警告") else "left",
                         no_wrap=name not in ("单位", "整改"), overflow="fold")
    for r in status.rows:
        s = r.status
        change = ""
        if r.changes:
            change = f"已改 {len(r.changes.fixed)}，未改 {len(r.changes.open)}，新增 {len(r.changes.new)}"
        table.add_row(escape(s.unit), Text(s.state.label, style=colours.get(s.state, "green")),
                      Text("逾期", style="bold red") if r.late else "",
                      r.paper.isoformat() if r.paper else Text("未交", style="yellow"),
                      str(r.submissions), f"{r.last_received:%m-%d %H:%M}" if r.last_received else "",
                      str(s.errors), str(s.warnings), change)
    return table


def render_status(status, console) -> None:
    console.print(status_table(status))
    rows = status.rows
    console.print(f"共 {len(rows)} 个单位：已报送 {sum(r.status.state is not UnitState.MISSING for r in rows)} 个，"
                  f"逾期 {sum(r.late for r in rows)} 个，纸质版已交 {sum(r.paper is not None for r in rows)} 个")
    for s in status.unassigned:
        console.print(Text(f"第 {s.id} 号报送（{s.name}）无法确定单位：请用 netreg intake 文件 --unit 单位名称 重新登记",
                           style="yellow"))


def render_history(history, console) -> None:
    table = Table(header_style="bold", title=f"{history.unit} 的报送记录")
    for name in ("编号", "收到时间", "发件人", "文件", "登记表", "计入情况"):
        table.add_column(name, overflow="fold")
    for s, state in history.submissions:
        table.add_row(str(s.id), f"{s.received:%Y-%m-%d %H:%M}", escape(s.sender or ""), escape(s.name),
                      forms_text(s.forms), STATE_LABEL.get(state, state) + (f"（{s.excluded}）" if s.excluded else ""))
    console.print(table)
    for r in history.rounds:
        console.print(Text(f"第 {r.before} 号 → 第 {r.after} 号：已改正 {len(r.fixed)} 个，仍未改正 {len(r.open)} 个，"
                           f"新出现 {len(r.new)} 个", style="bold"))
        for label, items, style in (("已改正", r.fixed, "green"), ("仍未改正", r.open, "yellow"), ("新出现", r.new, "red")):
            for i in items:
                console.print(Text(f"  {label} ", style=style) + Text(issue_line(i)))
