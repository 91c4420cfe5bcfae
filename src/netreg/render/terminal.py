"""The rich terminal report of ``validate`` and the unit overview of ``merge``.

Phone numbers are masked (138****5678): the terminal is read over shoulders and pasted in chats.
"""

from __future__ import annotations

from collections import Counter

from ..model.forms import FORMS_BY_ID
from ..model.issues import SEVERITY_LABEL, Issue, Severity, title
from ..model.report import Report, UnitState
from ..model.store import issue_tally
from .mask import masked

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render_text(report: Report, console) -> None:
    from .table import QuickTable as Table
    from rich.text import Text

    console.print(Text(f"netreg 校验结果（统计日期 {report.as_of.isoformat()}）", style="bold"))
    files = Table(show_lines=False, header_style="bold", expand=False)
    for name, justify in (("文件", "left"), ("单位", "left"), ("登记表", "left"), ("行数", "right"),
                          ("错误", "right"), ("警告", "right")):
        files.add_column(name, justify=justify, overflow="fold")
    for f in report.files:
        if not f.ok:
            forms, rows = NOT_READ.get(f.status, "无法读取"), "-"
        else:
            forms = forms_text(sorted(f.forms))
            rows = str(sum(n for _, n in f.forms.values()))
        files.add_row(f.path, f.unit or "?", forms, rows,
                      Text(str(f.errors), style="bold red" if f.errors else ""),
                      Text(str(f.warnings), style="yellow" if f.warnings else ""))
    console.print(files)
    console.print(files_line(report))
    if report.roster:
        console.print(f"学生花名册：读入 {report.roster} 个学生手机号，用于检查新媒体账号绑定的手机号")
    by_file: dict[str, list[Issue]] = {}
    for issue in report.issues:
        by_file.setdefault(issue.file or "（其他）", []).append(issue)
    for path, issues in by_file.items():
        unit = issues[0].unit
        console.print()
        console.print(Text(f"■ {path}" + (f"（{unit}）" if unit else ""), style="bold"))
        for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
            mine = [i for i in issues if i.severity is severity]
            if not mine:
                continue
            console.print(Text(f"  {SEVERITY_LABEL[severity]}（{len(mine)}）", style=STYLE[severity]))
            for i in mine:
                console.print(Text("    " + issue_line(i), style=""), soft_wrap=True)
    console.print()
    s = report.to_dict()["summary"]
    line = (f"合计：{s['files']} 个文件，{s['units']} 个单位，{s['rows']} 行数据；"
            f"错误 {s['errors']} 个，警告 {s['warnings']} 个，提示 {s['infos']} 个。")
    console.print(Text(line, style="bold red" if s["errors"] else "bold green"))
    if report.issues:
        console.print(top_problems(report.issues))


NOT_READ = {"unreadable": "无法读取", "unsupported": "不是登记表文件", "skipped": "已跳过"}


def files_line(report: Report) -> str:
    """读取 N 个文件（xlsx 12、docx 2…）；未读取 M 个（…）: every file given is accounted for."""
    read = Counter(f.format or "?" for f in report.files if f.ok)
    line = f"读取 {sum(read.values())} 个文件（" + "、".join(f"{k} {n}" for k, n in read.most_common()) + "）" \
        if read else "没有读取到任何文件"
    unread = Counter(NOT_READ.get(f.status, f.status) for f in report.files if not f.ok)
    if unread:
        line += f"；未读取 {sum(unread.values())} 个（" + "、".join(f"{k} {n}" for k, n in unread.items()) + "，原因见下）"
    return line


def top_problems(issues: list[Issue], n: int = 5) -> str:
    codes: Counter = Counter()
    for (_unit, _severity, code), k in issue_tally(issues).items():
        codes[code] += k
    top = codes.most_common(n)  # ties: first seen first, as the tally was built in the issues' order
    return "最常见的问题：" + "；".join(f"{title(c)}{k}处" for c, k in top)  # no space: never "2" / "处"


def forms_text(ids: list[int]) -> str:
    if not ids:
        return "未识别到登记表"
    if ids == sorted(FORMS_BY_ID):
        return f"附件1～{len(ids)}（齐全）"
    return "附件" + "、".join(str(k) for k in ids)


def issue_line(i: Issue) -> str:
    """One issue on one line: where (sheet, cell, column name; a Word table's 第r行 第c列（列名）),
    what, and what to do."""
    _value, message = masked(i)
    prefix = i.place()
    return f"[{title(i.code)}] " + (f"{prefix}：" if prefix else "") + message


def render_merge_overview(result, console) -> None:
    from .table import QuickTable as Table
    from rich.text import Text

    colours = {UnitState.FIX: "bold red", UnitState.UNREADABLE: "bold red", UnitState.MISSING: "yellow",
               UnitState.NOTHING: "cyan", UnitState.INCOMPLETE: "yellow"}
    table = Table(header_style="bold", title=f"各单位报送情况（统计日期 {result.report.as_of.isoformat()}）")
    for name in ("单位", "状态", *(f"附{k}" for k in FORMS_BY_ID), "错误", "警告"):  # 附1 = 附件1: fits 80 columns
        if name in ("单位", "状态"):
            table.add_column(name, no_wrap=name == "状态", overflow="fold", min_width=8)
        else:
            table.add_column(name, justify="right", no_wrap=True)
    for s in result.statuses:
        table.add_row(s.unit, Text(s.label, style=colours.get(s.state, "green")),
                      *(str(s.rows.get(k, 0)) for k in FORMS_BY_ID), str(s.errors), str(s.warnings))
    table.add_row("合计", f"{sum(s.reported for s in result.statuses)}/{len(result.statuses)} 交回",
                  *(str(sum(s.rows.get(k, 0) for s in result.statuses)) for k in FORMS_BY_ID),
                  str(sum(s.errors for s in result.statuses)), str(sum(s.warnings for s in result.statuses)),
                  style="bold")
    console.print(table)
    if result.issues:
        console.print(top_problems(result.issues))
    console.print(files_line(result.report))
    same = result.rows_in == result.rows_out or result.output is None
    unread = sum(not f.ok for f in result.report.files)
    console.print(Text(f"数据行：读入 {result.rows_in} 行（{sum(f.ok for f in result.report.files)} 个文件"
                       + (f"，另有 {unread} 个文件未读取" if unread else "") + "）"
                       + (f"，写入汇总 {result.rows_out} 行" + ("（一致）" if same else "（不一致！请联系技术人员）")
                          if result.output else ""), style="bold green" if same else "bold red"))
    if result.output:
        console.print(f"汇总表已保存：{result.output}")
        if result.note:
            console.print(Text(f"注意：{result.note}", style="yellow"))
    if result.html:
        console.print(f"网页报告已保存：{result.html}")
    for path, why in result.failed:
        console.print(Text(f"未能保存 {path}：{why}", style="bold red"))
