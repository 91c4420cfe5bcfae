"""The campaign in the terminal: one line per file taken in, the status table, a unit's history."""

from __future__ import annotations

from rich.markup import escape
from .table import QuickTable as Table
from rich.text import Text

from ..campaign.counting import STATE_LABEL
from ..intake.taken import DUPLICATE, NEW, NO_UNIT, NOT_LISTED, UNREADABLE
from ..model.report import UnitState
from .terminal import issue_line

COLOURS = {NEW: "green", DUPLICATE: "cyan", NO_UNIT: "yellow", NOT_LISTED: "yellow", UNREADABLE: "bold red"}


def plain(text: str | None, limit: int = 200) -> str:
    """A stranger's text as it may reach a terminal: control characters (ESC, BEL…) shown as
    visible escapes, never obeyed; cut to ``limit`` characters."""
    import re

    text = re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group(0)):02x}", text or "")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def forms_text(forms) -> str:
    forms = sorted(forms)
    if not forms:
        return "没有填写内容的登记表"
    if forms == [1, 2, 3, 4, 5]:
        return "附件1～5"
    return "、".join(f"附件{f}" for f in forms)


def intake_line(t) -> Text:
    """[12号] 医学院 第 2 次报送 附件1～5 新增：医学院报送.zip — and under it each of its files."""
    line = Text()
    if t.id is not None:
        line.append(f"[{t.id}号] ")
    if t.unit:
        line.append(f"{t.unit} ")
    if t.round:
        line.append(f"第 {t.round} 次报送 ")
    if t.result in (NEW, DUPLICATE, NO_UNIT, NOT_LISTED):
        line.append(forms_text(t.forms) + " ")
    line.append(t.result, style=COLOURS[t.result])
    line.append(f"：{plain(t.name)}")
    if t.detail:
        line.append(f"（{t.detail}）")
    if len(t.files) == 1 and t.files[0].name == t.name:
        return line
    for f in t.files:
        line.append(f"\n    {plain(f.name)}：")
        if f.result in (NEW, NO_UNIT):
            line.append(forms_text(f.forms))
        else:
            line.append(f.result, style=COLOURS[f.result])
        if f.detail:
            line.append(f"（{f.detail}）")
    return line


def message_line(m) -> Text:
    head = Text(f"{m.received:%Y-%m-%d %H:%M} {plain(m.sender, 80)} “{plain(m.subject, 120)}”", style="bold")
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
    for r in [r for r in status.rows if r.listed]:
        s = r.status
        change = ""
        if r.changes:
            change = f"已改 {len(r.changes.fixed)}，未改 {len(r.changes.open)}，新增 {len(r.changes.new)}"
        table.add_row(escape(s.unit), Text(s.state.label, style=colours.get(s.state, "green")),
                      _late(r),
                      r.paper.isoformat() if r.paper else Text("未交", style="yellow"),
                      str(r.submissions), f"{r.last_received:%m-%d %H:%M}" if r.last_received else "",
                      str(s.errors), str(s.warnings), change)
    return table


def _late(r) -> Text | str:
    words = [w for w, on in (("逾期", r.late), ("整改逾期", r.correction_late)) if on]
    return Text("、".join(words), style="bold red") if words else ""


def render_status(status, console) -> None:
    console.print(status_table(status))
    rows = [r for r in status.rows if r.listed]
    counts: dict = {}
    for r in rows:
        counts[r.status.state] = counts.get(r.status.state, 0) + 1
    order = [UnitState.OK, UnitState.NOTHING, UnitState.FIX, UnitState.INCOMPLETE, UnitState.UNREADABLE,
             UnitState.MISSING]
    parts = [f"{state.label} {counts[state]} 个" for state in order if counts.get(state)]
    console.print(f"共 {len(rows)} 个单位：" + "，".join(parts)
                  + f"；逾期 {sum(r.late for r in rows)} 个，整改逾期 {sum(r.correction_late for r in rows)} 个，"
                  f"纸质版已交 {sum(r.paper is not None for r in rows)} 个")
    for r in status.rows:
        if not r.listed:
            console.print(Text(f"“{r.status.unit}”不在单位名单中：报送 {r.submissions} 次，{r.status.state.label}，"
                               "未计入名单内的任何单位。请把它（或作为别名）加入单位名单，或用 netreg intake 文件 --unit 单位名称 "
                               "重新登记", style="yellow"))
    for s in status.unassigned:
        console.print(Text(f"第 {s.id} 号报送（{s.name}）无法确定单位：请用 netreg intake 文件 --unit 单位名称 重新登记",
                           style="yellow"))


def _not_read(s, delivered: dict[int, int]) -> str:
    """The 登记表 cell of a submission none of whose files was read: a copy of files already
    registered was not read again (never 无法读取, which would send the coordinator after it)."""
    if not s.duplicate:
        return "无法读取"
    first = sorted({delivered[f.duplicate_of] for f in s.files if f.duplicate_of in delivered})
    return ("与第 " + "、".join(map(str, first)) + " 号相同") if first else "与已登记的文件相同"


def render_history(history, console) -> None:
    table = Table(header_style="bold", title=f"{history.unit} 的报送记录")
    for name in ("编号", "收到时间", "发件人", "文件", "登记表", "计入情况"):
        table.add_column(name, overflow="fold")
    delivered = {f.id: s.id for s, _ in history.submissions for f in s.files}  # file -> its submission
    for n, (s, state) in enumerate(history.submissions, 1):
        files = "\n".join(escape(f.name) + ("" if history.states.get(f.id) in (None, "counted") or len(s.files) == 1
                                           else f"（{STATE_LABEL.get(history.states[f.id], '')}）") for f in s.files)
        label = STATE_LABEL.get(state, state) + (f"（{escape(s.excluded)}）" if s.excluded else "")
        for action, reason, at in history.overrides.get(s.id, ())[:-1] if s.excluded else history.overrides.get(s.id, ()):
            label += f"\n{at[:16]} {'排除' if action == 'exclude' else '恢复计入'}：{escape(reason)}"
        table.add_row(str(s.id), f"{s.received:%Y-%m-%d %H:%M}", escape(s.sender or ""), files,
                      forms_text(s.forms) if any(f.readable for f in s.files) else _not_read(s, delivered), label)
    console.print(table)
    for r in history.rounds:
        console.print(Text(f"第 {r.before} 号 → 第 {r.after} 号：已改正 {len(r.fixed)} 个，仍未改正 {len(r.open)} 个，"
                           f"新出现 {len(r.new)} 个", style="bold"))
        for label, items, style in (("已改正", r.fixed, "green"), ("仍未改正", r.open, "yellow"), ("新出现", r.new, "red")):
            for i in items:
                console.print(Text(f"  {label} ", style=style) + Text(issue_line(i)))
