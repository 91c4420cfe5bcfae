"""The school-wide summary workbook built by ``netreg merge``.

总览 (one row per unit, totals, native charts), 附件1…附件5 (every data row of every unit,
normalised), 问题清单 (every issue). Every record of the report is written exactly once;
``rows_out`` is counted from what was written, so rows in = rows out is a real check.
"""

from __future__ import annotations

from collections import Counter
from itertools import islice
from datetime import date
from pathlib import Path

from ..model import forms as F
from ..model.issues import SEVERITY_LABEL, Issue, title
from ..model.report import (
    Report,
    UnitStatus,
    figures,
)
from ..model.store import tallies
from .cells import FORMULA_START, clean_cell_text, mark_output, write_text
from .cells import styles as _styles
from .sheetxml import Body, save_direct

# ---------------------------------------------------------------------------- cells
# The summary is written in openpyxl's write-only mode (rows streamed in order): at school
# scale it does not matter, at province scale it halves the time of a merge.

def _plain(value: object) -> object:
    """The value both writers store: booleans read 是/否, text loses illegal characters."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        return clean_cell_text(value)
    return value


def cell(ws, value: object, style: str | None = None):
    """One value for ``ws.append``: text stays text (a leading '=' never becomes a formula),
    control characters are stripped, dates get a date format, booleans read 是/否."""
    from openpyxl.cell import WriteOnlyCell

    value = _plain(value)
    formula_like = isinstance(value, str) and value.startswith(FORMULA_START)
    if not (style is not None or isinstance(value, date) or formula_like):
        return value
    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        write_text(c, value)
    elif isinstance(value, date):
        c.number_format = "yyyy-mm-dd"
    for key, v in (_styles()[style] if style else {}).items():
        setattr(c, key, v)
    return c


def _setup_table(ws, header_row: int, ncols: int, nrows: int, widths: list[float]) -> None:
    """Widths, frozen header, autofilter and print setup; set before any row is written."""
    from openpyxl.utils import get_column_letter

    from .cells import page_setup

    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = f"A{header_row + 1}"
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(ncols)}{header_row + max(nrows, 1)}"
    page_setup(ws, title_rows=f"{header_row}:{header_row}")


def _header(ws, names: list[str]) -> None:
    ws.append([cell(ws, n, "header") for n in names])


# ---------------------------------------------------------------------------- sheets

MAX_ROWS = 1_048_576  # rows of an Excel sheet: a sheet that would hold more continues on 附件2（2）…


def sheet_names(name: str, first_row: int, count: int) -> list[tuple[str, int, int]]:
    """(sheet, start, stop) of each sheet ``count`` data rows starting at ``first_row`` need:
    ``name``, then ``name（2）``… each with the same header."""
    capacity = MAX_ROWS - first_row + 1
    spans = [(k, min(k + capacity, count)) for k in range(0, count, capacity)] or [(0, 0)]
    return [(name if n == 0 else f"{name}（{n + 1}）", start, stop) for n, (start, stop) in enumerate(spans)]


def _of_form(records, form: F.Form, rank: dict[str, int]):
    """The records of ``form``, units in ``rank`` order (a callable giving a fresh iterator),
    how many, and the extra columns' names in order of first appearance. Records kept in a
    store (a province's run) are read back one run at a time, never all at once."""
    runs = getattr(records, "runs", None)
    if runs is not None:
        mine = sorted((r for r in runs() if r.form == form.id), key=lambda r: rank.get(r.unit, len(rank)))  # stable
        extras = list(dict.fromkeys(name for run in mine for name in run.extras))
        return (lambda: (rec for run in mine for rec in records.store.load(run))), sum(r.count for r in mine), extras
    listed = sorted((r for r in records if r.form is form), key=lambda r: rank.get(r.unit, len(rank)))  # stable
    return (lambda: iter(listed)), len(listed), list(dict.fromkeys(name for rec in listed for name in rec.extras))


def _form_bodies(wb, form: F.Form, records, rank: dict[str, int], school: str) -> list[Body]:
    cols = form.data_columns
    fresh, count, extras = _of_form(records, form, rank)
    headers = ["序号", "填报单位", *(c.label for c in cols), *extras, "问题", "来源文件", "原行号"]
    widths = [6, 16, *(max(c.width, 8) for c in cols), *(12 for _ in extras), 24, 24, 8]
    keys = [c.key for c in cols]

    def rows(start: int, stop: int):
        for n, rec in enumerate(islice(fresh(), start, stop), start):
            values = rec.values
            problems = "；".join(f"{title(i.code)}（{i.field or ''}）" for i in rec.issues)
            yield [n + 1, rec.unit, *(values.get(k) for k in keys), *(rec.extras.get(e) for e in extras),
                   problems or None, rec.file, rec.row]

    bodies = []
    for sheet, start, stop in sheet_names(form.sheet, 3, count):
        ws = wb.create_sheet(sheet)
        _setup_table(ws, 2, len(headers), stop - start, widths)
        more = "" if sheet == form.sheet else f"，续表：第 {start + 1}～{stop} 行"
        ws.append([cell(ws, f"{form.title(school)}（汇总{more}）", "bold")])
        _header(ws, headers)
        bodies.append(Body(sheet, 3, rows(start, stop), tuple(widths)))
    return bodies


def _issue_bodies(wb, issues) -> list[Body]:
    headers = ["序号", "级别", "单位", "文件", "工作表", "单元格", "列名", "填写内容", "问题", "说明", "问题代码"]
    widths = [6, 6, 16, 24, 10, 8, 14, 18, 16, 60, 20]

    def rows(start: int, stop: int):
        for n, i in enumerate(islice(iter(issues), start, stop), start):
            yield [n + 1, SEVERITY_LABEL[i.severity], i.unit or "", i.file or "", i.sheet or "",
                   i.cell or (f"第{i.row}行" if i.row else ""), i.field or "", i.value or "", title(i.code),
                   i.message, i.code]

    bodies = []
    for sheet, start, stop in sheet_names("问题清单", 2, len(issues)):
        ws = wb.create_sheet(sheet)
        _setup_table(ws, 1, len(headers), stop - start, widths)
        _header(ws, headers)
        bodies.append(Body(sheet, 2, rows(start, stop), tuple(widths)))
    return bodies


def _append_rows(wb, bodies: list[Body]) -> dict[str, int]:
    """The reference writer: every row through openpyxl (used by the equality test)."""
    written: dict[str, int] = {}
    for body in bodies:
        ws = next(w for w in wb.worksheets if w.title == body.sheet)
        for row in body.rows:
            ws.append([None if v is None else cell(ws, v) for v in row])
            written[body.sheet] = written.get(body.sheet, 0) + 1
    return written


def _file_names(files, width: float) -> str:
    """A unit's files in one line of a column ``width`` wide: all names when they fit, else the
    first and how many (a cell printed one line tall cuts the rest off; 附件N name each row's file)."""
    from .cells import wrapped_lines

    names = [Path(p).name for p in files]
    whole = "、".join(names)
    if len(names) < 2 or wrapped_lines(whole, width) == 1:
        return whole
    return f"{names[0]} 等 {len(names)} 个文件"


def _by_state(statuses: list[UnitStatus]) -> str:
    """已报送 7 个、需整改 2 个…: each status counted in its own words (已报送 is a status, not 'sent')."""
    from ..model.report import UnitState

    order = [UnitState.OK, UnitState.NOTHING, UnitState.FIX, UnitState.INCOMPLETE, UnitState.UNREADABLE,
             UnitState.MISSING]
    counts = {state: sum(s.state is state for s in statuses) for state in order}
    return "、".join(f"{state.label} {n} 个" for state, n in counts.items() if n)


CAMPAIGN_COLUMNS = ["逾期", "纸质版", "报送次数", "最后报送时间"]


def _overview(wb, report: Report, statuses: list[UnitStatus], school: str, extra: dict[str, list] | None = None,
              note: str = "") -> None:
    from openpyxl.chart import BarChart, PieChart, Reference
    from openpyxl.chart.label import DataLabelList

    ws = wb.create_sheet("总览")
    more = CAMPAIGN_COLUMNS if extra else []
    headers = ["序号", "单位", "状态", "来源文件", *(f"附件{f.id}行数" for f in F.FORMS), "错误", "警告", *more]
    _setup_table(ws, 3, len(headers), len(statuses), [6, 22, 12, 30, 10, 10, 10, 10, 10, 8, 8]
                 + ([6, 11, 9, 17] if extra else []))
    reported = sum(s.reported for s in statuses)
    ws.append([cell(ws, f"{school}网站、新媒体平台、工作群组及“网络大V”登记备案汇总", "title")])
    ws.append([cell(ws, f"统计日期：{report.as_of.isoformat()}    单位 {len(statuses)} 个，交回登记表 {reported} 个"
                        f"（{_by_state(statuses)}）"
                        + (f"    注意：{note}" if note else ""))])
    _header(ws, headers)
    for n, s in enumerate(statuses, start=1):
        ws.append([n, cell(ws, s.unit), s.label, cell(ws, _file_names(s.files, 30)),
                   *(s.rows.get(f.id, 0) for f in F.FORMS), s.errors, s.warnings,
                   *((extra or {}).get(s.unit, ["", "", "", ""]) if extra else [])])
    totals = ["", "合计", f"{reported} 个单位交回", "",
              *(sum(s.rows.get(f.id, 0) for s in statuses) for f in F.FORMS),
              sum(s.errors for s in statuses), sum(s.warnings for s in statuses)]
    ws.append([cell(ws, v, "bold") for v in totals])
    r = 3 + len(statuses) + 1  # the totals row

    # chart data blocks below the table, then native charts that reference them
    fig = figures(report.records)
    blocks = [
        ("新媒体账号（按平台）", "账号数", fig.platforms),
        ("“网络大V”类别", "人数", [("教师", fig.teachers), ("学生", fig.students)]
         + ([("未区分", fig.uncategorised)] if fig.uncategorised else [])),
        ("“僵尸”群清理情况", "个数", [("已清理", fig.cleaned), ("未清理", fig.pending)]),
    ]
    # Charts beside the data blocks, below the table and within its width (anchored to the
    # right of the table they made the printed page so wide that its type was unreadable).
    # Printed, a chart must not straddle two pages: the charts start on a page of their own,
    # and a block (its data and its chart) that would not fit on what is left of a page
    # starts the next one.
    from openpyxl.worksheet.pagebreak import Break

    used = PAGE_ROWS
    for name, unit_label, items in blocks:
        height = max(CHART_ROWS, 3 + max(len(items), 1))
        if used + height > PAGE_ROWS:
            ws.row_breaks.append(Break(id=r))  # a page break after row r
            used = 0
        used += height
        top = r + 1
        ws.append([])
        ws.append([cell(ws, name, "bold")])
        ws.append(["类别", unit_label])
        first = top + 2  # Excel row of the 类别 line
        items = items or [("（无）", 0)]
        for label, count in items:
            ws.append([cell(ws, str(label)), count])
        end = first + len(items)
        chart = PieChart() if name.startswith("“网络大V”") else BarChart()
        chart.title = name
        chart.add_data(Reference(ws, min_col=2, min_row=first, max_row=end), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=end))
        labels = DataLabelList()
        labels.showVal = isinstance(chart, BarChart)
        labels.showPercent = not labels.showVal
        labels.showSerName = labels.showCatName = labels.showLegendKey = False
        chart.dataLabels = labels
        if isinstance(chart, BarChart):
            chart.legend = None
            chart.y_axis.title = unit_label
        chart.height, chart.width = 7.5, 13  # cm: 7.5 cm is 14 rows of 15 pt
        ws.add_chart(chart, f"D{top + 1}")
        r = end
        while r < top + CHART_ROWS:  # the next block starts below this chart
            ws.append([])
            r += 1


CHART_ROWS = 15  # rows from a block's first row to the next block: a chart 7.5 cm tall (14.2 rows of 15 pt) and a gap
# Rows a printed page of 总览 holds below its repeated header: landscape A4 has 516 pt between
# the margins of page_setup, 34 rows of 15 pt; fitting the width only ever shrinks rows.
PAGE_ROWS = 32


def continued(records, issues) -> list[tuple[str, list[str]]]:
    """Each sheet too long for Excel, with the sheets it continues on."""
    counts = Counter()
    for _unit, form, _file, n in tallies(records):
        counts[form] += n
    out = []
    for form in F.FORMS:
        names = [n for n, _, _ in sheet_names(form.sheet, 3, counts.get(form.id, 0))]
        if len(names) > 1:
            out.append((form.sheet, names[1:]))
    names = [n for n, _, _ in sheet_names("问题清单", 2, len(issues))]
    return out + ([("问题清单", names[1:])] if len(names) > 1 else [])


def continued_note(records, issues) -> str:
    return "；".join(f"{sheet} 超过 Excel 每张工作表 {MAX_ROWS} 行的上限，续写在 {'、'.join(more)}"
                    for sheet, more in continued(records, issues))


def build_summary(report: Report, statuses: list[UnitStatus], school: str, issues: tuple[Issue, ...] | None = None,
                  extra: dict[str, list] | None = None, note: str | None = None):
    """The summary skeleton (openpyxl, write-only) and the big sheets' rows; ``issues`` for
    问题清单 (default: the report's); ``note``: ``continued_note`` of them, when already made."""
    issues = report.issues if issues is None else issues
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    mark_output(wb, "summary")
    _overview(wb, report, statuses, school, extra, continued_note(report.records, issues) if note is None else note)
    rank = {s.unit: i for i, s in enumerate(statuses)}
    bodies = [b for form in F.FORMS for b in _form_bodies(wb, form, report.records, rank, school)]
    bodies += _issue_bodies(wb, issues)
    return wb, bodies


def save_summary(wb, bodies: list[Body], target: Path, *, direct: bool = True) -> int:
    """Write the workbook; returns the data rows written to 附件1…5 (rows out)."""
    if direct:
        written = save_direct(wb, bodies, Path(target))
    else:
        written = _append_rows(wb, bodies)
        wb.save(target)
    forms = {form.sheet for form in F.FORMS}
    return sum(n for sheet, n in written.items() if sheet.split("（")[0] in forms)  # 附件2（2）… too
