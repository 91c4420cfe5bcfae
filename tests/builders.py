"""Returned workbooks as units really send them back, built from rows given as dicts keyed by
``forms.Column.key``: our template filled in with openpyxl, a table laid out by hand like the
Word notice (xlsxwriter), and either of them re-saved by LibreOffice.

Rows are ``{form_id: [{"site_name": "…", "phone": "138…", …}, …]}``; a key that is not a
column of the form raises ``KeyError`` so a typo never builds a silently different file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path

import openpyxl

from netreg.model import forms as F
from netreg.config import Campaign
from netreg.excel.template import build_workbook

Rows = Mapping[int, Iterable[Mapping[str, object]]]
FILLER = ("王丽", "13912345678")
SCHOOL = "漯河职业技术学院"


def first_data_row(form: F.Form) -> int:
    """Excel row of the first data row of our template (5, or 6 under 附件5's two-row header)."""
    return 4 + form.header_rows


def column_index(form: F.Form, key: str) -> int:
    """1-based column of ``key`` in our template."""
    for i, col in enumerate(form.columns, start=1):
        if col.key == key:
            return i
    raise KeyError(f"附件{form.id} has no column {key!r}")


def letter(form: F.Form, key: str, offset: int = 0) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column_index(form, key) + offset)


# --------------------------------------------------------------------------- (a) our template

def _input_right_of(ws, label: str) -> tuple[int, int]:
    """(row, column) of the input cell right of the label cell whose text is ``label``."""
    for row in ws.iter_rows(min_row=1, max_row=6):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.strip() == label:
                end = cell.column
                for rng in ws.merged_cells.ranges:
                    if cell.coordinate in rng:
                        end = rng.max_col
                return cell.row, end + 1
    raise LookupError(f"no label {label!r} on sheet {ws.title}")


def filled_template(path: Path, unit: str, rows_by_form: Rows, filler: tuple[str, str] | None = FILLER,
                    *, config: Campaign | None = None, meta: Mapping[str, str] | None = None) -> Path:
    """Our blank workbook for ``unit``, filled in with openpyxl as a unit would in Excel.

    ``filler`` (name, phone) goes into the 填表人 / phone input cells of every form sheet that
    gets rows; ``meta`` overrides metadata (sheet _netreg and custom properties)."""
    wb = build_workbook(config or Campaign(), unit)
    for form_id, rows in rows_by_form.items():
        form = F.FORMS_BY_ID[form_id]
        ws = wb[form.sheet]
        start = first_data_row(form)
        for n, row in enumerate(rows):
            ws.cell(start + n, 1).value = None if row is None else n + 1
            for key, value in (row or {}).items():
                ws.cell(start + n, column_index(form, key)).value = value
        if filler is not None:
            for label, value in zip(("填表人：", form.phone_label + "："), filler):
                r, c = _input_right_of(ws, label)
                ws.cell(r, c).value = value
    if meta:
        _set_meta(wb, meta)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# A unit's whole return, every form answered: the campaign and letter tests build rounds of these.
SITE = {"site_name": "学院网站", "owner": "办公室", "admin": "王强", "phone": "13912345678", "sections": "新闻",
        "last_update": "2025-11-10"}
ACCOUNT = {"platform": "微信公众号", "account_name": "学院之声", "account_id": "gh_001", "followers": 3000,
           "opened": "2020-01-01", "purpose": "宣传", "admin": "王强", "phone": "13912345678", "note": ""}
ZOMBIE = {"admin": "无"}
GROUP = {"group_type": "微信群", "group_name": "教职工群", "members": 120, "purpose": "工作通知", "real_name": "是",
         "admin": "王强", "phone": "13912345678"}
STAR = {"platform": "无"}


def whole(unit: str, path: Path, *, own_account: bool = False, **forms) -> Path:
    """Our template with every form answered for ``unit``; ``f1=[…]``…``f5=[…]`` replace a
    form's rows. ``own_account``: an account id of the unit's own, so that several units'
    returns raise no duplicate-account between them."""
    account = {**ACCOUNT, "account_id": f"gh_{len(unit)}{ord(unit[0])}"} if own_account else ACCOUNT
    rows = {1: [SITE], 2: [account], 3: [ZOMBIE], 4: [GROUP], 5: [STAR]}
    rows.update({int(k[1:]): v for k, v in forms.items()})
    return filled_template(path, unit, rows)


def _set_meta(wb, meta: Mapping[str, str]) -> None:
    ws = wb[F.META_SHEET]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    for key, value in meta.items():
        r = rows.get(key) or ws.max_row + 1
        ws.cell(r, 1).value = key
        ws.cell(r, 2).value = value
        for prop in wb.custom_doc_props:
            if prop.name == F.META_PREFIX + key:
                prop.value = value


def edit(path: Path, sheet: str, cells: Mapping[str, object], out: Path | None = None) -> Path:
    """Set cells (``{"H5": "x"}``) of one sheet with openpyxl; formulas are written as formulas."""
    wb = openpyxl.load_workbook(path)
    for coord, value in cells.items():
        wb[sheet][coord].value = value
    out = Path(out or path)
    wb.save(out)
    return out


# --------------------------------------------------------------------------- (b) by hand

# Header texts as people type them when they rebuild a table from the Word notice: line
# breaks, spaces, half-width or full-width brackets, other wordings. Anything not listed is
# typed as the notice prints it.
HAND_HEADERS: dict[tuple[int, str], str] = {
    (1, "site_name"): "网站\n名称",
    (1, "last_update"): "最后更新 日期",
    (2, "account_id"): "账号ＩＤ",
    (2, "followers"): "粉丝\n人数",
    (2, "note"): "备 注",
    (3, "admin"): "群管理员\n姓名",
    (3, "cleaned"): "是否已 清理",
    (4, "group_type"): "群组类型(QQ群、微信群等)",
    (4, "real_name"): "是否全部实名",
    (5, "platform"): "账号平台",
    (5, "title"): "职务职称(教师填写)",
    (5, "major"): "专业年级\n（学生填写）",
}
HAND_SHEETS = {1: "网站", 2: "新媒体", 3: "Sheet2", 4: "工作群", 5: "大V"}
HAND_ORDER = (5, 3, 1, 4, 2)


def hand_layout(path: Path, unit: str, rows_by_form: Rows, filler: tuple[str, str] | None = FILLER,
                *, unit_text: bool = True, preamble: int = 2, col0: int = 1, typed: bool = True,
                seq: bool = True, headers: Mapping[tuple[int, str], str] | None = None,
                sheets: Mapping[int, str] | None = None, order: Iterable[int] = HAND_ORDER,
                separate: bool = False, blank_sheet: bool = True) -> list[Path]:
    """A workbook laid out by hand like the Word notice, written with xlsxwriter.

    Per sheet, from the top: ``preamble`` rows (附件N, then 填报单位：unit when ``unit_text``,
    then blank rows), the title, the signature line as ONE cell of text, the header (附件5:
    two rows, 类别 merged over its two sub-columns), the data. The table starts in column
    ``col0`` (0-based: 1 = column B). ``headers`` overrides header texts of ``HAND_HEADERS``
    (an empty text leaves the column's header blank); ``seq=False`` leaves 序号 empty; a row
    given as None is left blank. With ``typed``, phones made of digits are written as
    numbers and dates alternate between text like 2024.5.1 and real dates. Sheets are named
    ``sheets`` (default: 网站, 新媒体, Sheet2…) and come in ``order``; ``separate`` writes one
    workbook per form into the folder ``path``. Returns the written files."""
    import xlsxwriter

    path = Path(path)
    names = {**HAND_SHEETS, **(sheets or {})}
    ids = [i for i in order if i in rows_by_form] + [i for i in rows_by_form if i not in order]
    if separate:
        path.mkdir(parents=True, exist_ok=True)
        targets = [(path / f"{names[i]}.xlsx", [i]) for i in ids]
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        targets = [(path, ids)]
    written = []
    for target, form_ids in targets:
        book = xlsxwriter.Workbook(str(target))
        fmt = _Formats(book)
        for form_id in form_ids:
            form = F.FORMS_BY_ID[form_id]
            ws = book.add_worksheet(names[form_id])
            _hand_sheet(ws, fmt, form, unit, list(rows_by_form[form_id]), filler, unit_text=unit_text,
                        preamble=preamble, col0=col0, typed=typed, seq=seq,
                        headers={**HAND_HEADERS, **(headers or {})})
        if blank_sheet and not separate:
            book.add_worksheet("Sheet3")
        book.close()
        written.append(target)
    return written


class _Formats:
    def __init__(self, book):
        self.date = book.add_format({"num_format": "yyyy/m/d"})
        self.header = book.add_format({"bold": True, "text_wrap": True, "align": "center",
                                       "valign": "vcenter", "border": 1})
        self.title = book.add_format({"bold": True, "font_size": 16, "align": "center"})


def hand_first_data_row(form: F.Form, preamble: int = 2) -> int:
    """Excel row of the first data row of ``hand_layout``."""
    return preamble + 2 + form.header_rows + 1


def _hand_sheet(ws, fmt: _Formats, form: F.Form, unit: str, rows: list, filler, *, unit_text: bool,
                preamble: int, col0: int, typed: bool, seq: bool, headers: dict) -> None:
    r = 0
    ws.write_string(r, col0, form.sheet)
    if unit_text and preamble >= 2:
        ws.write_string(1, col0, f"填报单位：{unit}")
    r = preamble
    ncol = len(form.columns)
    ws.merge_range(r, col0, r, col0 + ncol - 1, form.title(SCHOOL), fmt.title)
    r += 1
    name, phone = filler if filler is not None else ("", "")
    ws.write_string(r, col0, f"{form.signer_label}：          填表人：{name}    {form.phone_label}：{phone}")
    r += 1
    h = r
    for i, col in enumerate(form.columns):
        c = col0 + i
        text = headers.get((form.id, col.key), col.label)
        if form.header_rows == 1:
            ws.write(h, c, text, fmt.header)
        elif col.parent:
            ws.write(h + 1, c, text, fmt.header)
        else:
            ws.merge_range(h, c, h + 1, c, text, fmt.header)
    parents = [i for i, col in enumerate(form.columns) if col.parent]
    if parents:
        ws.merge_range(h, col0 + parents[0], h, col0 + parents[-1], form.columns[parents[0]].parent, fmt.header)
    r = h + form.header_rows
    for n, row in enumerate(rows):
        if row is not None and seq:
            ws.write_number(r, col0, n + 1)
        for key, value in (row or {}).items():
            _write(ws, fmt, r, col0 + column_index(form, key) - 1, form.column(key), value, n, typed)
        r += 1
    if form.footnote:
        ws.write_string(r, col0, form.footnote)


def _write(ws, fmt: _Formats, r: int, c: int, col: F.Column, value: object, n: int, typed: bool) -> None:
    if value is None or value == "":
        return
    if typed and col.kind is F.Kind.PHONE and isinstance(value, str) and value.isdigit() and value[0] != "0":
        ws.write_number(r, c, int(value))
    elif isinstance(value, (date, datetime)):
        if typed and n % 2 == 0:
            ws.write_string(r, c, f"{value.year}.{value.month}.{value.day}")
        else:
            ws.write_datetime(r, c, value, fmt.date)
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value)
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value)
    else:
        ws.write_string(r, c, str(value))


def raw_workbook(path: Path, sheets: Mapping[str, list[list]]) -> Path:
    """A workbook whose sheets hold exactly these rows from A1 (None = empty cell; text starting
    with '=' is a formula)."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    fmt = _Formats(book)
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str) and value.startswith("="):
                    ws.write_formula(r, c, value)
                elif value is not None:
                    _write(ws, fmt, r, c, F.SEQ, value, 1, False)
    book.close()
    return path


# --------------------------------------------------------------------------- (c) LibreOffice

def libreoffice_resave(src: Path, outdir: Path) -> Path:
    """``src`` opened and saved again as .xlsx by LibreOffice headless (skips without it)."""
    from office import convert

    return convert(src, "xlsx", outdir)


def docx_with_document(path: Path, document: bytes) -> Path:
    """A real Word package (python-docx's blank document) whose word/document.xml is ``document``."""
    import zipfile

    import docx

    blank = path.with_name(path.stem + ".blank.docx")
    docx.Document().save(blank)
    with zipfile.ZipFile(blank) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                dst.writestr(info, src.read(info))
        dst.writestr("word/document.xml", document)
    blank.unlink()
    return path
