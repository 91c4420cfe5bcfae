"""The blank workbook's in-cell checks: dropdowns, date/number/length validations with Chinese
input hints and error alerts (PITFALLS: messages are off by default in openpyxl, lists over
255 characters go on a hidden sheet)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import openpyxl
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..model.forms import PHONE_HINT, Column, Form, Kind, Threshold
from . import cells

if TYPE_CHECKING:
    from ..config import Campaign

LISTS_SHEET = "_lists"  # hidden sheet for dropdown lists too long for an inline formula
_clean = cells.clean_cell_text
_text = cells.write_text

# Excel's limits on data-validation texts (longer texts make Excel "repair" the file).
MAX_LIST_FORMULA, MAX_PROMPT, MAX_ERROR, MAX_TITLE = 255, 255, 224, 32

PHONE_ERROR = "电话号码长度不对：手机号为11位，如13812345678；座机请带区号，如0395-1234567；多个号码用“/”分隔。"
DATE_ERROR = "请按 2024-05-01 的格式填写日期（年-月-日，1990年至2099年之间）。"
COUNT_ERROR = "请填写不小于0的整数，如2300；不要写“约”“+”“余”“万”。"
YESNO_ERROR = "只能填写“是”或“否”，请从下拉列表中选择。"


class Lists:
    """Dropdown sources: an inline list when short enough, else a range on a hidden sheet."""

    def __init__(self, wb: openpyxl.Workbook):
        self.wb = wb
        self.ws: Worksheet | None = None
        self.cache: dict[tuple[str, ...], str] = {}

    def formula(self, values: list[str]) -> str:
        values = [_clean(v) for v in values]
        inline = ",".join(values)
        if len(inline) <= MAX_LIST_FORMULA and not any("," in v or '"' in v for v in values):
            return f'"{inline}"'
        key = tuple(values)
        if key not in self.cache:
            if self.ws is None:
                self.ws = self.wb.create_sheet(LISTS_SHEET)
                self.ws.sheet_state = "hidden"
            col = len(self.cache) + 1
            for row, value in enumerate(values, start=1):
                _text(self.ws.cell(row, col), value)
            letter = get_column_letter(col)
            self.cache[key] = f"{quote_sheetname(LISTS_SHEET)}!${letter}$1:${letter}${len(values)}"
        return self.cache[key]

    def move_last(self) -> None:
        if self.ws is not None:
            self.wb.move_sheet(self.ws, len(self.wb.sheetnames) - 1 - self.wb.index(self.ws))


def add_validations(ws: Worksheet, form: Form, config: Campaign, lists: Lists, first_data: int,
                 filler_name: str, filler_phone: str) -> None:
    """One validation (and number format) per column over the data area, plus the filler cells."""
    last_row = first_data + config.validation_rows - 1
    for i, col in enumerate(form.columns, start=1):
        number_format = _number_format(col)
        if number_format:
            for row in range(first_data, last_row + 1):
                ws.cell(row, i).number_format = number_format
        dv = _validation(form, col, config, lists)
        if dv is not None:
            letter = get_column_letter(i)
            dv.add(f"{letter}{first_data}:{letter}{last_row}")
            ws.add_data_validation(dv)
    filler_dv = _dv(None, promptTitle="填表人", prompt="填写填表人姓名")
    filler_dv.add(filler_name)
    ws.add_data_validation(filler_dv)
    phone_dv = _phone_dv(form.phone_label, PHONE_HINT)
    phone_dv.add(filler_phone)
    ws.add_data_validation(phone_dv)
    ws[filler_phone].number_format = "@"


def _number_format(col: Column) -> str | None:
    if col.kind is Kind.DATE:
        return "yyyy-mm-dd"
    if col.kind is Kind.PHONE or col.key == "account_id":
        return "@"
    return None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dv(type_: str | None, *, promptTitle: str, prompt: str, errorTitle: str = "",
        error: str = "", errorStyle: str = "stop", **kw) -> DataValidation:
    """A validation with its input hint and error alert switched on (off by default in openpyxl)."""
    return DataValidation(
        type=type_, allow_blank=True, showInputMessage=True, showErrorMessage=bool(error),
        promptTitle=_clip(promptTitle, MAX_TITLE), prompt=_clip(prompt, MAX_PROMPT),
        errorTitle=_clip(errorTitle, MAX_TITLE) or None, error=_clip(error, MAX_ERROR) or None,
        errorStyle=errorStyle if error else None, **kw,
    )


def _phone_dv(title: str, hint: str) -> DataValidation:
    return _dv("textLength", operator="between", formula1="7", formula2="40", promptTitle=title,
               prompt=hint, errorTitle="电话号码格式不对", error=PHONE_ERROR, errorStyle="warning")


def _validation(form: Form, col: Column, config: Campaign, lists: Lists) -> DataValidation | None:
    title, hint = col.label, col.hint
    if col.kind is Kind.SEQ:
        return None
    if col.kind is Kind.PLATFORM or col.kind is Kind.GROUP_TYPE:
        choices = config.platforms if col.kind is Kind.PLATFORM else config.group_types
        names = [c.name for c in choices]
        other = "；列表中没有的选“其他”，并在备注中写明" if "其他" in names else ""
        keep = "确属列表以外的，可选“是”保留所填内容。"
        error = f"“{title}”请从下拉列表中选择（{'、'.join(names)}）。{keep}"
        if len(error) > MAX_ERROR:
            error = f"“{title}”请从下拉列表中选择。{keep}"
        return _dv("list", formula1=lists.formula(names), promptTitle=title, prompt=hint + other,
                   errorTitle=f"{title}不在列表中", errorStyle="warning", error=error)
    if col.kind is Kind.YESNO:
        return _dv("list", formula1='"是,否"', promptTitle=title, prompt=hint,
                   errorTitle="只能填“是”或“否”", error=YESNO_ERROR)
    if col.kind is Kind.COUNT:
        threshold = form.rule(Threshold)
        if threshold is not None and threshold.column == col.key:
            t = config.follower_threshold
            return _dv("whole", operator="greaterThanOrEqual", formula1=str(t), promptTitle=title,
                       prompt=f"{hint}（粉丝量达{t}人及以上的才属于“网络大V”）；不要写“约”“+”",
                       errorTitle="粉丝数量不足", errorStyle="warning",
                       error=f"粉丝数量应为不少于{t}的整数。粉丝量不足{t}人的账号不属于“网络大V”，"
                             "不需要登记；如确有此账号，请核实粉丝数。")
        return _dv("whole", operator="greaterThanOrEqual", formula1="0", promptTitle=title,
                   prompt=hint, errorTitle="请填写整数", error=COUNT_ERROR)
    if col.kind is Kind.DATE:
        return _dv("date", operator="between", formula1="DATE(1990,1,1)", formula2="DATE(2099,12,31)",
                   promptTitle=title, prompt=hint, errorTitle="日期格式不对", error=DATE_ERROR,
                   errorStyle="warning")
    if col.kind is Kind.PHONE:
        return _phone_dv(title, hint)
    # Plain text: an input hint only.
    return _dv(None, promptTitle=title, prompt=hint) if hint else None
