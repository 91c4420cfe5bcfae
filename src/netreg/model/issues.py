"""Issues: every problem netreg finds is one frozen value with a stable code.

Codes are a public contract (JSON output, tests, docs). Each code has one severity, one
Chinese title and message template, and declares the parameters its template needs beyond
the location (``value``, ``field``, ``form``); ``make`` is the only way an issue is built and
refuses to render a message with a parameter missing. The Chinese phrases that fill those
parameters live here too (``unreadable``, ``not_a_form``…), beside the templates they complete.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, fields
from enum import StrEnum
from operator import attrgetter
from typing import NamedTuple


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_LABEL = {Severity.ERROR: "错误", Severity.WARNING: "警告", Severity.INFO: "提示"}

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO

class Code(NamedTuple):
    severity: Severity
    title: str  # short Chinese title
    template: str  # the message; {value}, {field}, {form}, {unit} come from the location
    params: tuple[str, ...] = ()  # every other {name} in the template


LOCATION_PARAMS = frozenset({"value", "field", "form", "unit"})


def _codes(table: dict[str, tuple]) -> dict[str, Code]:
    """Declare each code's parameters as the names its template uses beyond the location."""
    out = {}
    for code, (severity, title, template) in table.items():
        names = [n for _, n, _, _ in string.Formatter().parse(template) if n]
        out[code] = Code(severity, title, template, tuple(dict.fromkeys(n for n in names if n not in LOCATION_PARAMS)))
    return out


CODES: dict[str, Code] = _codes({
    "file-unreadable": (E, "文件无法读取", "无法读取此文件：{problem}。{advice}"),
    "file-legacy-format": (E, "旧版文件格式", "这是{kind}，netreg 无法读取这种旧格式。请用 Word 或 WPS 打开后“另存为” Word 文档（*.docx），或把表格另存为 Excel 工作簿（*.xlsx），再重新发送。"),
    "file-unsupported": (E, "文件类型不支持", "这是{kind}，不是可以读取的登记表。{advice}"),
    "file-duplicate": (I, "重复的文件", "与 {other} 的内容完全相同，只读取一次。"),
    "netreg-output": (I, "netreg 生成的文件", "这是 netreg 生成的{what}，不是单位报送的登记表，已跳过。"),
    "sheet-ignored": (I, "未读取的工作表", "此{what}有内容，但不是五张登记表中的任何一张，未读取；如果它是登记表，请按通知的表头填写。"),
    "form-empty": (I, "登记表为空", "附件{form}《{form_name}》中没有填写任何内容，按“无需登记”统计；如确实没有需要登记的内容，请在表中填写“无”。"),
    "form-not-found": (W, "缺少登记表", "{state}附件{form}《{form_name}》：请补报此表；如确实没有需要登记的内容，请在表中填写“无”后报送。"),
    "header-mismatch": (E, "表头与通知不符", "此表{what}{missing}。请使用下发的模板，或按通知补齐表头后重新报送。"),
    "template-outdated": (W, "模板版本过旧", "此文件由旧版模板（版本 {found}）填写，当前为版本 {current}。内容已照常检查，下次请使用新模板。"),
    "unit-unknown": (W, "无法确定填报单位", "无法确定填报单位{detail}。请在表格右上角“填报单位”处填写单位全称（与学校单位名单一致），或以单位名称命名文件。"),
    "unit-not-listed": (W, "单位不在名单中", "填报单位“{value}”不在学校的单位名单中{detail}。请填写单位全称（与学校单位名单一致）；如确为名单外的单位，请联系宣传统战部。"),
    "unit-missing": (W, "单位未报送", "{unit}尚未报送任何登记表，请督促报送。"),
    "filler-missing": (E, "填表人信息缺失", "{what}：请在表格上方“填表人”“{phone_label}”处填写填表人姓名和有效的联系电话。"),
    "formula-cell": (W, "单元格含公式", "此单元格是公式（{value}），系统不计算公式，已按文本保留。请直接填写内容，不要使用公式或嵌入图片。"),
    "cell-too-long": (W, "单元格内容过长", "此单元格有 {n} 个字符，超过 Excel 单元格 32767 个字符的上限，汇总表中只保留前 32767 个字符；请删减内容后重新报送。"),
    "extra-column": (W, "多余的列", "“{field}”列不属于本表，内容已保留在汇总表中；请确认是否填错了位置。"),
    "required-missing": (E, "必填项为空", "“{field}”为必填项，请补填。"),
    "phone-invalid": (E, "电话号码无效", "“{value}”不是有效的电话号码{why}"),
    "date-invalid": (E, "日期无效", "“{value}”不是有效的日期，请按 2024-05-01 的格式填写。"),
    "date-in-future": (E, "日期晚于今天", "日期 {value} 晚于统计日期 {as_of}，请核实。"),
    "date-imprecise": (W, "日期不完整", "日期“{value}”只写到月份，请补全到具体日期，如 2024-05-01。"),
    "number-invalid": (E, "数字无效", "“{value}”不是非负整数，请只填写数字，如 2300。"),
    "number-approximate": (W, "数字为约数", "“{value}”是约数，已按 {parsed} 统计；请尽量填写准确数字。"),
    "yes-no-invalid": (E, "是/否无法识别", "“{value}”无法识别，请填写“是”或“否”。"),
    "choice-unknown": (W, "不在选项列表中", "“{value}”不在{field}的选项（{choices}）中，已按原文保留；请从下拉列表中选择，确属其他的选“其他”并在备注中说明。"),
    "website-stale": (W, "网站长期未更新", "网站最后更新于 {value}，距统计日期已 {days} 天（超过 {stale_days} 天），请及时更新网站内容后重新填报。"),
    "student-phone-binding": (E, "绑定学生手机号", "联系电话 {value} 属于学生{who}。通知规定禁止使用学生手机号注册绑定新媒体账号，请改为本单位教职工（建议新闻通讯员）的手机号。"),
    "video-account-uncertified": (I, "视频号未注明认证", "通知要求开设视频号的单位及时进行官方认证；备注中未注明“官方认证”，如已认证请在备注中注明。"),
    "duplicate-account": (W, "账号重复登记", "{platform}账号“{value}”重复登记（另见 {other}），请核实是否为同一账号。"),
    "cleanup-date-missing": (E, "缺少清理时间", "“是否已清理”为“是”，请填写清理时间。"),
    "cleanup-pending": (W, "群尚未清理", "此“僵尸”群尚未清理，请按程序尽快注销或解散，完成后填写清理时间。"),
    "real-name-incomplete": (E, "群成员未全部实名", "通知要求工作群组实行实名管理：请完成全部群成员的实名备注后改为“是”。"),
    "group-size-over-limit": (W, "群人数超过上限", "{group_type}人数 {value} 超过该类群的上限 {limit} 人，请核实人数。"),
    "duplicate-group": (W, "群组重复登记", "{group_type}“{value}”重复登记（另见 {other}），请核实。"),
    "below-threshold": (W, "粉丝数未达标准", "粉丝数量 {value} 低于 {threshold}，不属于“网络大V”统计范围；请核实粉丝数，或删除此行。"),
    "category-missing": (E, "未区分教师/学生", "请在“职务职称（教师填写）”或“专业年级（学生填写）”中填写一项，以区分教师与学生。"),
    "category-ambiguous": (W, "教师/学生两栏都填了", "“职务职称”和“专业年级”都已填写，请只保留一项：教师填职务职称，学生填专业年级。"),
    "duplicate-influencer": (W, "“网络大V”重复", "{platform}账号“{value}”在“网络大V”表中重复出现（另见 {other}），请核实。"),
    "submission-late": (W, "逾期报送", "{unit}{what}，截止日期为 {deadline}。"),
    "paper-missing": (W, "纸质版未交", "{unit}尚未交来加盖公章的纸质版登记表（一式两份），请送{office}。"),
    "correction-late": (W, "整改逾期", "{unit}{what}，整改通知要求的完成日期为 {due}。"),
    "file-superseded": (I, "已被新报送替代", "此文件（{unit}第 {n} 次报送，编号 {id}，{received} 收到）中的{forms}已由后来的{later}替代，不再计入。"),
})
DEFAULTS = {"file-unreadable": {"advice": "请单位重新导出为 .xlsx 格式后再发送。"},
            "file-unsupported": {"advice": "请发送 Excel（.xlsx、.xls）、WPS 表格（.et）、Word（.docx）或 CSV 格式的电子版登记表。"},
            "unit-not-listed": {"detail": ""},
            "phone-invalid": {"why": "：手机号应为 11 位，座机请写区号，如 0395-1234567。"}}


class TableName(str):
    """The name of a table in a document (表格2), given as an issue's or a record's ``sheet``:
    its places are the table's own rows and columns counted from 1, header rows included, as
    Word counts them (表格2 第5行 第9列), where a sheet's are Excel's cells (I8). The row is
    then the table's row; the column stays the grid column's letter inside netreg (sorting,
    the records' columns) and is shown as its number. ``sources/base.TablePlaces`` names it;
    nothing here knows which format the table came from.

    ``cells`` moves places of a table read as label/value pairs (one account per table,
    账号名称：…): the one row's (row, column letter) → the table's (row, column) where that
    value was typed."""

    cells: dict[tuple[int, str], tuple[int, int]]

    def __new__(cls, name: str, cells: dict | None = None) -> "TableName":
        obj = super().__new__(cls, name)
        obj.cells = dict(cells or {})
        return obj

    def __reduce__(self):
        return TableName, (str(self), self.cells)

    def place(self, row: int, column: str) -> tuple[int, int]:
        """(r, c) in the table of the row ``row`` and column letters ``column``."""
        return self.cells.get((row, column)) or (row, column_number(column))


def column_number(letters: str) -> int:
    """I → 9: the 1-based number of a column given by its letters."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


@dataclass(frozen=True, slots=True)
class Issue:
    code: str
    severity: Severity
    message: str
    file: str | None = None
    unit: str | None = None
    form: int | None = None
    sheet: str | None = None
    row: int | None = None  # as Excel shows it (1-based); in a document's table, the table's row
    column: str | None = None  # column letter (a table's grid column: shown as its number, ``place``)
    field: str | None = None  # header text
    value: str | None = None  # the offending value, as typed
    reason: str | None = None  # file-level codes: corrupt, encrypted, too-large, malicious, missing

    def to_dict(self) -> dict:
        d = {"code": self.code, "severity": str(self.severity), "file": self.file, "unit": self.unit,
             "form": self.form, "sheet": self.sheet, "row": self.row, "column": self.column,
             "field": self.field, "value": self.value, "message": self.message}
        if self.in_table:  # SPEC §3: row r and column c of the table, as Word counts them
            at = self.table_place
            d["row"], d["column"] = at if at is not None else (self.row, None)
        if self.reason is not None:
            d["reason"] = self.reason
        return d

    @property
    def in_table(self) -> bool:
        """Placed in a document's table (表格N 第r行 第c列), not in a sheet's cells."""
        return isinstance(self.sheet, TableName)

    @property
    def table_place(self) -> tuple[int, int] | None:
        """(r, c) of a place in a table, 1-based as Word counts them; None elsewhere or
        without a row and a column."""
        if self.in_table and self.column and self.row:
            return self.sheet.place(self.row, self.column)
        return None

    @property
    def cell(self) -> str | None:
        """I8 in a sheet; 第5行 第9列 in a document's table; None without a row and a column."""
        if self.column and self.row:
            at = self.table_place
            if at is not None:
                return f"第{at[0]}行 第{at[1]}列"
            return f"{self.column}{self.row}"
        return None

    def place(self, field: bool = True) -> str:
        """Where a person finds it, in the terms of what they typed it in: 附件2 I8单元格“联系电话”
        in a sheet, 表格2（附件2） 第5行 第9列（联系电话） in a document's table (SPEC §3). The
        sheet is named with its form when it is not the form's own name; ``field``: the
        column's name too."""
        parts = []
        if self.sheet:
            form = self.form if isinstance(self.form, int) else None
            named = form is None or self.sheet == f"附件{form}"
            parts.append(self.sheet if named else f"{self.sheet}（附件{form}）")
        name = (self.field or "") if field else ""
        if self.cell:
            if self.in_table:
                parts.append(self.cell + (f"（{name}）" if name else ""))
                name = ""
            else:
                parts.append(f"{self.cell}单元格")
        elif self.row:
            parts.append(f"第{self.row}行")
        if name:
            parts.append(f"“{name}”")
        return " ".join(parts)


def _builder():
    """``issue_of``: an Issue from its fields in order, each set through its slot (a frozen
    dataclass's own ``__init__`` goes through ``object.__setattr__`` for each of its twelve
    fields: 3.2 µs an issue against 1.5, paid again for every issue a worker sends back and a
    province's run reads back; ``tests/test_fast_paths.py`` compares the two)."""
    names = [f.name for f in fields(Issue)]
    setters = {f"_set{i}": Issue.__dict__[name].__set__ for i, name in enumerate(names)}
    source = (f"def issue_of(values, _new=object.__new__, _cls=Issue, {', '.join(f'{k}={k}' for k in setters)}):\n"
              f"    {', '.join(f'v{i}' for i in range(len(names)))}, = values\n"
              "    issue = _new(_cls)\n"
              + "".join(f"    _set{i}(issue, v{i})\n" for i in range(len(names)))
              + "    return issue\n")
    space = {"Issue": Issue, **setters}
    exec(source, space)  # noqa: S102 - built from the dataclass's own field names
    return space["issue_of"]


issue_of = _builder()
issue_fields = attrgetter(*(f.name for f in fields(Issue)))  # an Issue's fields in order: issue_of's inverse


def make(code: str, *, file: str | None = None, unit: str | None = None, form: int | None = None,
         sheet: str | None = None, row: int | None = None, column: str | None = None,
         field: str | None = None, value: object = None, reason: str | None = None, **ctx: object) -> Issue:
    """Build the issue ``code`` with its message rendered from the location and ``ctx``.
    A declared parameter missing from ``ctx`` (and without a default) raises ``KeyError``:
    a message never silently loses a word."""
    declared = CODES[code]
    shown = None if value is None or value == "" else str(value)
    params = {**DEFAULTS.get(code, {}), **ctx}
    missing = [p for p in declared.params if p not in params]
    if missing:
        raise KeyError(f"{code}: missing message parameter(s) {', '.join(missing)}")
    params.update(value=shown or "", field=field or "", form=form or "", unit=unit or "")
    return issue_of((code, declared.severity, declared.template.format_map(params), file, unit, form, sheet, row,
                     column, field, shown, str(reason) if reason is not None else None))


def title(code: str) -> str:
    return CODES[code].title


# ---------------------------------------------------------------------------- phrases
# The words that complete a template, for the codes whose message has several shapes.

def not_a_form() -> dict[str, str]:
    """header-mismatch for a sheet with content that is none of the five forms."""
    return {"what": "有内容，但表头与通知的五张附件都对不上", "missing": "，其内容未能读取"}


def columns_missing(form_id: int, form_name: str, labels: list[str]) -> dict[str, str]:
    """header-mismatch for a table recognisably of a form whose required columns are missing."""
    return {"what": f"像是附件{form_id}《{form_name}》", "missing": "，缺少以下列：" + "、".join(labels)}


def form_absent(blank: bool) -> dict[str, str]:
    """form-not-found: the form was returned blank (nothing typed, no 无), or not at all."""
    return {"state": "未填写" if blank else "未找到"}


def not_listed(longer_of: str | None) -> dict[str, str]:
    """unit-not-listed: the name typed is not on the list (``longer_of``: the listed unit it
    merely starts with, 经济管理学院团总支 → 经济管理学院)."""
    return {"detail": f"（它比名单中的“{longer_of}”多了几个字，不能算作该单位）" if longer_of else ""}


def unit_doubt(typed: str | None, file_name: str) -> dict[str, str]:
    """unit-unknown: the unit typed is not on the list, or nothing names one."""
    if typed:
        return {"detail": f"（表中填写的“{typed}”不在单位名单中）"}
    return {"detail": f"（表中未填写填报单位，文件名“{file_name}”也无法对应到单位名单）"}


def severity_rank(issue: Issue) -> int:
    return {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}[issue.severity]
