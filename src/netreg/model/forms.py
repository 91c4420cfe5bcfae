"""The five registration forms of the notice, as data.

This module is the only description of the forms: the template writer, the scanner's header
matching, the checks, the ledger and the summary all read ``FORMS``. Header texts are the
notice's own; a ``\\n`` marks where the notice breaks the header cell onto two lines. A form
also declares what identifies one of its entries (``Identity``: duplicates, history, diff),
the notice's rules on its rows (``rules``: ``check/rows.py`` and ``check/cross.py`` carry
them out) and, for 附件5, how teachers and students are told apart (``CategorySplit``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from ..util.text import clean_text, is_placeholder, nfkc_key


class Kind(StrEnum):
    SEQ = "seq"  # 序号: ignored when reading, renumbered when merging
    TEXT = "text"
    PHONE = "phone"
    DATE = "date"
    COUNT = "count"
    YESNO = "yesno"
    PLATFORM = "platform"
    GROUP_TYPE = "group_type"


@dataclass(frozen=True)
class Column:
    key: str  # stable English identifier, used in code and JSON
    header: str  # verbatim header of the notice ("\n" = line break in the cell)
    kind: Kind = Kind.TEXT
    required: bool = True
    width: float = 14
    hint: str = ""  # input hint shown by Excel/WPS when the cell is selected
    aliases: tuple[str, ...] = ()  # other header texts seen in hand-made tables
    parent: str | None = None  # upper header of a two-row header (附件5 类别)

    @property
    def label(self) -> str:
        """Header as one line, for messages and the summary."""
        return self.header.replace("\n", "")


# ---------------------------------------------------------------- declarations on a form

@dataclass(frozen=True)
class Identity:
    """The columns that identify an entry (the same account, group or website) across rows,
    files, rounds and years; ``fallback`` when the last of ``columns`` is blank."""

    columns: tuple[str, ...]
    fallback: tuple[str, ...] = ()


@dataclass(frozen=True)
class Duplicates:
    """Two rows with the same identity are one entry registered twice: ``code`` is raised on
    each; ``per_unit`` limits the comparison to one unit (每个学院都有“教职工群”)."""

    code: str
    per_unit: bool = False


@dataclass(frozen=True)
class CategorySplit:
    """附件5's 类别: two sub-columns under one upper header; a row with ``teacher`` filled is a
    teacher's or staff member's, with ``student`` filled a student's. A lone 类别 column is
    split by its value: ``student_words`` mark a student's (护理2023级, 学生)."""

    parent: str
    teacher: str
    student: str
    student_words: str = r"学生|本科|专科|研究生|硕士生|博士生|\d{2,4}\s*级|年级|届|班"
    # Other headers of one column standing for both (身份: 教师/学生 — issue 26's held-out returns;
    # 人员类别 / 身份类别 as 宣传部 statistics tables word it).
    lone: tuple[str, ...] = ("身份", "人员身份", "人员类别", "身份类别", "教师学生", "师生类别")


# Row rules of the notice (SPEC §4), declared on the forms they apply to.
@dataclass(frozen=True)
class StaleDate:  # website-stale: the date is older than ``stale_days`` before the as-of date
    column: str


@dataclass(frozen=True)
class Certified:  # video-account-uncertified: a 视频号 whose note does not say 官方认证
    choice_column: str
    choice: str
    note_column: str


@dataclass(frozen=True)
class Cleanup:  # cleanup-date-missing when cleaned without a date; cleanup-pending when not cleaned
    flag: str
    date: str


@dataclass(frozen=True)
class MustBeYes:  # ``code`` when the yes/no column says 否
    column: str
    code: str


@dataclass(frozen=True)
class SizeLimit:  # group-size-over-limit: the count above its type's configured maximum
    type_column: str
    count_column: str


@dataclass(frozen=True)
class Threshold:  # below-threshold: followers under the configured threshold
    column: str


@dataclass(frozen=True)
class OneCategory:  # category-missing / category-ambiguous (the form's CategorySplit)
    pass


@dataclass(frozen=True)
class NoStudentPhone:  # student-phone-binding (across files: check/cross.py)
    column: str


RowRule = StaleDate | Certified | Cleanup | MustBeYes | SizeLimit | Threshold | OneCategory | NoStudentPhone


@dataclass(frozen=True)
class Form:
    id: int
    name: str  # form name without the school name
    columns: tuple[Column, ...]
    identity: Identity
    rules: tuple[RowRule, ...] = ()
    duplicates: Duplicates | None = None
    category: CategorySplit | None = None
    signer_label: str = "单位负责人签名（盖章）"
    phone_label: str = "填表人电话"
    footnote: str | None = None
    # Header texts naming one of several columns: (text, column keys in order of preference);
    # the first not named by another header of the table takes it.
    ambiguous: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def sheet(self) -> str:
        return f"附件{self.id}"

    @property
    def header_rows(self) -> int:
        return 2 if any(c.parent for c in self.columns) else 1

    @property
    def data_columns(self) -> tuple[Column, ...]:
        """Columns that carry data (everything but 序号)."""
        return tuple(c for c in self.columns if c.kind is not Kind.SEQ)

    def title(self, school: str) -> str:
        return f"{school}{self.name}"

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def __reduce__(self):
        # A record crossing from a worker process keeps the one Form object (``is`` holds,
        # and each pickled record carries two numbers instead of the whole description).
        return _form_by_id, (self.id,)

    def rule(self, kind: type) -> RowRule | None:
        return next((r for r in self.rules if isinstance(r, kind)), None)

    def identity_parts(self, values: dict, *, fallback: bool = True) -> tuple[str, ...] | None:
        """The identity of a row as comparable keys (NFKC, casefolded, no spaces), or None when
        its identifying cells are blank. Without ``fallback`` only the declared columns count."""
        for cols in (self.identity.columns, self.identity.fallback if fallback else ()):
            if cols and not is_placeholder(values.get(cols[-1])):
                return tuple(nfkc_key(values.get(c)) for c in cols)
        return None

    def identity_text(self, values: dict) -> str | None:
        """The identity as people read it: 微信公众号/gh_5d46c5522574."""
        parts = self.identity_parts(values)
        return None if parts is None else "/".join(parts)

    def category_of(self, values: dict) -> str | None:
        """'teacher', 'student', 'both' or None (neither filled) for a row of this form."""
        if self.category is None:
            return None
        teacher = not is_placeholder(values.get(self.category.teacher))
        student = not is_placeholder(values.get(self.category.student))
        return "both" if teacher and student else "teacher" if teacher else "student" if student else None

    def split_category(self, value: object) -> tuple[object, object]:
        """(teacher value, student value) for what a lone 类别 cell says, kept as typed."""
        text = clean_text(value)
        if not text or self.category is None:
            return None, None
        return (None, value) if re.search(self.category.student_words, text) else (value, None)


# ---------------------------------------------------------------- the vocabulary
# Header wordings other schools and offices use for the same columns (issue 26). Where each
# was seen, by short name:
#   [i26]  the held-out returns quoted in issue 26 (other schools' website, new-media,
#          work-group, 僵尸群 and 网络大V forms: 粉丝关注量, 粉丝量, 身份, 账号类型, 平台类型,
#          公众号名称, 微博名称, 微信号, 群主, 管理员, 群成员人数, 是否完成实名认证, 微信群名称,
#          栏目名称, 最近更新时间, 网站负责人姓名, 网站负责人联系电话, 平台名称 for the name)
#   [hl]   a 宣传部 notice, 统计“两微一端”及校内宣传媒介 (hltrhy.com/info/1150/4938.html, 2019):
#          “粉丝关注量在5000人以上认定为网络大V”, 工作微信群 “管理员”
#   [ml]   汨罗市委网信办 自媒体登记备案 (miluo-xhncloud.voc.com.cn/content/3223315, 2022):
#          “关注量或粉丝量”; [ty] 唐县网信办 网络账号备案登记表 (hebei.news.163.com, 2025): 粉丝量
#   [sx]   山西省社会新媒体备案登记表 (renrendoc.com/p-66842170.html): 服务类型, 账号名称, 账号
#   [ak]   安康学院《微信公众账号登记备案表》《微博账号登记备案表》 (aku.edu.cn/info/1021/36538.htm):
#          one table per platform, the platform in the title
#   [sz]   宿州学院 新媒体平台备案 (ahszu.edu.cn/info/1063/71870.htm): 粉丝数, 微信(群/公众号/视频号)
#   [xx]   新乡医学院三全学院《微信工作群清查登记表》 (2019): 建立者, 管理者, 微信群名称, 用途
#   [bs]   QQ群、微信群清理统计表 notice (bsdsys.com/info/1022/12234.htm, 2019): 群主, 群管理员
#   [gx]   工信部 互联网站备案 (szie.net, yfnd.net): 网站负责人姓名, 网站负责人手机号码/办公电话
#   [jw]   网站排查/自查 notices (takvimtv.com 2024, uwh.edu.cn 2024): 栏目, 更新不及时的栏目
#   [dy]   抖音/微博 platform notices (hnyjedu.net 2023): 粉丝数量

SEQ = Column("seq", "序号", Kind.SEQ, required=False, width=6, aliases=("编号", "序"))
NOTE = Column("note", "备注", Kind.TEXT, required=False, width=16, hint="可不填", aliases=("说明", "其他说明"))
PHONE_HINT = "手机号11位，或座机带区号，如0395-1234567；多个号码用“/”分隔"
DATE_HINT = "日期，如2024-05-01"
COUNT_HINT = "填整数，如2300；不要写“约”“+”"


def _phone(key: str = "phone", header: str = "联系电话", more: tuple[str, ...] = (), **kw) -> Column:
    return Column(key, header, Kind.PHONE, width=15, hint=PHONE_HINT,
                  aliases=("联系电话", "联系方式", "手机号", "手机号码", "电话", "手机", "电话号码", "联系手机",
                           *more), **kw)


FORMS: tuple[Form, ...] = (
    Form(1, "网站平台更新登记备案表", (
        SEQ,
        Column("site_name", "网站名称", width=22, hint="网站的正式名称",
               aliases=("网站", "网站名", "网站名称及网址", "二级网站名称", "网站名称及域名")),  # [gx]
        Column("owner", "网站负责人", width=11, hint="负责人姓名",
               aliases=("负责人", "网站负责人姓名", "负责人姓名", "网站主要负责人")),  # [i26] [gx]
        Column("admin", "网站管理员", width=11, hint="管理员姓名",
               aliases=("管理员", "网站管理员姓名", "网站维护人", "维护人员", "网站联系人")),  # [i26]
        _phone(more=("网站负责人联系电话", "网站负责人手机号码", "网站管理员联系电话",  # [i26] [gx]
                     "网站负责人电话", "管理员联系电话", "负责人联系电话", "办公电话")),
        Column("sections", "网站栏目", width=30, hint="主要栏目，用顿号分隔",
               aliases=("栏目", "栏目名称", "主要栏目", "栏目设置", "网站主要栏目")),  # [i26] [jw]
        Column("last_update", "最后更新日期", Kind.DATE, width=14, hint=DATE_HINT,
               aliases=("更新日期", "最近更新日期", "最后更新时间", "最近更新时间", "更新时间",  # [i26]
                        "最新更新时间", "最新更新日期", "最后一次更新时间", "最近一次更新时间")),
    ), identity=Identity(("site_name",)), rules=(StaleDate("last_update"),)),
    Form(2, "新媒体平台登记备案表", (
        SEQ,
        Column("platform", "网络平台", Kind.PLATFORM, width=13, hint="从下拉列表选择平台",
               aliases=("平台", "账号平台", "平台类型", "账号类型", "服务类型", "新媒体类型",  # [i26] [sx]
                        "新媒体平台", "所属平台", "媒体类型")),
        Column("account_name", "账号名称", width=20, hint="账号显示的名称",
               aliases=("名称", "公众号名称", "微博名称", "抖音号名称", "新媒体名称", "账号名",  # [i26] [sx]
                        "新媒体账号名称", "平台账号名称", "账号昵称", "昵称")),
        Column("account_id", "账号ID", width=18, hint="公众号原始ID（gh_开头）、抖音号、微博UID等",
               aliases=("账号", "ID", "账号号码", "微信号", "原始ID", "公众号ID", "抖音号", "微博ID",  # [i26] [sx]
                        "账号id号", "账号代码")),
        Column("followers", "粉丝人数", Kind.COUNT, width=10, hint=COUNT_HINT,
               aliases=("粉丝数", "粉丝数量", "关注人数", "粉丝量", "粉丝关注量", "关注量", "粉丝关注数",  # [i26] [hl] [ml]
                        "关注数", "订阅人数", "用户数")),
        Column("opened", "开通日期", Kind.DATE, width=12, hint=DATE_HINT,
               aliases=("开通时间", "注册日期", "注册时间", "开设时间", "开设日期", "创建时间", "开通年月")),
        Column("purpose", "主要用途", width=18, hint="如：信息发布、招生宣传",
               aliases=("用途", "主要功能", "功能定位", "账号定位", "主要内容")),
        Column("admin", "管理员姓名", width=11, hint="管理员姓名（须为教职工）",
               aliases=("管理员", "账号管理员", "负责人", "运营负责人", "账号负责人", "运营者",  # [i26]
                        "运营人员", "管理人员", "责任人")),
        _phone(more=("管理员联系电话", "负责人联系电话", "绑定手机号", "绑定手机号码")),
        NOTE,
    ), identity=Identity(("platform", "account_id"), fallback=("platform", "account_name")),
        rules=(Certified("platform", "视频号", "note"), NoStudentPhone("phone")),
        duplicates=Duplicates("duplicate-account"),
        # 平台名称 names the account (《XX学院团委》), not the platform [i26]; it names the
        # platform only when another column already holds the name.
        ambiguous=(("平台名称", ("account_name", "platform")),)),
    Form(3, "“僵尸”工作群清理备案表", (
        SEQ,
        Column("admin", "群管理员姓名", width=12, hint="群管理员姓名",
               aliases=("管理员姓名", "群管理员", "群主", "群主姓名", "管理员", "建立者", "群主管理员")),  # [bs] [xx]
        _phone(more=("群主联系电话", "群管理员联系电话", "管理员联系电话")),
        Column("group_name", "工作群名称", width=22, hint="群的名称",
               aliases=("群名称", "群名", "僵尸群名称", "微信群名称", "QQ群名称", "群组名称")),  # [xx] [i26]
        Column("reason", "清理原因", width=20, hint="如：工作已结束、长期未使用",
               aliases=("原因", "解散原因", "注销原因", "清理理由")),
        Column("cleaned", "是否已清理", Kind.YESNO, width=10, hint="从下拉列表选择：是 / 否",
               aliases=("是否清理", "清理情况", "是否解散", "是否已解散", "是否注销", "是否已注销", "清理状态")),
        Column("cleaned_on", "清理时间", Kind.DATE, required=False, width=12,
               hint="已清理的填清理日期，如2024-05-01", aliases=("清理日期", "解散时间", "解散日期", "注销时间")),
        NOTE,
    ), identity=Identity(("group_name",)), rules=(Cleanup("cleaned", "cleaned_on"),),
        signer_label="单位负责人签字（盖章）"),
    Form(4, "网络工作群组登记备案表", (
        SEQ,
        Column("group_type", "群组类型\n（QQ群、微信群等）", Kind.GROUP_TYPE, width=14,
               hint="从下拉列表选择群组类型", aliases=("群组类型", "群类型", "类型", "群组平台", "群平台")),
        Column("group_name", "群名称", width=22, hint="群的名称（微信群无需填写群号码）",
               aliases=("群组名称", "工作群名称", "群名", "微信群名称", "QQ群名称", "工作群组名称")),  # [i26] [xx]
        Column("members", "群人数", Kind.COUNT, width=8, hint="填整数",
               aliases=("人数", "群成员数", "群成员人数", "成员人数", "成员数", "群员人数", "群成员数量")),  # [i26]
        Column("purpose", "主要用途", width=18, hint="如：工作通知、班级管理", aliases=("用途", "用途对象", "建群用途")),  # [xx]
        Column("real_name", "是否全部\n实名", Kind.YESNO, width=10, hint="从下拉列表选择：是 / 否",
               aliases=("是否实名", "是否全部实名制", "实名", "是否完成实名认证", "是否实名认证",  # [i26]
                        "是否实名制", "是否实名制管理", "成员是否实名", "群成员是否实名")),
        Column("admin", "群管理员姓名", width=12, hint="群管理员姓名",
               aliases=("管理员姓名", "群管理员", "群主", "群主姓名", "管理员", "管理者", "群主管理员")),  # [i26] [bs] [xx]
        _phone(more=("群主联系电话", "群管理员联系电话", "管理员联系电话")),
        NOTE,
    ), identity=Identity(("group_type", "group_name")),
        rules=(MustBeYes("real_name", "real-name-incomplete"), SizeLimit("group_type", "members")),
        duplicates=Duplicates("duplicate-group", per_unit=True), footnote="注：微信群无需填写群号码。"),
    Form(5, "“网络大V”信息统计表", (
        SEQ,
        Column("platform", "账号\n平台", Kind.PLATFORM, width=12, hint="从下拉列表选择平台",
               aliases=("平台", "网络平台", "平台类型", "账号类型", "所在平台")),  # [i26]
        Column("account_id", "账号ID", width=16, hint="平台上的账号ID", aliases=("账号", "ID", "微信号", "抖音号")),
        Column("account_name", "账号\n名称", width=16, hint="账号显示的名称",
               aliases=("名称", "昵称", "账号昵称", "网名", "公众号名称", "微博名称")),  # [i26]
        Column("followers", "粉丝数量", Kind.COUNT, width=10, hint="填整数，须达到统计标准",
               aliases=("粉丝数", "粉丝人数", "粉丝量", "粉丝关注量", "关注量", "粉丝关注数")),  # [i26] [hl] [dy]
        Column("topic", "创作\n方向", width=14, hint="如：校园生活、技能分享",
               aliases=("方向", "内容方向", "创作领域", "内容领域", "主要内容", "领域")),
        Column("person", "姓名", width=9, hint="账号运营人姓名", aliases=("运营人", "运营者姓名", "账号运营人", "博主姓名")),
        Column("title", "职务职称\n（教师填写）", required=False, width=14, parent="类别",
               hint="教师填写职务或职称；学生不填", aliases=("职务职称", "职务", "职称")),
        Column("major", "专业年级\n（学生填写）", required=False, width=14, parent="类别",
               hint="学生填写专业和年级；教师不填", aliases=("专业年级", "专业", "年级", "专业班级")),
        _phone(header="联系方式"),
        NOTE,
    ), identity=Identity(("platform", "account_id")), rules=(Threshold("followers"), OneCategory()),
        duplicates=Duplicates("duplicate-influencer"), category=CategorySplit("类别", "title", "major"),
        phone_label="联系电话", ambiguous=(("平台名称", ("account_name", "platform")),)),
)

# A table of accounts and groups together, told apart by its type column (微信群/QQ群 rows are
# 附件4's, 公众号/微博/抖音… rows 附件2's; [i26]): the columns one form has for the other's.
MIXED_COLUMNS = (("platform", "group_type"), ("account_name", "group_name"), ("followers", "members"),
                 ("purpose", "purpose"), ("admin", "admin"), ("phone", "phone"), ("note", "note"))


def mixed_kind(text: object) -> str | None:
    """'group' or 'account' for what a mixed table's type cell says, None when neither."""
    t = clean_text(text)
    if not t:
        return None
    if implied_value(t, Kind.GROUP_TYPE) is not None or t.endswith("群"):
        return "group"
    return "account" if implied_value(t, Kind.PLATFORM) is not None else None


# Header words that never decide which form a table is (issue 26): every form, or none,
# has such a column. A table is one form's by its other, distinctive columns.
GENERIC_HEADERS = frozenset({
    "序号", "编号", "序", "单位", "单位名称", "填报单位", "所属单位", "部门", "联系电话", "联系方式", "手机号",
    "手机号码", "电话", "手机", "电话号码", "联系手机", "办公电话", "负责人", "负责人姓名", "管理员", "管理员姓名",
    "管理人员", "责任人", "备注", "说明", "其他说明", "姓名", "名称", "类型", "用途", "主要用途", "人数", "账号",
    "ID", "管理员联系电话", "负责人联系电话", "主要内容",
})

# Words in a sheet's or table's title, or in a column's header, that say which platform or
# group type every row is (《微信公众账号登记表》 [ak], 微信群名称 [xx]): (pattern, column kind,
# value). The first that matches wins; the value goes through the column's normaliser.
IMPLIED = (
    (r"视频号", Kind.PLATFORM, "视频号"),
    (r"公众号|公众账号|公众平台|订阅号|服务号", Kind.PLATFORM, "微信公众号"),
    (r"微博", Kind.PLATFORM, "微博"),
    (r"抖音", Kind.PLATFORM, "抖音"),
    (r"快手", Kind.PLATFORM, "快手"),
    (r"头条", Kind.PLATFORM, "今日头条"),
    (r"哔哩哔哩|[Bb]站", Kind.PLATFORM, "B站"),
    (r"小红书", Kind.PLATFORM, "小红书"),
    (r"企业微信群|企微群", Kind.GROUP_TYPE, "企业微信群"),
    (r"微信群", Kind.GROUP_TYPE, "微信群"),
    (r"[Qq]{2}群", Kind.GROUP_TYPE, "QQ群"),
    (r"钉钉群", Kind.GROUP_TYPE, "钉钉群"),
)


def implied_value(text: str, kind: Kind) -> str | None:
    """The platform (or group type) a title or header names for every row, or None."""
    for pattern, k, value in IMPLIED:
        if k is kind and re.search(pattern, text or ""):
            return value
    return None


FORMS_BY_ID: dict[int, Form] = {f.id: f for f in FORMS}
MIXED = (FORMS[1], FORMS[3])  # (the accounts' form, the groups' form) of a mixed table


def _form_by_id(form_id: int) -> Form:
    return FORMS_BY_ID[form_id]

# The forms the summary's charts and the reports speak of by name.
WEBSITES, ACCOUNTS, ZOMBIE_GROUPS, GROUPS, INFLUENCERS = FORMS

_SPACE = re.compile(r"\s+")
_BRACKETED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")


def header_key(text: object) -> str:
    """Comparable form of a header text: NFKC, no whitespace, no '*' required marks."""
    s = unicodedata.normalize("NFKC", str(text or ""))
    return _SPACE.sub("", s).replace("*", "").replace("：", "").replace(":", "")


def header_keys(column: Column) -> frozenset[str]:
    """Every text that identifies this column: header, header without the bracketed part, aliases."""
    texts = (column.header, *column.aliases)
    keys = {header_key(t) for t in texts}
    keys |= {_BRACKETED.sub("", k) for k in keys}
    keys.discard("")
    return frozenset(keys)

# Labels of the filler's phone on the signature line, most specific first (附件5 says 联系电话).
FILLER_PHONE_LABELS = ("填表人电话", "填表人联系电话", "联系电话", "联系方式", "手机号码", "手机号", "手机", "电话")

# Version of the blank-workbook layout written by ``netreg template``; stored in every
# workbook's metadata so that files filled on an older layout can be recognised.
FORMAT_VERSION = 1
META_SHEET = "_netreg"
OWN_SHEETS = ("填表说明", "修改意见", "_")  # sheets netreg adds (instructions, opinions, hidden lists): never a form  # very-hidden sheet holding key/value metadata rows
META_PREFIX = "netreg_"  # prefix of the custom document properties (survive LibreOffice)


# ---------------------------------------------------------------- [headers] in netreg.toml

def form_id_of(name: str) -> int | None:
    """附件5, 附件 5, 5 → 5; None when ``name`` names no form."""
    m = re.fullmatch(r"(?:附件)?\s*(\d)", unicodedata.normalize("NFKC", str(name)).strip())
    return int(m[1]) if m and int(m[1]) in FORMS_BY_ID else None


def _target_keys(form: Form) -> dict[str, str]:
    keys: dict[str, str] = {}
    for col in form.columns:
        for k in (*header_keys(col), header_key(col.key)):
            keys.setdefault(k.casefold(), col.key)
    return keys


def header_targets(target: str, form_id: int | None = None) -> list[tuple[int, str]]:
    """(form id, column key) of every form (or of form ``form_id``) with a column that
    ``target`` names exactly: its header, one of its known wordings, or its key (followers)."""
    k = header_key(target).casefold()
    forms = [FORMS_BY_ID[form_id]] if form_id is not None else FORMS
    return [(f.id, _target_keys(f)[k]) for f in forms if k in _target_keys(f)]


def column_labels(form_id: int | None = None) -> str:
    """The columns a [headers] line may point to, for the error that names them."""
    forms = [FORMS_BY_ID[form_id]] if form_id is not None else FORMS
    return "；".join(f"{f.sheet}：" + "、".join(c.label for c in f.data_columns) for f in forms)
