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
            forms = forms_text(sorted(f.forms))
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
        console.print(top_problems(report.issues))


def top_problems(issues: list[Issue], n: int = 5) -> str:
    top = Counter(i.code for i in issues).most_common(n)
    return "最常见的问题：" + "；".join(f"{title(c)} {k} 处" for c, k in top)


def forms_text(ids: list[int]) -> str:
    if not ids:
        return "未识别到登记表"
    if ids == sorted(FORMS_BY_ID):
        return f"附件1～{len(ids)}（齐全）"
    return "附件" + "、".join(str(k) for k in ids)


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
    return "".join(iter_json(report))


def iter_json(report: Report):
    """The JSON document in pieces, exactly as ``json.dumps(report.to_dict(), indent=2,
    ensure_ascii=False)`` would print it, one issue at a time: at province scale the whole
    document at once (and json's pure-Python indenting encoder) doubled validate's memory."""
    head = report.to_dict(issues=False)
    yield _dumps(head, 0)[:-2]  # without the closing "\n}"
    yield ',\n  "issues": ['
    for n, issue in enumerate(report.issues):
        yield ("," if n else "") + "\n    " + _dumps(issue.to_dict(), 2)
    yield "\n  ]\n}" if report.issues else "]\n}"


def _dumps(obj: object, level: int) -> str:
    """json.dumps(obj, indent=2, ensure_ascii=False) for an object nested ``level`` deep;
    scalars go through json's C encoder."""
    if isinstance(obj, dict) and obj:
        pad = "\n" + "  " * (level + 1)
        items = (f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {_dumps(v, level + 1)}" for k, v in obj.items())
        return "{" + ",".join(items) + "\n" + "  " * level + "}"
    if isinstance(obj, (list, tuple)) and obj:
        pad = "\n" + "  " * (level + 1)
        return "[" + ",".join(pad + _dumps(v, level + 1) for v in obj) + "\n" + "  " * level + "]"
    return json.dumps(obj, ensure_ascii=False)


def _bars(items: list[tuple[str, int]]) -> list[dict]:
    """Bar geometry for an inline SVG chart (no scripts, no external resources)."""
    top = max((n for _, n in items), default=0) or 1
    return [{"label": label, "count": n, "width": round(300 * n / top, 1)} for label, n in items]


def render_html(result, school: str) -> str:
    """The standalone HTML report of a merge (jinja2, inline CSS and SVG, phones masked)."""
    from .resources import jinja_env
    from .summary import STATUS_MISSING

    report = result.report
    statuses = result.statuses
    status_counts = Counter(s.status for s in statuses)
    platforms = Counter(r.values.get("platform") or "未填写" for r in report.records if r.form.id == 2)
    by_unit: dict[str, list[dict]] = {}
    for i in report.issues:
        if i.code == "unit-missing":  # shown as 未报送 in the unit table
            continue
        value, message = masked(i)
        by_unit.setdefault(i.unit or "（未知单位）", []).append(
            {"severity": str(i.severity), "label": SEVERITY_LABEL[i.severity], "title": title(i.code),
             "where": " ".join(x for x in (i.sheet or "", i.cell or "", f"“{i.field}”" if i.field else "") if x),
             "value": value, "message": message, "file": i.file or ""})
    return jinja_env().get_template("report.html.j2").render(
        school=school, as_of=report.as_of.isoformat(), statuses=statuses,
        basename=lambda p: p.replace("\\", "/").rsplit("/", 1)[-1],
        reported=sum(s.status != STATUS_MISSING for s in statuses), total_units=len(statuses),
        status_bars=_bars(sorted(status_counts.items(), key=lambda kv: -kv[1])),
        platform_bars=_bars(sorted(platforms.items(), key=lambda kv: -kv[1])),
        forms=[(f.id, f.name) for f in FORMS_BY_ID.values()],
        issues_by_unit=by_unit, rows_in=result.rows_in, rows_out=result.rows_out,
        errors=report.errors, warnings=report.warnings,
        top=[(title(c), n) for c, n in Counter(i.code for i in report.issues).most_common(8)],
    )


def render_merge_overview(result, console) -> None:
    from rich.table import Table
    from rich.text import Text

    from .summary import STATUS_BAD, STATUS_FIX, STATUS_MISSING, STATUS_NONE

    colours = {STATUS_FIX: "bold red", STATUS_BAD: "bold red", STATUS_MISSING: "yellow", STATUS_NONE: "cyan"}
    table = Table(header_style="bold", title=f"各单位报送情况（统计日期 {result.report.as_of.isoformat()}）")
    for name in ("单位", "状态", *(f"附{k}" for k in FORMS_BY_ID), "错误", "警告"):  # 附1 = 附件1: fits 80 columns
        if name in ("单位", "状态"):
            table.add_column(name, no_wrap=name == "状态", overflow="fold", min_width=8)
        else:
            table.add_column(name, justify="right", no_wrap=True)
    for s in result.statuses:
        table.add_row(s.unit, Text(s.status, style=colours.get(s.status, "green")),
                      *(str(s.rows.get(k, 0)) for k in FORMS_BY_ID), str(s.errors), str(s.warnings))
    table.add_row("合计", f"{sum(s.status != STATUS_MISSING for s in result.statuses)}/{len(result.statuses)} 已报送",
                  *(str(sum(s.rows.get(k, 0) for s in result.statuses)) for k in FORMS_BY_ID),
                  str(sum(s.errors for s in result.statuses)), str(sum(s.warnings for s in result.statuses)),
                  style="bold")
    console.print(table)
    if result.report.issues:
        console.print(top_problems(result.report.issues))
    same = result.rows_in == result.rows_out
    console.print(Text(f"数据行：读入 {result.rows_in} 行，写入汇总 {result.rows_out} 行" +
                       ("（一致）" if same else "（不一致！请联系技术人员）"), style="bold green" if same else "bold red"))
    console.print(f"汇总表已保存：{result.output}")
    if result.html:
        console.print(f"网页报告已保存：{result.html}")
