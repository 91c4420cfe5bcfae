"""Campaign settings: embedded defaults reproduce the notice; netreg.toml overrides them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .check.units import match_unit, unit_key  # noqa: F401 (re-exported)
from .errors import NetregError

CONFIG_NAME = "netreg.toml"


class ConfigError(NetregError):
    """A configuration problem, with a one-line Chinese message."""


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
    else:
        what = _PYDANTIC_MESSAGES.get(kind, err.get("msg", "取值不正确"))
    shown = "" if kind in ("missing",) else f"（当前值：{err.get('input')!r}）"
    if kind == "extra_forbidden":
        shown = ""
    return f"{loc} {what}{shown}"


def load_config(path: Path | None = None, *, search_cwd: bool = True) -> Campaign:
    """Embedded defaults, overridden by ``path`` (or ./netreg.toml when present)."""
    if path is None:
        local = Path.cwd() / CONFIG_NAME
        if not (search_cwd and local.is_file()):
            return Campaign()
        path = local
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"找不到配置文件 {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 不是有效的 TOML 格式：{exc}") from None
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        first = _describe(exc.errors()[0])
        more = f"（另有 {exc.error_count() - 1} 处错误）" if exc.error_count() > 1 else ""
        raise ConfigError(f"配置文件 {path} 有误：{first}{more}") from None


def read_units_file(path: Path) -> list[str]:
    """One unit per line (a .txt or the first column of a .csv); '#' starts a comment."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = Path(path).read_text(encoding="gb18030")
    except OSError as exc:
        raise ConfigError(f"无法读取单位名单 {path}：{exc.strerror or exc}") from None
    units: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        if Path(path).suffix.lower() == ".csv":
            line = line.split(",", 1)[0]
        line = " ".join(line.split())
        if line and line not in units and line not in ("单位", "单位名称"):
            units.append(line)
    if not units:
        raise ConfigError(f"单位名单 {path} 是空的：请每行写一个单位名称")
    return units


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
