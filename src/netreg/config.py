"""Campaign settings: embedded defaults reproduce the notice; netreg.toml overrides them."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from .check.units import match_unit, unit_key  # noqa: F401 (re-exported)
from .errors import ConfigError, NetregError  # noqa: F401 (ConfigError is re-exported)
from .util.oserror import os_reason

CONFIG_NAME = "netreg.toml"




class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    aliases: list[str] = []
    max_members: int | None = Field(None, ge=1)


class Limits(BaseModel):
    """Bounds checked before a returned file is parsed (they keep memory bounded)."""

    model_config = ConfigDict(extra="forbid")
    max_file_mb: float = Field(50, gt=0)
    max_uncompressed_mb: float = Field(300, gt=0)
    max_compression_ratio: float = Field(200, gt=1)
    max_cells: int = Field(2_000_000, ge=1000)


class Mail(BaseModel):
    """The campaign mailbox (netreg.toml [mail]). The password is never here: it comes from
    NETREG_MAIL_PASSWORD or a prompt, and is never written anywhere."""

    model_config = ConfigDict(extra="forbid")
    imap_host: str = ""
    imap_port: int | None = Field(None, ge=1, le=65535)  # None: 993 for ssl, 143 otherwise
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    smtp_host: str = ""
    smtp_port: int | None = Field(None, ge=1, le=65535)  # None: 465 for ssl, 587 for starttls, 25 for none
    smtp_security: Literal["ssl", "starttls", "none"] = "ssl"
    user: str = ""  # the login, and the sender address of letters
    folder: str = "INBOX"
    since: date | None = None  # messages received before this day are not fetched

    def imap_address(self) -> tuple[str, int]:
        return self.imap_host, self.imap_port or (993 if self.imap_security == "ssl" else 143)

    def smtp_address(self) -> tuple[str, int]:
        default = {"ssl": 465, "starttls": 587, "none": 25}[self.smtp_security]
        return self.smtp_host, self.smtp_port or default


DEFAULT_PLATFORMS = [
    Choice(name="微信公众号", aliases=["公众号", "订阅号", "服务号", "微信订阅号", "微信服务号", "微信公众平台"]),
    Choice(name="微博", aliases=["新浪微博", "weibo"]),
    Choice(name="抖音", aliases=["抖音号", "douyin"]),
    Choice(name="视频号", aliases=["微信视频号"]),
    Choice(name="B站", aliases=["哔哩哔哩", "bilibili", "b站"]),
    Choice(name="今日头条", aliases=["头条号", "头条"]),
    Choice(name="快手", aliases=["快手号", "kuaishou"]),
    Choice(name="小红书", aliases=["xhs", "rednote"]),
    Choice(name="其他", aliases=["其它"]),
]

DEFAULT_GROUP_TYPES = [
    Choice(name="微信群", aliases=["微信", "微信工作群", "wechat"], max_members=500),
    Choice(name="QQ群", aliases=["QQ", "QQ工作群", "扣扣群"], max_members=3000),
    Choice(name="企业微信群", aliases=["企业微信", "企微群", "企微"], max_members=2000),
    Choice(name="钉钉群", aliases=["钉钉", "钉钉工作群"], max_members=3000),
    Choice(name="其他", aliases=["其它"]),
]

DEFAULT_UNITS = [
    "党委办公室/校长办公室", "组织部", "党委宣传统战部", "纪委办公室", "教务处", "学生工作处",
    "招生就业处", "团委", "图书馆", "信息化管理中心", "机电工程学院", "信息工程学院",
    "医学院", "经济管理学院", "艺术设计学院", "马克思主义学院",
]


class Campaign(BaseModel):
    """Everything that differs between one school's campaign and another's."""

    model_config = ConfigDict(extra="forbid")
    school: str = Field("漯河职业技术学院", min_length=1)
    department: str = Field("党委宣传统战部", min_length=1)
    office: str = Field("党委宣传统战部308室", min_length=1)
    deadline: str = Field("11月25日", min_length=1)
    email: str = Field("lhzyxc99@126.com", pattern=r"^[^@\s]+@[^@\s]+$")
    follower_threshold: int = Field(2000, ge=0)
    stale_days: int = Field(90, ge=1)
    default_area_code: str = Field("0395", pattern=r"^0\d{2,3}$")
    blank_rows: int = Field(15, ge=1, le=1000)
    validation_rows: int = Field(500, ge=1, le=100_000)
    platforms: list[Choice] = Field(default_factory=lambda: list(DEFAULT_PLATFORMS), min_length=1)
    group_types: list[Choice] = Field(default_factory=lambda: list(DEFAULT_GROUP_TYPES), min_length=1)
    units: list[str] = Field(default_factory=lambda: list(DEFAULT_UNITS))
    roster_files: list[str] = []
    limits: Limits = Field(default_factory=Limits)
    rules: dict[str, Literal["error", "warning", "info", "off"]] = {}  # issue code -> its level here
    # header wordings of the returned forms -> the column they are (粉丝关注量 = 粉丝数量),
    # or per form: {附件5: {粉丝量: 粉丝数量}} (the commented netreg.toml shows how)
    headers: dict[str, str | dict[str, str]] = {}
    mail: Mail = Field(default_factory=Mail)
    _units_file: Path | None = PrivateAttr(None)  # units = "名单.xlsx" in netreg.toml: the table it names
    _aliases: dict[str, str] = PrivateAttr(default_factory=dict)  # the unit table's 别名: 学工处 -> 学生工作处

    @property
    def aliases(self) -> dict[str, str]:
        """Other names of units (the unit table's 别名 column), alias -> unit."""
        return self._aliases

    def with_aliases(self, aliases: dict[str, str]) -> Campaign:
        """These settings with the 别名 of another unit table."""
        copy = self.model_copy()
        copy._aliases = dict(aliases)
        return copy

    @property
    def units_file(self) -> Path | None:
        return self._units_file

    @field_validator("deadline")
    @classmethod
    def _real_day(cls, text: str) -> str:
        """A day that exists, written as the campaign reads it (campaign.counting.deadline_of):
        2026-11-25 (or 2026/11/25, 2026.11.25, 2026年11月25日) or 11月25日. 11月31日, 2026-02-30
        or 下周五 would otherwise leave the campaign without a deadline: nobody late, no reminder."""
        import re

        shown = text.strip()
        example = "请写成 \"11月25日\" 或 \"2026-11-25\""
        m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", shown)
        year = None
        if m:
            year, month, day = int(m[1]), int(m[2]), int(m[3])
        elif m := re.fullmatch(r"(\d{1,2})月(\d{1,2})日?", shown):
            month, day = int(m[1]), int(m[2])
        else:
            raise ValueError(f"“{shown}”不是具体日期，{example}")
        if not 1 <= month <= 12:
            raise ValueError(f"“{shown}”的月份不存在（应为 1～12），{example}")
        try:
            date(2000 if year is None else year, month, day)  # 2000: a leap year
        except ValueError:
            when = f"{year}年{month}月" if year else f"{month}月"
            raise ValueError(f"日期“{shown}”不存在（{when}没有{day}日），{example}") from None
        if year is None and (month, day) == (2, 29):
            raise ValueError(f"“{shown}”只在闰年有，请写明年份，如 \"2028-02-29\"")
        if year is not None and not 2000 <= year <= 2100:
            raise ValueError(f"“{shown}”的年份不对，{example}")
        return text

    @field_validator("rules")
    @classmethod
    def _known_codes(cls, rules: dict[str, str]) -> dict[str, str]:
        from .model.issues import CODES

        unknown = [code for code in rules if code not in CODES]
        if unknown:
            raise ValueError(f"没有这个问题代码：{'、'.join(unknown)}（代码列表见 README“检查的规则”）")
        return rules

    @field_validator("headers")
    @classmethod
    def _known_columns(cls, headers: dict) -> dict:
        from .model.forms import column_labels, form_id_of, header_targets

        for typed, target in headers.items():
            form_id = None
            if isinstance(target, dict):
                form_id = form_id_of(typed)
                if form_id is None:
                    raise ValueError(f"[headers.\"{typed}\"] 不是登记表：请写 [headers.\"附件1\"] … [headers.\"附件5\"]")
                pairs = target.items()
            else:
                pairs = [(typed, target)]
            for t, column in pairs:
                if not header_targets(column, form_id):
                    where = f"附件{form_id}" if form_id else "五张登记表"
                    raise ValueError(f"中“{t}” = “{column}”：{where}中没有“{column}”这一列。可以写的列：{column_labels(form_id)}")
        return headers

    def match_unit(self, text: str | None, units: list[str] | None = None) -> str | None:
        """The unit of ``units`` (default: the configured list) that ``text`` names, or None."""
        return match_unit(text, self.units if units is None else units)


_PYDANTIC_MESSAGES = {
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "string_type": "应为文本（用引号括起来）",
    "list_type": "应为列表，如 [\"a\", \"b\"]",
    "bool_type": "应为 true 或 false",
    "extra_forbidden": "不是可识别的配置项（请检查拼写）",
    "missing": "缺少此项",
    "string_pattern_mismatch": "格式不正确",
    "string_too_short": "不能为空",
    "too_short": "不能为空",
    "model_type": "应为一个表（[节] 或 {…}）",
    "dict_type": "应为一个表（[节] 或 {…}）",
}


def _describe(err: dict) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than"):
        what = f"应不小于 {ctx.get('ge', ctx.get('gt'))}"
    elif kind in ("less_than_equal", "less_than"):
        what = f"应不大于 {ctx.get('le', ctx.get('lt'))}"
    elif kind == "string_pattern_mismatch" and loc == "default_area_code":
        what = "应为以 0 开头的 3～4 位区号，如 \"0395\""
    elif kind == "string_pattern_mismatch" and loc == "email":
        what = "应为电子邮箱地址"
    elif kind == "literal_error":
        what = f"应为 {ctx.get('expected', '')}".replace(" or ", " 或 ")
    elif kind == "value_error":
        what = str(ctx.get("error", "取值不正确"))
        shown = ""
        return f"{loc} {what}"
    else:
        what = _PYDANTIC_MESSAGES.get(kind, err.get("msg", "取值不正确"))
    shown = "" if kind in ("missing",) else f"（当前值：{err.get('input')!r}）"
    if kind == "extra_forbidden":
        shown = ""
    return f"{loc} {what}{shown}"


def _toml_where(message: str) -> str:
    """tomllib's English message → where, in Chinese, and what usually causes it."""
    import re

    m = re.search(r"at line (\d+), column (\d+)", message)
    where = f"第 {m[1]} 行第 {m[2]} 列附近" if m else "某处"
    if "Invalid value" in message or "Invalid initial character" in message:
        what = "值的写法不对（文字要用英文双引号括起来，如 school = \"某某学院\"）"
    elif "Expected '='" in message:
        what = "缺少等号（每行写成 名称 = 值）"
    elif "Cannot overwrite" in message or "Cannot declare" in message:
        what = "同一项写了两次"
    elif "Unclosed" in message or "Expected ']'" in message or "Illegal character" in message:
        what = "引号或方括号没有配对"
    else:
        what = "格式不对（请对照 netreg init 生成的示例检查引号、等号和方括号）"
    return f"{where}{what}"


def load_config(path: Path | None = None, *, search_cwd: bool = True) -> Campaign:
    """Embedded defaults, overridden by ``path`` (or ./netreg.toml when present)."""
    if path is None:
        local = Path.cwd() / CONFIG_NAME
        if not (search_cwd and local.is_file()):
            return Campaign()
        path = local
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}") from None
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{os_reason(exc)}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # saved by Notepad or WPS as ANSI (GBK) on a Chinese Windows
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise ConfigError(f"配置文件 {path} 的编码无法识别，请用记事本“另存为”UTF-8 编码") from None
    # [headers.附件5], as people write it: TOML wants the Chinese key quoted
    text = re.sub(r"(?m)^(\s*\[\s*headers\s*\.\s*)(附件\s*\d)(\s*\])", r'\1"\2"\3', text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 格式有误：{_toml_where(str(exc))}") from None
    units_file = None
    if isinstance(data.get("units"), str):  # units = "单位名单.xlsx": a table beside the toml
        units_file = Path(path).parent / data["units"]
        from .campaign.contacts import aliases_of, read_contacts

        contacts = read_contacts(units_file)
        data["units"] = [c.unit for c in contacts]
    try:
        config = Campaign.model_validate(data)
        config._units_file = units_file
        if units_file is not None:
            config._aliases = aliases_of(contacts)
        return config
    except ValidationError as exc:
        first = _describe(exc.errors()[0])
        more = f"（另有 {exc.error_count() - 1} 处错误）" if exc.error_count() > 1 else ""
        raise ConfigError(f"配置文件 {path} 有误：{first}{more}") from None


def read_units_file(path: Path) -> list[str]:
    """The unit names of a list file: one a line (.txt), or a table (.xlsx/.xls/.csv) whose
    first column, or the column headed 单位, names them; '#' starts a comment in a .txt."""
    from .campaign.contacts import read_contacts

    return [c.unit for c in read_contacts(path)]


def render_default_config(config: Campaign | None = None) -> str:
    """The commented netreg.toml written by ``netreg init``."""
    import json

    from .util.resources import jinja_env

    def q(value: str) -> str:  # a TOML basic string (JSON escapes are valid TOML)
        return json.dumps(value, ensure_ascii=False)

    return jinja_env().get_template("netreg.toml.j2").render(c=config or Campaign(), q=q)


def write_default_config(path: Path) -> None:
    from .util.atomic import write_text

    write_text(path, render_default_config())
