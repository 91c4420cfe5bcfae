"""The school-wide summary workbook built by ``netreg merge``.

总览 (one row per unit, totals, native charts), 附件1…附件5 (every data row of every unit,
normalised), 问题清单 (every issue). Every record of the report is written exactly once;
``rows_out`` is counted from what was written, so rows in = rows out is a real check.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import forms as F
from .issues import SEVERITY_LABEL, Issue, Report, Severity, make, title

STATUS_OK, STATUS_NONE, STATUS_FIX, STATUS_BAD, STATUS_MISSING = \
    "已报送", "已报送（无）", "需整改", "无法读取", "未报送"


@dataclass
class UnitStatus:
    unit: str
    status: str
    files: list[str] = field(default_factory=list)
    rows: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    warnings: int = 0


def unit_statuses(report: Report) -> list[UnitStatus]:
    """Units of the list first (in list order), then units found that are not on it."""
    order = list(report.units) + sorted({f.unit for f in report.files if f.unit} - set(report.units))
    by_unit = {u: UnitStatus(u, STATUS_MISSING) for u in order}
    for f in report.files:
        by_unit[f.unit].files.append(f.path)
    for rec in report.records:
        st = by_unit[rec.unit]
        st.rows[rec.form.id] = st.rows.get(rec.form.id, 0) + 1
    for i in report.issues:
        if i.unit in by_unit:
            by_unit[i.unit].errors += i.severity is Severity.ERROR
            by_unit[i.unit].warnings += i.severity is Severity.WARNING
    readable = {f.unit for f in report.files if f.status == "ok"}
    for st in by_unit.values():
        if not st.files:
            st.status = STATUS_MISSING
        elif st.unit not in readable:
            st.status = STATUS_BAD
        elif st.errors:
            st.status = STATUS_FIX
        elif not st.rows:
            st.status = STATUS_NONE
        else:
            st.status = STATUS_OK
    return list(by_unit.values())


def missing_unit_issues(statuses: list[UnitStatus]) -> list[Issue]:
    return [make("unit-missing", unit=s.unit) for s in statuses if s.status == STATUS_MISSING]


# ---------------------------------------------------------------------------- cells

def _text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value)


def put(ws, row: int, col: int, value: object):
    """Write one value; text stays text (a leading '=' never becomes a formula)."""
    if isinstance(value, bool):
        value = "是" if value else "否"
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = _text(value)
        cell.data_type = "s"
        if value[:1] in ("=", "+", "-", "@"):
            cell.quotePrefix = True
    else:
        cell.value = value
        if isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
    return cell


def _style_table(ws, header_row: int, ncols: int, nrows: int, widths: list[float]) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    thin = Side(style="thin", color="999999")
    fill = PatternFill("solid", fgColor="DDEBF7")
    for c in range(1, ncols + 1):
        cell = ws.cell(row=header_row, column=c)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    last = get_column_letter(ncols)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.auto_filter.ref = f"A{header_row}:{last}{header_row + max(nrows, 1)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"


# ---------------------------------------------------------------------------- sheets

def _form_sheet(wb, form: F.Form, records: list, issues_by_rec: dict, school: str) -> int:
    ws = wb.create_sheet(form.sheet)
    cols = form.data_columns
    extras: list[str] = []
    for rec in records:
        for name in rec.extras:
            if name not in extras:
                extras.append(name)
    headers = ["序号", "填报单位", *(c.label for c in cols), *extras, "问题", "来源文件", "原行号"]
    put(ws, 1, 1, f"{form.title(school)}（汇总）")
    for ci, h in enumerate(headers, start=1):
        put(ws, 2, ci, h)
    r = 2
    for n, rec in enumerate(records, start=1):
        r += 1
        put(ws, r, 1, n)
        put(ws, r, 2, rec.unit)
        for ci, col in enumerate(cols, start=3):
            value = rec.values.get(col.key)
            if value is not None:
                put(ws, r, ci, value)
        base = 3 + len(cols)
        for ei, name in enumerate(extras):
            if name in rec.extras:
                put(ws, r, base + ei, rec.extras[name])
        problems = issues_by_rec.get(id(rec), [])
        if problems:
            put(ws, r, base + len(extras), "；".join(f"{title(i.code)}（{i.field or ''}）" for i in problems))
        put(ws, r, base + len(extras) + 1, rec.file)
        put(ws, r, base + len(extras) + 2, rec.row)
    widths = [6, 16, *(max(c.width, 8) for c in cols), *(12 for _ in extras), 30, 24, 8]
    _style_table(ws, 2, len(headers), len(records), widths)
    return r - 2


def _issue_sheet(wb, issues: list[Issue]) -> None:
    ws = wb.create_sheet("问题清单")
    headers = ["序号", "级别", "单位", "文件", "工作表", "单元格", "列名", "填写内容", "问题", "说明", "问题代码"]
    for ci, h in enumerate(headers, start=1):
        put(ws, 1, ci, h)
    for n, i in enumerate(issues, start=1):
        row = [n, SEVERITY_LABEL[i.severity], i.unit or "", i.file or "", i.sheet or "",
               i.cell or (f"第{i.row}行" if i.row else ""), i.field or "", i.value or "", title(i.code),
               i.message, i.code]
        for ci, v in enumerate(row, start=1):
            put(ws, n + 1, ci, v)
    _style_table(ws, 1, len(headers), len(issues), [6, 6, 16, 24, 10, 8, 14, 18, 16, 60, 20])


def _overview(wb, report: Report, statuses: list[UnitStatus], school: str) -> None:
    from openpyxl.chart import BarChart, PieChart, Reference
    from openpyxl.styles import Font

    ws = wb.active
    ws.title = "总览"
    put(ws, 1, 1, f"{school}网站、新媒体平台、工作群组及“网络大V”登记备案汇总").font = Font(bold=True, size=14)
    put(ws, 2, 1, f"统计日期：{report.as_of.isoformat()}    单位 {len(statuses)} 个，"
                  f"已报送 {sum(s.status != STATUS_MISSING for s in statuses)} 个")
    headers = ["序号", "单位", "状态", "来源文件", *(f"附件{f.id}行数" for f in F.FORMS), "错误", "警告"]
    for ci, h in enumerate(headers, start=1):
        put(ws, 3, ci, h)
    r = 3
    for n, s in enumerate(statuses, start=1):
        r += 1
        row = [n, s.unit, s.status, "、".join(Path(p).name for p in s.files),
               *(s.rows.get(f.id, 0) for f in F.FORMS), s.errors, s.warnings]
        for ci, v in enumerate(row, start=1):
            put(ws, r, ci, v)
    r += 1
    totals = ["", "合计", f"{sum(s.status != STATUS_MISSING for s in statuses)} 个单位已报送", "",
              *(sum(s.rows.get(f.id, 0) for s in statuses) for f in F.FORMS),
              sum(s.errors for s in statuses), sum(s.warnings for s in statuses)]
    for ci, v in enumerate(totals, start=1):
        put(ws, r, ci, v).font = Font(bold=True)
    _style_table(ws, 3, len(headers), len(statuses) + 1, [6, 22, 12, 30, 10, 10, 10, 10, 10, 8, 8])
    ws.auto_filter.ref = f"A3:K{r - 1}"

    # chart data blocks below the table, then native charts that reference them
    records = report.records
    platforms = Counter(rec.values.get("platform") or "未填写" for rec in records if rec.form.id == 2)
    teachers = sum(1 for rec in records if rec.form.id == 5 and _filled(rec, "title") and not _filled(rec, "major"))
    students = sum(1 for rec in records if rec.form.id == 5 and _filled(rec, "major") and not _filled(rec, "title"))
    other = sum(1 for rec in records if rec.form.id == 5) - teachers - students
    cleaned = sum(1 for rec in records if rec.form.id == 3 and rec.values.get("cleaned") is True)
    pending = sum(1 for rec in records if rec.form.id == 3 and rec.values.get("cleaned") is False)
    blocks = [
        ("新媒体账号（按平台）", "账号数", sorted(platforms.items(), key=lambda kv: -kv[1])),
        ("“网络大V”类别", "人数", [("教师", teachers), ("学生", students)] + ([("未区分", other)] if other else [])),
        ("“僵尸”群清理情况", "个数", [("已清理", cleaned), ("未清理", pending)]),
    ]
    r += 3
    anchors = ["M3", "M20", "M37"]
    for (name, unit_label, items), anchor in zip(blocks, anchors):
        put(ws, r, 1, name).font = Font(bold=True)
        put(ws, r + 1, 1, "类别")
        put(ws, r + 1, 2, unit_label)
        for k, (label, count) in enumerate(items or [("（无）", 0)]):
            put(ws, r + 2 + k, 1, str(label))
            put(ws, r + 2 + k, 2, count)
        end = r + 1 + max(len(items), 1)
        chart = PieChart() if name.startswith("“网络大V”") else BarChart()
        chart.title = name
        data = Reference(ws, min_col=2, min_row=r + 1, max_row=end)
        cats = Reference(ws, min_col=1, min_row=r + 2, max_row=end)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        if isinstance(chart, BarChart):
            chart.legend = None
            chart.y_axis.title = unit_label
        chart.height, chart.width = 7.5, 13
        ws.add_chart(chart, anchor)
        r = end + 3


def _filled(rec, key: str) -> bool:
    from .normalize import is_placeholder

    return not is_placeholder(rec.values.get(key))


def build_summary(report: Report, statuses: list[UnitStatus], school: str):
    """The summary workbook (openpyxl) and the number of data rows written to 附件1…5."""
    from openpyxl import Workbook

    wb = Workbook()
    _overview(wb, report, statuses, school)
    issues_by_rec: dict[int, list[Issue]] = {id(rec): rec.issues for rec in report.records}
    unit_order = {s.unit: i for i, s in enumerate(statuses)}
    records = sorted(report.records, key=lambda r: unit_order.get(r.unit, len(unit_order)))  # stable
    rows_out = 0
    for form in F.FORMS:
        recs = [rec for rec in records if rec.form.id == form.id]
        rows_out += _form_sheet(wb, form, recs, issues_by_rec, school)
    _issue_sheet(wb, report.issues)
    return wb, rows_out


@dataclass
class MergeResult:
    report: Report
    statuses: list[UnitStatus]
    rows_in: int
    rows_out: int
    output: Path
    html: Path | None = None


class OutputExists(Exception):
    pass


def merge(report: Report, output: Path, *, school: str, html: Path | None = None,
          force: bool = False, inputs: list[Path] = ()) -> MergeResult:
    """Write the summary (and the HTML report) for an already validated run."""
    from .atomic import atomic_path

    resolved_inputs = {Path(p).resolve() for p in inputs} | {Path(f.path).resolve() for f in report.files}
    for target in [output] + ([html] if html else []):
        if Path(target).resolve() in resolved_inputs:
            raise OutputExists(f"{target} 是输入文件之一，不能覆盖")
        if Path(target).exists() and not force:
            raise OutputExists(f"{target} 已存在；如需覆盖请加 --force")
    statuses = unit_statuses(report)
    report.issues.extend(missing_unit_issues(statuses))
    rows_in = sum(sum(n for _, n in f.forms.values()) for f in report.files)
    wb, rows_out = build_summary(report, statuses, school)
    with atomic_path(output) as tmp:
        wb.save(tmp)
    result = MergeResult(report, statuses, rows_in, rows_out, Path(output))
    if html:
        from .report import render_html

        with atomic_path(html) as tmp:
            tmp.write_text(render_html(result, school), encoding="utf-8")
        result.html = Path(html)
    return result
