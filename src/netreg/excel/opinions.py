"""The 修改意见 sheet: the first page of a copy sent back to a unit (or the whole workbook when
its file could not be copied): title, the campaign's intro lines and every issue, in plain
Chinese, each linked to its cell."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..model.issues import SEVERITY_LABEL, Issue, Severity, severity_rank, title
from ..model.report import FileResult, Report
from . import cells

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from ..config import Campaign

SHEET = "修改意见"
MAX_CELL_CHARS = 32_000  # Excel's limit is 32 767 characters per cell
FILLS = {Severity.ERROR: "FFC7CE", Severity.WARNING: "FFEB9C", Severity.INFO: "DDEBF7"}
_clean = cells.clean_cell_text


def _text(cell, value: str) -> None:
    cells.write_text(cell, _clean(value)[:MAX_CELL_CHARS])  # clean first, then cut


COLUMNS = (  # header, width, wrap
    ("序号", 6, False), ("级别", 7, False), ("文件", 18, True), ("工作表", 9, False),
    ("单元格", 8, False), ("列名", 13, True), ("填写内容", 20, True), ("问题", 15, True),
    ("修改意见", 52, True),
)
FILE_COLUMN = "文件"
PLACE_COLUMN = "单元格"  # I8 in a sheet; 第5行 第9列 in a Word table (Issue.cell, SPEC §3)
TABLE_PLACE_WIDTH = 14
FONT_NAME = "宋体"


def opinion_sheet(wb, ws: Worksheet, job, report: Report, config: Campaign | None, *,
                   copy_failed: str | None = None, located: dict[int, str] | None = None) -> None:
    """Fill ``ws`` as the 修改意见 sheet of ``job``: title, intro lines, the issue table."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.hyperlink import Hyperlink

    from ..util.resources import jinja_env

    located = located or {}
    ws.title = SHEET
    several = len(job.files) > 1
    columns = [c for c in COLUMNS if several or c[0] != FILE_COLUMN]
    if any(i.in_table for i in job.issues):  # 第12行 第10列: a Word table's place, as Word counts it
        columns = [(name, TABLE_PLACE_WIDTH if name == PLACE_COLUMN else width, wrap) for name, width, wrap in columns]
    position = {name: i for i, (name, _, _) in enumerate(columns, start=1)}
    ncol = len(columns)
    last = get_column_letter(ncol)
    total_width = sum(w for _, w, _ in columns)
    for i, (_, width, _) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width

    this = job.source.path if job.source is not None else None
    issues = sorted(job.issues, key=lambda i: (severity_rank(i), i.file != this))
    counts = {s: sum(i.severity is s for i in issues) for s in Severity}
    unreadable = [(Path(f.path).name, _reason(f, job.issues)) for f in job.files if f.status in ("unreadable", "unsupported")]
    text = jinja_env().get_template("annotate_intro.txt.j2").render(
        unit=job.unit, as_of=_iso(report.as_of),
        file_name=Path(this).name if this and not copy_failed else "",
        copy_failed=(Path(this).name, copy_failed) if this and copy_failed else None,
        other_files=[f"“{Path(f.path).name}”" for f in job.files if f.path != this],
        unreadable=unreadable, errors=counts[Severity.ERROR], warnings=counts[Severity.WARNING],
        infos=counts[Severity.INFO],
        school=getattr(config, "school", ""), deadline=getattr(config, "deadline", ""),
        office=getattr(config, "office", ""), email=getattr(config, "email", ""),
        department=getattr(config, "department", ""),
    )
    intro = [line.strip() for line in text.split("\n") if line.strip()]

    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    centered = Alignment(horizontal="center", vertical="center", wrap_text=True)

    heading = ws.cell(1, 1)
    _text(heading, f"{job.unit} 登记表修改意见")
    heading.font = Font(name=FONT_NAME, size=16, bold=True)
    heading.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.row_dimensions[1].height = max(32, 22 * cells.wrapped_lines(heading.value, total_width * 0.65))

    row = 2
    for line in intro:
        cell = ws.cell(row, 1)
        _text(cell, line)
        cell.font = Font(name=FONT_NAME, size=11, bold=line.startswith("检查结果"),
                         color="C00000" if "无法读取" in line else None)
        cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncol)
        ws.row_dimensions[row].height = 16 * cells.wrapped_lines(line, total_width) + 4
        row += 1
    row += 1  # a blank row before the table

    header_row = row
    for i, (name, _, _) in enumerate(columns, start=1):
        cell = ws.cell(header_row, i)
        _text(cell, name)
        cell.font = Font(name=FONT_NAME, size=11, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.fill = PatternFill("solid", fgColor="D9D9D9")
        cell.border = box
    ws.row_dimensions[header_row].height = 22

    styles = _body_styles(wb, box, left, centered, columns)
    for n, issue in enumerate(issues, start=1):
        row += 1
        coord = located.get(id(issue)) or issue.cell or (f"第{issue.row}行" if issue.row else "")
        values = {
            "序号": n,
            "级别": SEVERITY_LABEL[issue.severity],
            "文件": (Path(issue.file).name + ("（本文件）" if issue.file == this else "")
                     if issue.file else ""),
            "工作表": issue.sheet or (f"附件{issue.form}" if issue.form else ""),
            "单元格": coord,
            "列名": (issue.field or "").replace("\n", ""),
            "填写内容": issue.value or "",
            "问题": title_of(issue.code),
            "修改意见": issue.message,
        }
        height_lines = 1
        for i, (name, width, wrap) in enumerate(columns, start=1):
            cell = ws.cell(row, i)
            value = values[name]
            if isinstance(value, str):
                _text(cell, value)
            else:
                cell.value = value
            cell.style = styles["wrap" if wrap else "center"]
            if wrap and isinstance(cell.value, str):
                height_lines = max(height_lines, cells.wrapped_lines(cell.value, width))
        ws.cell(row, position["级别"]).style = styles[issue.severity]
        if issue.file == this and issue.sheet and id(issue) in located:
            link = ws.cell(row, position["单元格"])
            link.hyperlink = Hyperlink(ref=link.coordinate,
                                       location=f"{quote_sheetname(issue.sheet)}!{located[id(issue)]}")
            link.style = styles["link"]
        ws.row_dimensions[row].height = 15 * height_lines + 6

    if issues:
        ws.auto_filter.ref = f"A{header_row}:{last}{row}"
    ws.freeze_panes = f"A{header_row + 1}"
    cells.page_setup(ws, title_rows=f"{header_row}:{header_row}")
    ws.sheet_properties.tabColor = "C00000" if counts[Severity.ERROR] else "FFC000"
    ws.sheet_view.tabSelected = True


def _body_styles(wb, box, left, centered, columns) -> dict:
    """Named styles for the issue table's cells. One style per kind of cell is registered once;
    setting a cell's font, fill, border and alignment one by one made openpyxl build and hash
    new style objects for every cell (2.7 s of 4.7 s for eight files)."""
    from openpyxl.styles import Font, NamedStyle, PatternFill

    link_wraps = next(wrap for name, _, wrap in columns if name == "单元格")
    specs = {
        "wrap": ("文本", dict(alignment=left)),
        "center": ("居中", dict(alignment=centered)),
        "link": ("链接", dict(alignment=left if link_wraps else centered,
                            font=Font(name=FONT_NAME, size=11, color="0563C1", underline="single"))),
        **{sev: (SEVERITY_LABEL[sev], dict(alignment=centered, fill=PatternFill("solid", fgColor=FILLS[sev])))
           for sev in Severity},
    }
    names = set(wb.named_styles)  # a file annotated before already has them
    styles = {}
    for key, (label, attrs) in specs.items():
        name = f"修改意见·{label}"
        if name not in names:
            attrs = {"font": Font(name=FONT_NAME, size=11), "border": box, **attrs}
            wb.add_named_style(NamedStyle(name=name, **attrs))
        styles[key] = name
    return styles


def title_of(code: str) -> str:
    try:
        return title(code)
    except KeyError:
        return code


def _reason(f: FileResult, issues: list[Issue]) -> str:
    for i in issues:
        if i.file == f.path and i.code in ("file-unreadable", "file-legacy-format", "file-unsupported"):
            return i.message
    return "文件无法读取。"


def _iso(day: object) -> str:
    return day.isoformat() if hasattr(day, "isoformat") else str(day)
