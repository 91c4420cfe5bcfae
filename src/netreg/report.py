"""Renderings of a Report for people: the rich terminal report and the JSON document.

The terminal masks phone numbers (138****5678); JSON, the machine channel, keeps values whole.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from .forms import FORMS_BY_ID
from .issues import SEVERITY_LABEL, Issue, Report, Severity, title

PHONE_CODES = {"phone-invalid", "student-phone-binding", "filler-missing"}
_DIGITS = re.compile(r"\d{7,}")


def mask_digits(text: str) -> str:
    """138****5678 for a mobile, ***4567 for a 7/8-digit local number."""
    def repl(m: re.Match) -> str:
        d = m.group(0)
        head = d[:3] if len(d) >= 9 else ""
        return head + "*" * (len(d) - len(head) - 4) + d[-4:]
    return _DIGITS.sub(repl, text)


def masked(issue: Issue) -> tuple[str, str]:
    """(value, message) as shown to people."""
    value, message = issue.value or "", issue.message
    if issue.code in PHONE_CODES and value:
        value = mask_digits(value)
        message = message.replace(issue.value, value)
    return value, message


STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render_text(report: Report, console) -> None:
    from rich.table import Table
    from rich.text import Text

    console.print(Text(f"netreg 校验结果（统计日期 {report.as_of.isoformat()}）", style="bold"))
    files = Table(show_lines=False, header_style="bold", expand=False)
    for name, justify in (("文件", "left"), ("单位", "left"), ("登记表", "left"), ("行数", "right"),
                          ("错误", "right"), ("警告", "right")):
        files.add_column(name, justify=justify, overflow="fold")
    for f in report.files:
        if f.status != "ok":
            forms, rows = "无法读取", "-"
        else:
            forms = "、".join(f"附件{k}" for k in sorted(f.forms)) or "未识别到登记表"
            rows = str(sum(n for _, n in f.forms.values()))
        files.add_row(f.path, f.unit or "?", forms, rows,
                      Text(str(f.errors), style="bold red" if f.errors else ""),
                      Text(str(f.warnings), style="yellow" if f.warnings else ""))
    console.print(files)
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
        top = Counter(i.code for i in report.issues).most_common(5)
        console.print("最常见的问题：" + "；".join(f"{title(c)} {n} 处" for c, n in top))


def issue_line(i: Issue) -> str:
    """One issue on one line: where (sheet, cell, column name), what, and what to do."""
    _value, message = masked(i)
    where = []
    if i.sheet:
        form = FORMS_BY_ID.get(i.form) if i.form else None
        sheet = i.sheet if not form or i.sheet == form.sheet else f"{i.sheet}（附件{form.id}）"
        where.append(sheet)
    if i.cell:
        where.append(f"{i.cell}单元格")
    elif i.row:
        where.append(f"第{i.row}行")
    if i.field:
        where.append(f"“{i.field}”")
    prefix = " ".join(where)
    return f"[{title(i.code)}] " + (f"{prefix}：" if prefix else "") + message


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)
