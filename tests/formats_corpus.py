"""A corpus of returned files in every format units send back, with known problems at known cells.

``build_corpus(root)`` writes the files of nine units into ``root``, each made the way units
really make them and laid out by hand (never from netreg's template): a title line, a
填报单位：… line, the signature line 单位负责人签名（盖章）：… 填表人：… 填表人电话：…, then the
header and the rows. It returns a ``Manifest``: per file, as netreg names it (``包.zip/成员.xlsx``
for a zip member), the unit, the data rows per form and the planted issues as (code, sheet or
Word table name, cell). ``verify_corpus(manifest)`` reads every file back with other libraries
than netreg's and says where a file does not hold what the manifest says.

| file | made with |
|---|---|
| 组织部.docx | python-docx, like the notice's Word attachments (附件5's two-row header, 注： line) |
| 教务处.docx | LibreOffice Writer from HTML (``docx:MS Word 2007 XML``) |
| 图书馆.xls | LibreOffice from an openpyxl .xlsx |
| 纪委办公室.xls | xlwt |
| 马克思主义学院.ods | LibreOffice from an openpyxl .xlsx (signature line split over cells) |
| 团委-附件2.csv | one form, UTF-8 with BOM (Excel's “CSV UTF-8”) |
| 团委-附件5.csv | one form, GBK without BOM (WPS), 附件5's two header rows |
| 信息工程学院网信登记表.xlsx | xlsxwriter, the five forms stacked in one sheet |
| 机电工程学院报送材料.zip | five openpyxl .xlsx, member names in GBK without the UTF-8 flag |
| 医学院.xlsx | openpyxl, one sheet per form |

Cells are positions in the grid as a reader sees it: Excel's own cell in a spreadsheet; in a
csv the record and field (no csv field holds a line break, so records are lines); for a .docx
table N (reported as 表格N), row = 1 + index in a grid made of the non-empty paragraphs between
table N-1 and table N (one row each, one cell) followed by the table's rows, column = the
table's grid column.

Every cell that is not planted is correct for the as-of date ``AS_OF``: valid mobiles, 附件1
dates within 90 days, 附件3 rows cleaned with a date, 附件5 followers ≥ 2000 and exactly one of
职务职称 / 专业年级, unique account IDs, group names and phones of students never bound to an
account. Deterministic: fixed data and seeds, fixed zip times and document dates (LibreOffice's
page styles sorted), so rebuilding changes no byte.

A csv holds one grid whose name is netreg's to choose: the manifest says the file's stem, and
``CorpusFile.single_grid`` tells a test to accept the one name netreg gives it. For today's
netreg: ``todays_subset`` copies the .xlsx files and the zip's members as loose files;
``grids_as_xlsx`` writes every file as the grids a reader should hand on (Word tables and csv
as sheets named 表格N / the stem, .xls/.ods converted by LibreOffice), which checks the
manifest's cells independently of the new readers.
"""

from __future__ import annotations

import csv
import html
import io
import random
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from itertools import zip_longest
from datetime import date, datetime
from pathlib import Path

SCHOOL = "漯河职业技术学院"
AS_OF = date(2025, 11, 25)
SEED = 20251125
FIXED_ZIP_TIME = (2025, 11, 24, 16, 30, 0)
FIXED_W3C = "2025-11-24T16:30:00Z"
GAP = "\u3000" * 6  # the run of blanks people leave between the labels of the signature line


# =========================================================================== the five forms
# Typed here by hand after the notice (not taken from netreg): keys, then headers as typed.

@dataclass(frozen=True)
class FormSpec:
    id: int
    name: str
    keys: tuple[str, ...]  # 序号 first
    headers: tuple[str, ...]  # "\n" = a line break inside the header cell
    signer: str = "单位负责人签名（盖章）"
    phone_label: str = "填表人电话"
    footnote: str | None = None
    category: tuple[int, int] | None = None  # 附件5: columns spanned by 类别

    @property
    def title(self) -> str:
        return SCHOOL + self.name

    @property
    def header_rows(self) -> int:
        return 2 if self.category else 1

    def col(self, key: str) -> int:
        return self.keys.index(key)


FORMS: dict[int, FormSpec] = {
    1: FormSpec(1, "网站平台更新登记备案表",
                ("seq", "site", "owner", "admin", "phone", "sections", "updated"),
                ("序号", "网站名称", "网站负责人", "网站管理员", "联系电话", "网站栏目", "最后更新日期")),
    2: FormSpec(2, "新媒体平台登记备案表",
                ("seq", "platform", "name", "account", "followers", "opened", "purpose", "admin", "phone", "note"),
                ("序号", "网络平台", "账号名称", "账号ID", "粉丝人数", "开通日期", "主要用途", "管理员姓名",
                 "联系电话", "备注")),
    3: FormSpec(3, "“僵尸”工作群清理备案表",
                ("seq", "admin", "phone", "group", "reason", "cleaned", "cleaned_on", "note"),
                ("序号", "群管理员姓名", "联系电话", "工作群名称", "清理原因", "是否已清理", "清理时间", "备注"),
                signer="单位负责人签字（盖章）"),
    4: FormSpec(4, "网络工作群组登记备案表",
                ("seq", "type", "group", "members", "purpose", "real_name", "admin", "phone", "note"),
                ("序号", "群组类型\n（QQ群、微信群等）", "群名称", "群人数", "主要用途", "是否全部\n实名",
                 "群管理员姓名", "联系电话", "备注"),
                footnote="注：微信群无需填写群号码。"),
    5: FormSpec(5, "“网络大V”信息统计表",
                ("seq", "platform", "account", "name", "followers", "topic", "person", "title", "major", "phone",
                 "note"),
                ("序号", "账号\n平台", "账号ID", "账号\n名称", "粉丝数量", "创作\n方向", "姓名",
                 "职务职称\n（教师填写）", "专业年级\n（学生填写）", "联系方式", "备注"),
                phone_label="联系电话", category=(7, 8)),
}
CATEGORY = "类别"


# =========================================================================== the manifest

@dataclass(frozen=True)
class PlantedIssue:
    code: str
    sheet: str  # sheet, or 表格N for the N-th Word table, or the csv's stem
    cell: str  # "E7"
    value: object = None  # what was typed there (None: left empty), for reading back
    place: str | None = None  # how netreg names the place when not as a cell: Word's "第2行 第9列", "" for none


@dataclass
class CorpusFile:
    name: str  # as netreg names it, relative to the corpus root: 医学院.xlsx, 包.zip/成员.xlsx
    unit: str
    rows: dict[int, int]  # form id -> data rows (0: the form says 无)
    issues: list[PlantedIssue]
    how: str  # how the file was made
    fmt: str  # xlsx | xls | ods | docx | csv
    # What a reader must see: grid name -> {(row, col) 0-based: value as written}; non-empty only.
    grids: dict[str, dict[tuple[int, int], object]] = field(default_factory=dict, repr=False)
    encoding: str = ""  # csv: utf-8-sig | gbk

    @property
    def single_grid(self) -> bool:
        """A csv holds one grid, whose name netreg chooses (the manifest says the stem)."""
        return self.fmt == "csv"


@dataclass
class Manifest:
    root: Path
    files: list[CorpusFile]

    @property
    def total_rows(self) -> int:
        return sum(n for f in self.files for n in f.rows.values())

    def file(self, name: str) -> CorpusFile:
        return next(f for f in self.files if f.name == name)

    def planted(self, *, places: bool = True) -> set[tuple[str, str, str, str]]:
        """Every planted issue as (code, file, sheet, cell); ``places``: a Word table's as netreg
        names them (第r行 第c列, '' for a paragraph), else the cell of the grid as counted here."""
        return {(i.code, f.name, i.sheet, i.place if places and i.place is not None else i.cell)
                for f in self.files for i in f.issues}


# =========================================================================== the units' data

@dataclass(frozen=True)
class Plant:
    """A problem planted in a unit's data: ``edits`` change cells of data row ``row`` (0-based) of
    form ``form`` (row None: the signature line, key ``filler_phone``); the issue is expected at
    the cell of ``at``."""

    code: str
    form: int
    row: int | None
    at: str
    edits: dict[str, object]


@dataclass
class Unit:
    unit: str
    filler: str
    phone: str
    rows: dict[int, list[dict[str, object]]]  # form id -> rows; [] = the form says 无
    plants: list[Plant] = field(default_factory=list)

    def planted_rows(self) -> dict[int, list[dict[str, object]]]:
        rows = {fid: [dict(r) for r in rs] for fid, rs in self.rows.items()}
        for p in self.plants:
            if p.row is not None:
                row = rows[p.form][p.row]
                for key, value in p.edits.items():
                    assert key in row, (self.unit, p)
                    row[key] = value
        return rows

    def filler_phone(self, form: int) -> object:
        for p in self.plants:
            if p.form == form and p.row is None:
                return p.edits["filler_phone"]
        return self.phone


class _Numbers:
    """Phones and account IDs, reproducible and never repeated."""

    PREFIXES = ("135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "182", "183",
                "186", "187", "188", "189", "199")

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.used: set[str] = set()

    def _fresh(self, make) -> str:
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def mobile(self) -> str:
        return self._fresh(lambda: self.rng.choice(self.PREFIXES) + "".join(self.rng.choices("0123456789", k=8)))

    def digits(self, n: int, first: str = "123456789") -> str:
        return self._fresh(lambda: self.rng.choice(first) + "".join(self.rng.choices("0123456789", k=n - 1)))

    def gh(self) -> str:
        return self._fresh(lambda: "gh_" + "".join(self.rng.choices("0123456789abcdef", k=12)))

    def sph(self) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
        return self._fresh(lambda: "sph" + "".join(self.rng.choices(alphabet, k=11)))


def _rows(form: int, *tuples) -> list[dict[str, object]]:
    keys = FORMS[form].keys[1:]
    out = []
    for t in tuples:
        assert len(t) == len(keys), (form, t)
        out.append(dict(zip(keys, t)))
    return out


def units() -> dict[str, Unit]:
    """The nine units' forms as they should be, then what was planted in them."""
    n = _Numbers(SEED)
    d = date
    u: dict[str, Unit] = {}

    # ------------------------------------------------------------------ 组织部 (python-docx)
    p_liu, p_chen, p_he = n.mobile(), n.mobile(), n.mobile()
    u["组织部"] = Unit("组织部", "刘建平", p_liu, {
        1: _rows(1, ("组织部网站", "何志强", "刘建平", p_liu, "机构概况、干部工作、党建工作、人才工作、通知公告", d(2025, 11, 12)),
                 ("漯职党建网", "何志强", "陈曦", p_chen, "党建动态、理论学习、支部风采、党员之家", d(2025, 10, 28))),
        2: _rows(2, ("微信公众号", "漯职组工", n.gh(), 3860, d(2018, 7, 1), "党建信息发布、组织工作宣传", "陈曦", p_chen, "已认证"),
                 ("视频号", "漯职组工", n.sph(), 2150, d(2022, 7, 1), "党课视频、主题党日直播", "陈曦", p_chen, "已官方认证")),
        3: [],
        4: _rows(4, ("微信群", "全校组织员工作群", 96, "党建工作部署", "是", "刘建平", p_liu, None),
                 ("微信群", "2025年发展对象培训班群", 148, "培训通知", "是", "陈曦", p_chen, "培训结束后解散"),
                 ("钉钉群", "组织部工作群", 8, "部门日常工作", "是", "何志强", p_he, None)),
        5: _rows(5, ("抖音", "hezq_dangke", "何老师讲党课", 12800, "党史学习、理论宣讲", "何志强", "组织部副部长、副教授",
                     None, p_he, None),
                 ("B站", n.digits(9), "漯职小陈说党建", 2600, "党建知识科普", "陈曦", "组织员", None, p_chen, None)),
    }, [
        Plant("date-invalid", 1, 1, "updated", {"updated": "2025.9.31"}),
        Plant("phone-invalid", 2, 0, "phone", {"phone": "1391234567"}),
        Plant("below-threshold", 5, 1, "followers", {"followers": 1500}),
    ])

    # ------------------------------------------------------------------ 教务处 (LibreOffice Writer)
    p_wang, p_zhao, p_sun = n.mobile(), n.mobile(), n.mobile()
    u["教务处"] = Unit("教务处", "王红梅", p_wang, {
        1: _rows(1, ("教务处网站", "孙立新", "王红梅", p_wang, "教学动态、教学管理、教学研究、考务管理、下载中心", d(2025, 11, 20)),
                 ("在线课程平台", "孙立新", "赵磊", p_zhao, "课程中心、教学资源、在线学习", d(2025, 11, 5))),
        2: _rows(2, ("微信公众号", "漯职教务", n.gh(), 7450, d(2017, 3, 15), "教学通知、考试安排", "王红梅", p_wang, "已认证"),
                 ("视频号", "漯职教务", n.sph(), 2340, d(2023, 2, 20), "教学成果展示", "赵磊", p_zhao, "已官方认证"),
                 ("抖音", "漯职教务处", "lzjwc2020", 5120, d(2020, 9, 10), "教学活动短视频", "赵磊", p_zhao, None)),
        3: _rows(3, ("赵磊", p_zhao, "2024年教学能力大赛备赛群", "比赛已结束", "是", d(2025, 10, 10), None)),
        4: _rows(4, ("微信群", "全校教学秘书工作群", 72, "教学通知、教务安排", "是", "王红梅", p_wang, None),
                 ("QQ群", "2025年秋季期末考试监考群", 286, "监考安排", "是", "孙立新", p_sun, None)),
        5: _rows(5, ("小红书", n.digits(10), "赵老师教你写论文", 4800, "论文写作、学习方法", "赵磊", "讲师", None, p_zhao, None),
                 ("抖音", "lz_kuaiji_xm", "会计小萌", 9300, "财会知识、校园生活", "张小萌", None, "会计2023级", n.mobile(), None),
                 ("快手", "xiaobai_study", "小白学习记", 3100, "学习打卡、备考经验", "白雪", None, "护理2024级", n.mobile(), None)),
    }, [
        Plant("video-account-uncertified", 2, 1, "note", {"note": None}),
        Plant("real-name-incomplete", 4, 1, "real_name", {"real_name": "否"}),
        Plant("category-missing", 5, 2, "title", {"major": None}),
    ])

    # ------------------------------------------------------------------ 图书馆 (LibreOffice .xls)
    p_zhang, p_du, p_li = n.mobile(), n.mobile(), n.mobile()
    u["图书馆"] = Unit("图书馆", "张敏", p_zhang, {
        1: _rows(1, ("漯河职业技术学院图书馆网站", "李春梅", "张敏", p_zhang, "本馆概况、资源导航、读者服务、通知公告",
                     d(2025, 11, 18)),
                 ("数字资源平台", "李春梅", "杜鹏", p_du, "电子图书、期刊数据库、学位论文", d(2025, 11, 2))),
        2: _rows(2, ("微信公众号", "漯职图书馆", n.gh(), 9650, d(2016, 4, 23), "服务通知、阅读推广", "张敏", p_zhang, "服务号"),
                 ("抖音", "漯职图书馆", "lzlib_read", 2870, d(2021, 4, 23), "阅读推广短视频", "杜鹏", p_du, None)),
        3: _rows(3, ("张敏", p_zhang, "2023年读书月活动群", "活动已结束", "是", d(2025, 11, 6), "已解散"),
                 ("杜鹏", p_du, "图书馆搬迁临时协调群", "搬迁已完成", "是", d(2025, 9, 20), None)),
        4: _rows(4, ("微信群", "图书馆全体职工群", 32, "工作通知、值班安排", "是", "李春梅", p_li, None),
                 ("QQ群", "读者协会工作群", 76, "读者协会活动组织", "是", "张敏", p_zhang, "学生社团")),
        5: [],
    }, [
        Plant("website-stale", 1, 1, "updated", {"updated": d(2025, 7, 1)}),
        Plant("cleanup-date-missing", 3, 0, "cleaned_on", {"cleaned_on": None}),
        Plant("required-missing", 4, 1, "admin", {"admin": None}),
    ])

    # ------------------------------------------------------------------ 纪委办公室 (xlwt .xls)
    p_ma, p_guo = n.mobile(), n.mobile()
    u["纪委办公室"] = Unit("纪委办公室", "马丽", p_ma, {
        1: _rows(1, ("纪检监察网", "郭红", "马丽", p_ma, "工作动态、政策法规、廉政教育、信访举报", d(2025, 11, 10))),
        2: _rows(2, ("微信公众号", "清风漯职", n.gh(), 2630, d(2019, 5, 10), "廉政教育、纪律宣传", "马丽", p_ma, None)),
        3: _rows(3, ("马丽", p_ma, "2024年作风建设专项检查群", "检查已结束", "是", d(2025, 9, 30), None),
                 ("郭红", p_guo, "纪检委员培训临时群", "培训已结束", "是", d(2025, 10, 15), None)),
        4: _rows(4, ("微信群", "全校纪检委员工作群", 46, "纪检工作部署", "是", "郭红", p_guo, None)),
        5: [],
    }, [
        Plant("date-in-future", 2, 0, "opened", {"opened": d(2026, 3, 1)}),
        Plant("cleanup-pending", 3, 0, "cleaned", {"cleaned": "否", "cleaned_on": None}),
        Plant("group-size-over-limit", 4, 0, "members", {"members": 620}),
    ])

    # ------------------------------------------------------------------ 马克思主义学院 (LibreOffice .ods)
    p_hu, p_yang = n.mobile(), n.mobile()
    u["马克思主义学院"] = Unit("马克思主义学院", "胡静", p_hu, {
        1: _rows(1, ("马克思主义学院网站", "杨光", "胡静", p_hu, "学院概况、思政课教学、理论研究、党建工作", d(2025, 11, 21))),
        2: _rows(2, ("微信公众号", "漯职马院", n.gh(), 4120, d(2018, 10, 8), "思政教育、理论宣讲", "胡静", p_hu, None),
                 ("B站", "漯职思政课", n.digits(10), 3350, d(2021, 3, 1), "思政微课", "杨光", p_yang, None)),
        3: _rows(3, ("胡静", p_hu, "2025年思政课集体备课临时群", "备课已结束", "是", d(2025, 9, 12), None)),
        4: _rows(4, ("微信群", "马克思主义学院教职工群", 58, "工作通知", "是", "杨光", p_yang, None),
                 ("QQ群", "大学生理论宣讲团工作群", 64, "宣讲活动组织", "是", "胡静", p_hu, "学生社团")),
        5: _rows(5, ("抖音", "yangguang_sizheng", "杨老师说思政", 25600, "思政微课、时事解读", "杨光", "教授", None, p_yang,
                     None),
                 ("微博", n.digits(10, "567"), "理论小达人", 3800, "理论学习分享", "徐梦", None, "学前教育2023级",
                  n.mobile(), None)),
    }, [
        Plant("number-invalid", 2, 1, "followers", {"followers": "很多"}),
        Plant("yes-no-invalid", 4, 1, "real_name", {"real_name": "待核实"}),
        Plant("category-ambiguous", 5, 1, "major", {"title": "宣讲团团长"}),
    ])

    # ------------------------------------------------------------------ 团委 (two csv files)
    p_zheng, p_hel = n.mobile(), n.mobile()
    u["团委"] = Unit("团委", "郑雨晴", p_zheng, {
        2: _rows(2, ("微信公众号", "漯职青年", n.gh(), 32150, d(2015, 5, 4), "团学活动发布、思想引领", "郑雨晴", p_zheng, None),
                 ("抖音", "漯职青年", "lzqn0504", 8930, d(2021, 5, 4), "团学活动短视频", "郑雨晴", p_zheng, None),
                 ("B站", "漯职青年", n.digits(9), 2260, d(2023, 3, 20), "青年大学习、活动视频", "何磊", p_hel, None),
                 ("快手", "漯职青年志愿者", "lzqn_zyz", 3050, d(2022, 6, 1), "志愿服务短视频", "何磊", p_hel, None)),
        5: _rows(5, ("抖音", "xiaoyu_dance", "舞蹈生小雨", 15600, "舞蹈、校园生活", "刘欣雨", None, "音乐表演2023级",
                     n.mobile(), None),
                 ("小红书", n.digits(10), "漯职学姐说", 4380, "学习经验、升学分享", "陈思琪", None, "会计2022级", n.mobile(),
                  None),
                 ("B站", n.digits(9), "何老师带你做志愿", 6100, "志愿服务", "何磊", "团委副书记", None, p_hel, None)),
    }, [
        Plant("number-approximate", 2, 1, "followers", {"followers": "约8000"}),
        Plant("choice-unknown", 2, 2, "platform", {"platform": "知乎"}),
        Plant("required-missing", 2, 3, "name", {"name": None}),
        Plant("below-threshold", 5, 1, "followers", {"followers": 1800}),
        Plant("phone-invalid", 5, 2, "phone", {"phone": "138123456789"}),
    ])

    # ------------------------------------------------------------------ 信息工程学院 (xlsxwriter, stacked)
    p_cxf, p_liuy, p_zm = n.mobile(), n.mobile(), n.mobile()
    u["信息工程学院"] = Unit("信息工程学院", "陈晓峰", p_cxf, {
        1: _rows(1, ("信息工程学院网站", "李国强", "陈晓峰", p_cxf, "学院概况、新闻动态、通知公告、教学科研、学生工作",
                     d(2025, 11, 3)),
                 ("软件技术专业教学资源库", "赵明", "刘洋", p_liuy, "课程中心、教学资源、在线测试", d(2025, 10, 10))),
        2: _rows(2, ("微信公众号", "漯职信息工程学院", n.gh(), 23000, d(2018, 9, 1), "信息发布、招生宣传", "陈晓峰", p_cxf, None),
                 ("抖音", "漯职信工", "lzxg2024", 5000, d(2024, 5, 1), "活动宣传", "刘洋", p_liuy, None)),
        3: _rows(3, ("刘洋", p_liuy, "2021级软件技术专业实习群", "学生已毕业", "是", d(2025, 7, 2), None)),
        4: _rows(4, ("微信群", "信息工程学院教职工群", 86, "工作通知", "是", "陈晓峰", p_cxf, None),
                 ("QQ群", "信息工程学院2025级新生群", 412, "新生入学、班级管理", "是", "刘洋", p_liuy, "辅导员管理")),
        5: _rows(5, ("B站", n.digits(10), "赵老师讲Python", 12400, "编程教学", "赵明", "讲师", None, p_zm, None)),
    }, [
        Plant("required-missing", 1, 0, "owner", {"owner": None}),
        Plant("date-imprecise", 2, 0, "opened", {"opened": "2018年9月"}),
        Plant("filler-missing", 3, None, "filler_phone", {"filler_phone": "1391234567"}),
    ])

    # ------------------------------------------------------------------ 机电工程学院 (zip of five .xlsx)
    p_meng, p_tian, p_wu = n.mobile(), n.mobile(), n.mobile()
    u["机电工程学院"] = Unit("机电工程学院", "孟凡超", p_meng, {
        1: _rows(1, ("机电工程学院网站", "吴建军", "孟凡超", p_meng, "学院概况、新闻动态、通知公告、专业建设、党建工作",
                     d(2025, 11, 14)),
                 ("工业机器人实训中心网站", "吴建军", "田野", p_tian, "中心简介、实训项目、设备预约", d(2025, 9, 18))),
        2: _rows(2, ("微信公众号", "漯职机电", n.gh(), 6820, d(2017, 10, 9), "学院新闻、学生活动", "孟凡超", p_meng, None),
                 ("快手", "漯职机电小课堂", "lzjd2021", 2450, d(2021, 11, 1), "实训操作短视频", "田野", p_tian, None),
                 ("视频号", "漯职机电", n.sph(), 2080, d(2023, 5, 6), "技能大赛直播", "田野", p_tian, "已官方认证")),
        3: _rows(3, ("田野", p_tian, "2022级机电一体化顶岗实习群", "实习已结束", "是", d(2025, 10, 20), None),
                 ("孟凡超", p_meng, "机电学院迎新志愿者群", "迎新工作结束", "是", d(2025, 10, 8), "已解散")),
        4: _rows(4, ("微信群", "机电工程学院教职工群", 120, "工作通知", "是", "吴建军", p_wu, None),
                 ("QQ群", "机电2024级新生群", 356, "班级管理、通知", "是", "田野", p_tian, None)),
        5: _rows(5, ("抖音", "jidian_laowu", "机电老吴", 23800, "机械制图、实训技能", "吴建军", "副教授", None, p_wu, None),
                 ("快手", "lzjd_xiaoli", "机电小李修车", 5600, "汽修技能", "李浩", None, "汽车检测与维修2023级", n.mobile(),
                  None)),
    }, [
        Plant("website-stale", 1, 1, "updated", {"updated": d(2025, 8, 1)}),
        Plant("video-account-uncertified", 2, 2, "note", {"note": "尚未认证"}),
        Plant("yes-no-invalid", 3, 0, "cleaned", {"cleaned": "待定"}),
        Plant("category-missing", 5, 1, "title", {"major": None}),
    ])

    # ------------------------------------------------------------------ 医学院 (openpyxl)
    p_li_na, p_guop, p_why = n.mobile(), n.mobile(), n.mobile()
    u["医学院"] = Unit("医学院", "李娜", p_li_na, {
        1: _rows(1, ("医学院网站", "王海燕", "李娜", p_li_na, "学院简介、新闻动态、专业建设、实训中心、护考专栏", d(2025, 10, 21)),
                 ("护理专业国家级教学资源库", "王海燕", "郭鹏", p_guop, "课程资源、微课视频、题库", "2025年11月3日")),
        2: _rows(2, ("微信公众号", "漯职医学院", n.gh(), 3000, d(2016, 9, 1), "学院新闻、护考资讯", "李娜", int(p_li_na), None),
                 ("抖音", "漯职医学院", "lzyxy_2020", 4530, d(2020, 5, 12), "实训教学短视频", "郭鹏", p_guop, None)),
        3: _rows(3, ("郭鹏", p_guop, "2020级护理实习带教群", "实习结束", "是", d(2025, 10, 15), None)),
        4: _rows(4, ("微信群", "医学院教职工群", 118, "工作通知", "是", "王海燕", p_why, None),
                 ("微信群", "护理2023级1班班级群", 52, "班级管理", "是", "郭鹏", p_guop, "辅导员管理")),
        5: _rows(5, ("抖音", "nurse_xiaoxiao", "护士小晓", 38600, "护理科普", "孙晓晓", None, "护理2023级", n.mobile(), None),
                 ("小红书", n.digits(10), "郭老师的解剖课", 7200, "医学科普", "郭鹏", "讲师", None, p_guop, None)),
    }, [
        Plant("date-invalid", 2, 1, "opened", {"opened": "2020.2.30"}),
        Plant("required-missing", 4, 1, "group", {"group": None}),
        Plant("below-threshold", 5, 1, "followers", {"followers": "1,500"}),
    ])
    _check_clean(u)
    return u


def _check_clean(units_: dict[str, Unit]) -> None:
    """The data before planting breaks none of the notice's rules that span rows or files."""
    accounts: set[tuple] = set()
    students: set[str] = set()
    bound: set[str] = set()
    for unit in units_.values():
        groups: set[tuple] = set()
        for fid, rows in unit.rows.items():
            for r in rows:
                if fid in (2, 5):
                    key = (fid, r["platform"], r["account"])
                    assert key not in accounts, key
                    accounts.add(key)
                if fid == 2:
                    bound.add(str(r["phone"]))
                if fid == 5:
                    assert (r["title"] is None) != (r["major"] is None), r
                    assert r["followers"] >= 2000, r
                    if r["major"]:
                        students.add(r["phone"])
                if fid == 4:
                    assert (r["type"], r["group"]) not in groups, r
                    groups.add((r["type"], r["group"]))
                    assert r["members"] <= 500, r
                if fid == 1 and isinstance(r["updated"], date):
                    assert 0 <= (AS_OF - r["updated"]).days <= 90, r
                if fid == 3:
                    assert r["cleaned"] == "是" and r["cleaned_on"] <= AS_OF, r
    assert not students & bound, students & bound


# =========================================================================== layout

@dataclass
class Block:
    """One form as laid out by hand: lines above the table, the table (header rows then data
    rows, 序号 included), lines below. ``data`` maps each data row index to its table row."""

    form: FormSpec
    pre: list[str]
    sig: int  # index of the signature line in ``pre``
    table: list[list[object]]
    merges: list[tuple[int, int, int, int]]  # in table coordinates, 0-based, inclusive
    post: list[str]
    data: dict[int, int]
    n_rows: int  # data rows (0 when the form says 无)


def signature(form: FormSpec, filler: str, phone: object) -> str:
    return f"{form.signer}：{GAP}填表人：{filler}{GAP}{form.phone_label}：{phone}"


def make_block(unit: Unit, rows: list[dict], fid: int, *, attachment: bool = True, unit_line: bool = True,
               blank_rows: int = 0, flat_header: bool = False) -> Block:
    """``flat_header``: header texts typed on one line (csv: no field holds a line break)."""
    form = FORMS[fid]
    pre = ([f"附件{fid}"] if attachment else []) + [form.title] + ([f"填报单位：{unit.unit}"] if unit_line else [])
    sig = len(pre)
    pre.append(signature(form, unit.filler, unit.filler_phone(fid)))
    heads = [h.replace("\n", "") if flat_header else h for h in form.headers]
    ncol = len(form.keys)
    table: list[list[object]] = []
    merges: list[tuple[int, int, int, int]] = []
    if form.category:
        a, b = form.category
        top = [None if a <= c <= b else h for c, h in enumerate(heads)]
        top[a] = CATEGORY
        table += [top, [heads[c] if a <= c <= b else None for c in range(ncol)]]
        merges += [(0, c, 1, c) for c in range(ncol) if not a <= c <= b] + [(0, a, 0, b)]
    else:
        table.append(list(heads))
    data = {}
    if rows:
        for i, row in enumerate(rows):
            data[i] = len(table)
            table.append([i + 1] + [row[k] for k in form.keys[1:]])
    else:
        table.append([None, "无"] + [None] * (ncol - 2))
    table += [[None] * ncol for _ in range(blank_rows)]
    post = [form.footnote] if form.footnote else []
    return Block(form, pre, sig, table, merges, post, data, len(rows))


@dataclass
class Cell:
    row: int
    col: int
    value: object
    style: str  # plain | title | header | cell | date


@dataclass
class SheetPlan:
    """One sheet as cells to write (0-based), merged ranges and where things landed."""

    name: str
    cells: list[Cell] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)
    places: dict[tuple[int, int, str], tuple[int, int]] = field(default_factory=dict)  # (form, row, key) -> cell
    sigs: dict[int, tuple[int, int]] = field(default_factory=dict)  # form -> cell of the filler's phone

    def grid(self) -> dict[tuple[int, int], object]:
        return {(c.row, c.col): c.value for c in self.cells if not _empty(c.value)}


WIDTHS = {1: [6, 26, 11, 11, 15, 36, 13], 2: [6, 11, 18, 18, 10, 12, 20, 10, 15, 14],
          3: [6, 12, 15, 28, 16, 10, 12, 12], 4: [6, 16, 28, 8, 20, 10, 12, 15, 14],
          5: [6, 9, 18, 18, 10, 16, 9, 16, 18, 15, 10]}


def lay_out(plan: SheetPlan, block: Block, start: int = 0, *, split_signature: bool = False) -> int:
    """Write ``block`` into ``plan`` from row ``start``; returns the row after it."""
    form = block.form
    ncol = len(form.keys)
    plan.widths = [max(a, b) for a, b in zip_longest(plan.widths, WIDTHS[form.id], fillvalue=0)]
    r = start
    for i, line in enumerate(block.pre):
        if i == block.sig and split_signature:  # 单位负责人签名（盖章）： | … | 填表人： | name | 填表人电话： | phone
            label, rest = line.split("：", 1)
            filler = rest.split("填表人：", 1)[1].split(GAP)[0]
            phone = line.rsplit("：", 1)[1]
            for c, v in ((0, label + "："), (ncol - 4, "填表人："), (ncol - 3, filler),
                         (ncol - 2, form.phone_label + "："), (ncol - 1, phone)):
                plan.cells.append(Cell(r, c, v, "plain"))
            plan.sigs[form.id] = (r, ncol - 1)
        else:
            title = line == form.title
            plan.cells.append(Cell(r, 0, line, "title" if title else "plain"))
            if title or i == block.sig:
                plan.merges.append((r, 0, r, ncol - 1))
            if i == block.sig:
                plan.sigs[form.id] = (r, 0)
        r += 1
    top = r
    for t, row in enumerate(block.table):
        header = t < form.header_rows
        for c, v in enumerate(row):
            if v is None and not header:
                continue
            style = "header" if header else ("date" if isinstance(v, date) else "cell")
            plan.cells.append(Cell(r, c, v, style))
        r += 1
    plan.merges += [(top + r0, c0, top + r1, c1) for r0, c0, r1, c1 in block.merges]
    for i, t in block.data.items():
        for key in form.keys:
            plan.places[(form.id, i, key)] = (top + t, form.col(key))
    for line in block.post:
        plan.cells.append(Cell(r, 0, line, "plain"))
        r += 1
    return r


def _empty(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def col_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter  # independent of netreg's own helper

    return get_column_letter(index + 1)


def cell_name(row: int, col: int) -> str:
    return f"{col_letter(col)}{row + 1}"


def planted_issues(unit: Unit, fids, where) -> list[PlantedIssue]:
    """The unit's plants in forms ``fids``; ``where(form, row, key)`` -> (sheet, row, col), row None
    asking for the filler phone's cell."""
    out = []
    for p in unit.plants:
        if p.form not in fids:
            continue
        sheet, r, c = where(p.form, p.row, p.at)
        value = p.edits["filler_phone"] if p.row is None else unit.planted_rows()[p.form][p.row][p.at]
        out.append(PlantedIssue(p.code, sheet, cell_name(r, c), value))
    return out


def sheet_where(plans: dict[int, SheetPlan]):
    def where(form: int, row: int | None, key: str):
        plan = plans[form]
        r, c = plan.sigs[form] if row is None else plan.places[(form, row, key)]
        return plan.name, r, c
    return where


# =========================================================================== writers: spreadsheets

def write_openpyxl(path: Path, plans: list[SheetPlan], *, date_format: str = "yyyy/m/d") -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for plan in plans:
        ws = wb.create_sheet(plan.name)
        for i, w in enumerate(plan.widths):
            ws.column_dimensions[get_column_letter(i + 1)].width = w
        for c in plan.cells:
            cell = ws.cell(c.row + 1, c.col + 1, c.value)
            if c.style == "title":
                cell.font = Font(name="宋体", size=16, bold=True)
                cell.alignment = Alignment(horizontal="center", vertical="center")
            elif c.style == "header":
                cell.font = Font(name="宋体", size=11, bold=True)
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
                cell.fill = PatternFill("solid", fgColor="DDEBF7")
                cell.border = border
            elif c.style in ("cell", "date"):
                cell.font = Font(name="宋体", size=11)
                cell.border = border
                cell.alignment = Alignment(vertical="center", wrap_text=True)
                if c.style == "date":
                    cell.number_format = date_format
            else:
                cell.font = Font(name="宋体", size=11)
        for r0, c0, r1, c1 in plan.merges:
            ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = 9
    wb.properties.creator = "Administrator"
    wb.properties.created = datetime(2025, 11, 20, 9, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    normalize_zip(path)
    return path


def write_xlsxwriter(path: Path, plans: list[SheetPlan]) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"author": "Administrator", "created": datetime(2025, 11, 21, 10, 12, 0)})
    f = book.add_format
    styles = {
        "plain": f({"font_name": "宋体", "font_size": 11}),
        "title": f({"font_name": "宋体", "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"}),
        "header": f({"font_name": "宋体", "bold": True, "align": "center", "valign": "vcenter", "text_wrap": True,
                     "border": 1}),
        "cell": f({"font_name": "宋体", "valign": "vcenter", "text_wrap": True, "border": 1}),
        "date": f({"font_name": "宋体", "valign": "vcenter", "border": 1, "num_format": "yyyy/m/d"}),
    }
    for plan in plans:
        ws = book.add_worksheet(plan.name)
        for i, w in enumerate(plan.widths):
            ws.set_column(i, i, w)
        values = {(c.row, c.col): c for c in plan.cells}
        merged_cells = set()
        for r0, c0, r1, c1 in plan.merges:
            top = values.get((r0, c0))
            ws.merge_range(r0, c0, r1, c1, "" if top is None else top.value,
                           styles[top.style if top else "plain"])
            merged_cells |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
        for c in plan.cells:
            if (c.row, c.col) in merged_cells:
                continue
            style = styles[c.style]
            if isinstance(c.value, date):
                ws.write_datetime(c.row, c.col, datetime(c.value.year, c.value.month, c.value.day), style)
            elif isinstance(c.value, (int, float)):
                ws.write_number(c.row, c.col, c.value, style)
            else:
                ws.write_string(c.row, c.col, str(c.value), style)
        ws.set_landscape()
        ws.set_paper(9)
    book.close()
    return path


def write_xlwt(path: Path, plans: list[SheetPlan]) -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    styles = {
        "plain": xlwt.easyxf("font: name 宋体, height 220"),
        "title": xlwt.easyxf("font: name 宋体, height 320, bold on; align: horiz center, vert center"),
        "header": xlwt.easyxf("font: name 宋体, bold on; align: horiz center, vert center, wrap on; "
                              "borders: left thin, right thin, top thin, bottom thin"),
        "cell": xlwt.easyxf("font: name 宋体; align: vert center, wrap on; "
                            "borders: left thin, right thin, top thin, bottom thin"),
        "date": xlwt.easyxf("font: name 宋体; align: vert center; borders: left thin, right thin, top thin, bottom thin",
                            num_format_str="yyyy/m/d"),
    }
    for plan in plans:
        ws = book.add_sheet(plan.name)
        for i, w in enumerate(plan.widths):
            ws.col(i).width = int(w * 256)
        values = {(c.row, c.col): c for c in plan.cells}
        merged_cells = set()
        for r0, c0, r1, c1 in plan.merges:
            top = values.get((r0, c0))
            ws.write_merge(r0, r1, c0, c1, "" if top is None else top.value, styles[top.style if top else "plain"])
            merged_cells |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
        for c in plan.cells:
            if (c.row, c.col) not in merged_cells:
                ws.write(c.row, c.col, c.value, styles[c.style])
        ws.portrait = False
    book.save(str(path))
    return path


# =========================================================================== writers: csv, Word

def csv_text(value: object) -> str:
    """A cell as an Excel/WPS csv export shows it (dates in the cell's yyyy/m/d format)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value.year}/{value.month}/{value.day}"
    return str(value)


def write_csv(path: Path, plan: SheetPlan, encoding: str) -> Path:
    grid = plan.grid()
    width = max(c for _, c in grid) + 1
    height = max(r for r, _ in grid) + 1
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for r in range(height):
        writer.writerow([csv_text(grid.get((r, c))) for c in range(width)])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def word_text(value: object, style: str) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return {"cn": f"{value.year}年{value.month}月{value.day}日", "iso": value.isoformat(),
                "dot": f"{value.year}.{value.month}.{value.day}"}[style]
    return str(value)


def docx_grids(blocks: list[Block], date_style: str) -> tuple[dict[str, dict], dict]:
    """The grids a reader sees in a Word document of these blocks: table N = the non-empty
    paragraphs since table N-1 (one cell each) then the table's rows. Returns (grids, places)
    where places maps (form, row, key) and (form, None, "filler_phone") -> (grid name, row, col)."""
    grids: dict[str, dict] = {}
    places: dict = {}
    carry: list[str] = []
    for k, block in enumerate(blocks, start=1):
        name = f"表格{k}"
        paras = carry + block.pre
        grid = {(i, 0): p for i, p in enumerate(paras)}
        places[(block.form.id, None, "filler_phone")] = (name, len(carry) + block.sig, 0)
        top = len(paras)
        for t, row in enumerate(block.table):
            for c, v in enumerate(row):
                if not _empty(v):
                    grid[(top + t, c)] = word_text(v, date_style)
        for i, t in block.data.items():
            for key in block.form.keys:
                places[(block.form.id, i, key)] = (name, top + t, block.form.col(key))
        grids[name] = grid
        carry = list(block.post)
    return grids, places


def write_docx(path: Path, blocks: list[Block], date_style: str) -> Path:
    """Like the notice's attachments typed in Word: landscape, 仿宋, one table per form."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = docx.Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    normal = doc.styles["Normal"]
    normal.font.name = "仿宋_GB2312"
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋_GB2312")
    doc.core_properties.author = "Administrator"
    doc.core_properties.created = datetime(2025, 11, 21, 10, 0, 0)
    doc.core_properties.modified = datetime(2025, 11, 24, 16, 30, 0)
    for k, block in enumerate(blocks):
        for i, line in enumerate(block.pre):
            p = doc.add_paragraph()
            run = p.add_run(line)
            if i == 0 and k:
                p.paragraph_format.page_break_before = True
            if line == block.form.title:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                run.bold = True
                run.font.size = Pt(18)
        ncol = len(block.form.keys)
        table = doc.add_table(rows=len(block.table), cols=ncol)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for r0, c0, r1, c1 in block.merges:
            table.cell(r0, c0).merge(table.cell(r1, c1))
        done: dict[int, object] = {}  # id -> element: kept alive, so that ids are not reused
        for t, row in enumerate(block.table):
            for c, v in enumerate(row):
                cell = table.cell(t, c)
                if _empty(v) or id(cell._tc) in done:
                    continue
                done[id(cell._tc)] = cell._tc
                cell.text = word_text(v, date_style)
                if t < block.form.header_rows:
                    for p in cell.paragraphs:
                        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                        for run in p.runs:
                            run.bold = True
        for line in block.post:
            doc.add_paragraph(line)
        doc.add_paragraph()  # the empty paragraph Word keeps after a table
    doc.save(str(path))
    normalize_zip(path)
    return path


def write_html(path: Path, blocks: list[Block], date_style: str) -> Path:
    """The tables as a web page, for LibreOffice Writer to open and save as .docx."""
    out = ['<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>登记备案表</title></head><body>']
    esc = lambda s: html.escape(s).replace("\n", "<br>")  # noqa: E731
    for block in blocks:
        for line in block.pre:
            tag = "h2" if line == block.form.title else "p"
            out.append(f"<{tag}>{esc(line)}</{tag}>")
        out.append('<table border="1" cellspacing="0" cellpadding="4">')
        spans = {(r0, c0): (r1 - r0 + 1, c1 - c0 + 1) for r0, c0, r1, c1 in block.merges}
        covered = {(r, c) for r0, c0, r1, c1 in block.merges for r in range(r0, r1 + 1)
                   for c in range(c0, c1 + 1) if (r, c) != (r0, c0)}
        for t, row in enumerate(block.table):
            tag = "th" if t < block.form.header_rows else "td"
            cells = []
            for c, v in enumerate(row):
                if (t, c) in covered:
                    continue
                rs, cs = spans.get((t, c), (1, 1))
                attrs = (f' rowspan="{rs}"' if rs > 1 else "") + (f' colspan="{cs}"' if cs > 1 else "")
                cells.append(f"<{tag}{attrs}>{esc(word_text(v, date_style))}</{tag}>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</table>")
        for line in block.post:
            out.append(f"<p>{esc(line)}</p>")
    out.append("</body></html>\n")
    path.write_text("\n".join(out), encoding="utf-8")
    return path


# =========================================================================== zips

_DATES = re.compile(rb"(<(?:dcterms:created|dcterms:modified|meta:creation-date|dc:date)[^>]*>)[^<]*(<)")


_MASTER_STYLES = re.compile(rb"(<office:master-styles>)(.*?)(</office:master-styles>)", re.S)
_MASTER_PAGE = re.compile(rb"<style:master-page\b.*?</style:master-page>", re.S)


def _sorted_master_pages(m: re.Match) -> bytes:
    """LibreOffice writes an .ods's page styles in hash order: sort them (same meaning, stable bytes)."""
    items = _MASTER_PAGE.findall(m.group(2))
    if b"".join(items) != m.group(2):
        return m.group(0)
    return m.group(1) + b"".join(sorted(items)) + m.group(3)


def normalize_zip(path: Path) -> None:
    """Fixed entry times and document dates, so that rebuilding changes no byte."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zout:
        for info, data in entries:
            if info.filename == "styles.xml":
                data = _MASTER_STYLES.sub(_sorted_master_pages, data)
            if info.filename in ("docProps/core.xml", "meta.xml"):
                data = _DATES.sub(rb"\g<1>" + FIXED_W3C.encode() + rb"\g<2>", data)
                data = re.sub(rb"<meta:editing-duration>[^<]*<", b"<meta:editing-duration>PT0S<", data)
            new = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            new.compress_type = info.compress_type
            new.external_attr = 0o644 << 16
            zout.writestr(new, data)
    tmp.replace(path)


class _GbkName(zipfile.ZipInfo):
    """A member whose name is stored as GBK bytes without the UTF-8 flag, as Windows' and
    WPS's zip tools write it. ``filename`` holds those bytes decoded as cp437 (how zipfile, and
    every reader that ignores the encoding, sees such a name)."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("cp437"), self.flag_bits & ~0x800


def write_gbk_zip(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = _GbkName(name.encode("gbk").decode("cp437"), FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return path


def zip_members(path: Path) -> dict[str, bytes]:
    """Members by their real name: GBK when the UTF-8 flag is not set."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename if info.flag_bits & 0x800 else info.filename.encode("cp437").decode("gbk")
            out[name] = zf.read(info)
    return out


# =========================================================================== LibreOffice

def _convert(src: Path, fmt: str, outdir: Path) -> Path:
    from office import convert  # tests/office.py: a private profile, killed on timeout

    return convert(src, fmt, outdir)


# =========================================================================== the corpus

SHEETS_LIB = {1: "网站", 2: "新媒体", 3: "僵尸群", 4: "工作群", 5: "网络大V"}
SHEETS_MED = {1: "网站平台", 2: "新媒体平台", 3: "僵尸群清理", 4: "工作群组", 5: "网络大V"}


def _one_per_sheet(unit: Unit, names: dict[int, str], fids=(1, 2, 3, 4, 5), **kw):
    rows = unit.planted_rows()
    plans = {}
    for fid in fids:
        plan = SheetPlan(names[fid])
        lay_out(plan, make_block(unit, rows[fid], fid, attachment=False), **kw)
        plans[fid] = plan
    return plans


def _entry(name: str, unit: Unit, fids, plans: dict[int, SheetPlan], how: str, fmt: str,
           rows_by_form: dict[int, list]) -> CorpusFile:
    grids: dict[str, dict] = {}
    for plan in {id(p): p for p in plans.values()}.values():
        grids[plan.name] = plan.grid()
    return CorpusFile(name, unit.unit, {fid: len(rows_by_form[fid]) for fid in fids},
                      planted_issues(unit, fids, sheet_where(plans)), how, fmt, grids)


def build_corpus(root: Path, *, libreoffice: bool = True) -> Manifest:
    """Write the corpus into ``root`` (created; must not hold other files). Without
    ``libreoffice`` the files LibreOffice makes (two .xls/.ods, one .docx) are left out."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    u = units()
    files: list[CorpusFile] = []
    all5 = (1, 2, 3, 4, 5)

    # 1. 组织部.docx: python-docx, like the notice's attachments (a spare blank row in each table).
    unit = u["组织部"]
    rows = unit.planted_rows()
    blocks = [make_block(unit, rows[f], f, blank_rows=1) for f in all5]
    write_docx(root / "组织部.docx", blocks, "cn")
    files.append(_docx_entry("组织部.docx", unit, blocks, "cn",
                             "python-docx：五个表格，附件N、标题、填报单位、签名行为表格上方的段落，附件5 两行表头（类别合并两列），附件4 后有“注：”段落"))

    # 2. 教务处.docx: LibreOffice Writer, from HTML.
    if libreoffice:
        unit = u["教务处"]
        rows = unit.planted_rows()
        blocks = [make_block(unit, rows[f], f) for f in all5]
        with tempfile.TemporaryDirectory() as tmp:
            src = write_html(Path(tmp) / "教务处.html", blocks, "iso")
            made = _convert(src, "docx:MS Word 2007 XML", Path(tmp) / "out")
            shutil.copyfile(made, root / "教务处.docx")
        normalize_zip(root / "教务处.docx")
        files.append(_docx_entry("教务处.docx", unit, blocks, "iso",
                                 "LibreOffice Writer 将 HTML（段落 + 表格，rowspan/colspan）另存为 .docx"))

    # 3a. 图书馆.xls: LibreOffice, from an openpyxl workbook.
    if libreoffice:
        unit = u["图书馆"]
        plans = _one_per_sheet(unit, SHEETS_LIB)
        with tempfile.TemporaryDirectory() as tmp:
            src = write_openpyxl(Path(tmp) / "图书馆.xlsx", list(plans.values()))
            shutil.copyfile(_convert(src, "xls", Path(tmp) / "out"), root / "图书馆.xls")
        files.append(_entry("图书馆.xls", unit, all5, plans,
                            "openpyxl 写 .xlsx，LibreOffice 另存为 Excel 97-2003（.xls）", "xls", unit.rows))

    # 3b. 纪委办公室.xls: xlwt.
    unit = u["纪委办公室"]
    plans = _one_per_sheet(unit, {f: f"附件{f}" for f in all5})
    write_xlwt(root / "纪委办公室.xls", list(plans.values()))
    files.append(_entry("纪委办公室.xls", unit, all5, plans, "xlwt 直接写 .xls（BIFF8）", "xls", unit.rows))

    # 4. 马克思主义学院.ods: LibreOffice, from an openpyxl workbook; signature line over cells.
    if libreoffice:
        unit = u["马克思主义学院"]
        plans = _one_per_sheet(unit, {f: f"附件{f}" for f in all5}, split_signature=True)
        with tempfile.TemporaryDirectory() as tmp:
            src = write_openpyxl(Path(tmp) / "马克思主义学院.xlsx", list(plans.values()))
            shutil.copyfile(_convert(src, "ods", Path(tmp) / "out"), root / "马克思主义学院.ods")
        normalize_zip(root / "马克思主义学院.ods")
        files.append(_entry("马克思主义学院.ods", unit, all5, plans,
                            "openpyxl 写 .xlsx，LibreOffice 另存为 .ods；签名行分在几个单元格里", "ods", unit.rows))

    # 5. 团委: two csv exports, one form each, the title/unit/signature lines first.
    unit = u["团委"]
    rows = unit.planted_rows()
    for fid, encoding, how in ((2, "utf-8-sig", "一张表导出为 CSV UTF-8（带 BOM，Excel“CSV UTF-8”）"),
                               (5, "gbk", "一张表导出为 CSV（GBK，无 BOM，WPS 默认），附件5 两行表头")):
        stem = f"团委-附件{fid}"
        plan = SheetPlan(stem)
        lay_out(plan, make_block(unit, rows[fid], fid, flat_header=True))
        write_csv(root / f"{stem}.csv", plan, encoding)
        entry = _entry(f"{stem}.csv", unit, (fid,), {fid: plan}, how, "csv", unit.rows)
        entry.grids = {stem: {k: csv_text(v) for k, v in plan.grid().items()}}
        entry.encoding = encoding
        files.append(entry)

    # 6. 信息工程学院: the five forms stacked in one sheet (xlsxwriter).
    unit = u["信息工程学院"]
    rows = unit.planted_rows()
    plan = SheetPlan("登记表")
    r = 0
    for fid in all5:
        r = lay_out(plan, make_block(unit, rows[fid], fid), r) + 2
    name = "信息工程学院网信登记表.xlsx"
    write_xlsxwriter(root / name, [plan])
    files.append(_entry(name, unit, all5, {f: plan for f in all5},
                        "xlsxwriter：五张表上下排在同一个工作表里，表间空两行", "xlsx", unit.rows))

    # 7. 机电工程学院: a zip of five openpyxl workbooks, member names in GBK.
    unit = u["机电工程学院"]
    zip_name = "机电工程学院报送材料.zip"
    members = []
    for fid in all5:
        plans = _one_per_sheet(unit, {fid: "Sheet1"}, fids=(fid,))
        member = f"附件{fid}-{FORMS[fid].name}（机电工程学院）.xlsx"
        with tempfile.TemporaryDirectory() as tmp:
            members.append((member, write_openpyxl(Path(tmp) / "m.xlsx", list(plans.values())).read_bytes()))
        files.append(_entry(f"{zip_name}/{member}", unit, (fid,), plans,
                            "openpyxl 写 .xlsx，五个文件打包为 .zip（成员名 GBK 编码、无 UTF-8 标志）", "xlsx", unit.rows))
    write_gbk_zip(root / zip_name, members)

    # 8. 医学院.xlsx: plain openpyxl, one sheet per form, dates shown as 2025年10月21日.
    unit = u["医学院"]
    plans = _one_per_sheet(unit, SHEETS_MED)
    write_openpyxl(root / "医学院.xlsx", list(plans.values()), date_format='yyyy"年"m"月"d"日"')
    files.append(_entry("医学院.xlsx", unit, all5, plans, "openpyxl：每张表一个工作表", "xlsx", unit.rows))

    return Manifest(root, files)


def _docx_entry(name: str, unit: Unit, blocks: list[Block], date_style: str, how: str) -> CorpusFile:
    grids, places = docx_grids(blocks, date_style)

    def where(form: int, row: int | None, key: str):
        return places[(form, None, "filler_phone")] if row is None else places[(form, row, key)]

    # where netreg says it is: the table's own row and column as Word counts them (header rows
    # included); the 填表人 line is a paragraph, in no row
    word = {}
    for k, block in enumerate(blocks, start=1):
        for i, t in block.data.items():
            for key in block.form.keys:
                word[(block.form.id, i, key)] = f"第{t + 1}行 第{block.form.col(key) + 1}列"
    fids = [b.form.id for b in blocks]
    plants = [p for p in unit.plants if p.form in fids]
    issues = planted_issues(unit, fids, where)
    issues = [PlantedIssue(i.code, i.sheet, i.cell, word_text(i.value, date_style) if i.value is not None else None,
                           "" if p.row is None else word[(p.form, p.row, p.at)])
              for i, p in zip(issues, plants)]
    return CorpusFile(name, unit.unit, {b.form.id: b.n_rows for b in blocks}, issues, how, "docx", grids)


# =========================================================================== reading back

def norm(v: object) -> str:
    """A cell value as text, whatever library read it."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_xlsx_grids(data: bytes | Path) -> dict[str, dict[tuple[int, int], object]]:
    import openpyxl

    src = io.BytesIO(data) if isinstance(data, bytes) else data
    wb = openpyxl.load_workbook(src)
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = {(c.row - 1, c.column - 1): c.value for row in ws.iter_rows() for c in row
                         if not _empty(c.value)}
    return out


def read_docx_grids(path: Path) -> dict[str, dict[tuple[int, int], object]]:
    """Table N as a grid: the non-empty paragraphs since table N-1, then the table's rows
    (a merged cell's text in its top-left grid cell only)."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = docx.Document(str(path))
    out = {}
    paras: list[str] = []
    for el in doc.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(el, doc).text
            if text.strip():
                paras.append(text)
        elif tag == "tbl":
            table = Table(el, doc)
            grid = {(i, 0): p for i, p in enumerate(paras)}
            top = len(paras)
            seen: dict[int, object] = {}  # id -> element: kept alive, so that ids are not reused
            for r, row in enumerate(table.rows):
                for c, cell in enumerate(row.cells):
                    if id(cell._tc) in seen:
                        continue
                    seen[id(cell._tc)] = cell._tc
                    if cell.text.strip():
                        grid[(top + r, c)] = cell.text
            out[f"表格{len(out) + 1}"] = grid
            paras = []
    return out


def read_csv_grid(path: Path, encoding: str) -> dict[tuple[int, int], object]:
    raw = path.read_bytes()
    text = raw.decode(encoding)  # strict
    return {(r, c): v for r, row in enumerate(csv.reader(io.StringIO(text, newline="")))
            for c, v in enumerate(row) if v.strip()}


def read_grids(manifest: Manifest, entry: CorpusFile, workdir: Path) -> dict[str, dict]:
    """The grids of one corpus file, read without netreg (xls/ods: through LibreOffice → .xlsx)."""
    path = manifest.root / entry.name
    if ".zip/" in entry.name:
        zip_name, member = entry.name.split("/", 1)
        return read_xlsx_grids(zip_members(manifest.root / zip_name)[member])
    if entry.fmt == "xlsx":
        return read_xlsx_grids(path)
    if entry.fmt in ("xls", "ods"):
        return read_xlsx_grids(as_xlsx(path, workdir))
    if entry.fmt == "docx":
        return read_docx_grids(path)
    if entry.fmt == "csv":
        return {path.stem: read_csv_grid(path, entry.encoding)}
    raise ValueError(entry.fmt)


def as_xlsx(path: Path, workdir: Path) -> Path:
    """An .xls/.ods converted to .xlsx by LibreOffice (for reading back, and for today's netreg)."""
    out = workdir / "xlsx" / path.name
    out.mkdir(parents=True, exist_ok=True)
    return _convert(path, "xlsx", out)


def verify_corpus(manifest: Manifest) -> list[str]:
    """Every place where a corpus file does not hold what the manifest says (empty: all good)."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for entry in manifest.files:
            try:
                got = read_grids(manifest, entry, Path(tmp))
            except Exception as exc:  # report, keep checking the others
                problems.append(f"{entry.name}: cannot read back ({type(exc).__name__}: {exc})")
                continue
            problems += _compare_grids(entry, got)
            problems += _check_planted(entry, got)
            problems += _check_container(manifest, entry)
    return problems


def _compare_grids(entry: CorpusFile, got: dict[str, dict]) -> list[str]:
    problems = []
    if list(got) != list(entry.grids):
        problems.append(f"{entry.name}: grids {list(got)} != {list(entry.grids)}")
    for name, want in entry.grids.items():
        have = got.get(name, {})
        for pos in sorted(set(want) | set(have)):
            a, b = norm(want.get(pos)), norm(have.get(pos))
            if a != b:
                problems.append(f"{entry.name} {name}!{cell_name(*pos)}: expected {a!r}, read {b!r}")
    return problems


def _check_planted(entry: CorpusFile, got: dict[str, dict]) -> list[str]:
    problems = []
    for issue in entry.issues:
        m = re.fullmatch(r"([A-Z]+)([0-9]+)", issue.cell)
        col = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(m.group(1)))) - 1
        row = int(m.group(2)) - 1
        have = got.get(issue.sheet, {}).get((row, col))
        want = issue.value
        if entry.fmt == "csv":
            want = csv_text(want)
        if issue.code == "filler-missing":
            ok = norm(want) in norm(have)
        else:
            ok = norm(want) == norm(have)
        if not ok:
            problems.append(f"{entry.name} {issue.sheet}!{issue.cell} ({issue.code}): planted {want!r}, read {have!r}")
    return problems


def _check_container(manifest: Manifest, entry: CorpusFile) -> list[str]:
    """What the format itself must be: BOM or not, GBK member names, merged 类别, magic bytes."""
    path = manifest.root / entry.name
    problems = []
    if entry.fmt == "csv":
        raw = path.read_bytes()
        bom = raw.startswith(b"\xef\xbb\xbf")
        if bom != (entry.encoding == "utf-8-sig"):
            problems.append(f"{entry.name}: BOM {bom} for {entry.encoding}")
        if entry.encoding == "gbk":
            try:
                raw.decode("utf-8")
                problems.append(f"{entry.name}: GBK file is valid UTF-8 (no Chinese in it?)")
            except UnicodeDecodeError:
                pass
    elif ".zip/" in entry.name:
        zip_name, member = entry.name.split("/", 1)
        with zipfile.ZipFile(manifest.root / zip_name) as zf:
            infos = {i.filename.encode("cp437").decode("gbk"): i for i in zf.infolist() if not i.flag_bits & 0x800}
        if member not in infos:
            problems.append(f"{entry.name}: no GBK-named member {member!r} without the UTF-8 flag")
    elif entry.fmt == "xls":
        if path.read_bytes()[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            problems.append(f"{entry.name}: not an OLE2 file")
    elif entry.fmt == "docx":
        body = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
        if body.count("<w:tbl>") != 5 or "gridSpan" not in body or "vMerge" not in body:
            problems.append(f"{entry.name}: expected five tables with 附件5's merged header (gridSpan, vMerge)")
    elif entry.fmt == "ods":
        if zipfile.ZipFile(path).read("mimetype") != b"application/vnd.oasis.opendocument.spreadsheet":
            problems.append(f"{entry.name}: not an OpenDocument spreadsheet")
    return problems


# =========================================================================== for today's netreg

def todays_subset(manifest: Manifest, dest: Path) -> dict[str, str]:
    """Copy what netreg reads today (.xlsx files, the zip's members as loose files) into
    ``dest``; returns {name in dest: name in the manifest}."""
    dest.mkdir(parents=True, exist_ok=True)
    names = {}
    for entry in manifest.files:
        if ".zip/" in entry.name:
            zip_name, member = entry.name.split("/", 1)
            (dest / member).write_bytes(zip_members(manifest.root / zip_name)[member])
            names[member] = entry.name
        elif entry.fmt == "xlsx":
            shutil.copyfile(manifest.root / entry.name, dest / entry.name)
            names[entry.name] = entry.name
    return names


def grids_as_xlsx(manifest: Manifest, dest: Path) -> dict[str, str]:
    """Every corpus file as the grids a reader should hand on, written as .xlsx for today's
    netreg: .xls/.ods converted by LibreOffice, each Word table or csv as one sheet named as
    netreg reports it, strings as read. Returns {name in dest: name in the manifest}."""
    from openpyxl import Workbook

    names = {}
    with tempfile.TemporaryDirectory() as tmp:
        for entry in manifest.files:
            target = dest / (entry.name if entry.fmt == "xlsx" else entry.name + ".xlsx")
            target.parent.mkdir(parents=True, exist_ok=True)
            if ".zip/" in entry.name:
                zip_name, member = entry.name.split("/", 1)
                target.write_bytes(zip_members(manifest.root / zip_name)[member])
            elif entry.fmt == "xlsx":
                shutil.copyfile(manifest.root / entry.name, target)
            elif entry.fmt in ("xls", "ods"):
                shutil.copyfile(as_xlsx(manifest.root / entry.name, Path(tmp)), target)
            else:
                wb = Workbook()
                wb.remove(wb.active)
                merges = _docx_merges(manifest.root / entry.name) if entry.fmt == "docx" else {}
                for name, grid in read_grids(manifest, entry, Path(tmp)).items():
                    ws = wb.create_sheet(name)
                    for (r, c), v in grid.items():
                        ws.cell(r + 1, c + 1).value = v
                        ws.cell(r + 1, c + 1).data_type = "s"
                    for r0, c0, r1, c1 in merges.get(name, ()):
                        ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
                wb.save(target)
            names[target.relative_to(dest).as_posix()] = entry.name
    return names


def _docx_merges(path: Path) -> dict[str, list[tuple[int, int, int, int]]]:
    """Merged ranges of each Word table, in grid coordinates (after the paragraphs above it)."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = docx.Document(str(path))
    out = {}
    paras = 0
    for el in doc.element.body.iterchildren():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paras += bool(Paragraph(el, doc).text.strip())
        elif tag == "tbl":
            spans: dict[int, list[tuple[int, int]]] = {}
            alive = []  # the elements, so that ids are not reused
            for r, row in enumerate(Table(el, doc).rows):
                for c, cell in enumerate(row.cells):
                    alive.append(cell._tc)
                    spans.setdefault(id(cell._tc), []).append((r, c))
            ranges = []
            for cells in spans.values():
                if len(cells) > 1:
                    rs, cs = [p[0] for p in cells], [p[1] for p in cells]
                    ranges.append((paras + min(rs), min(cs), paras + max(rs), max(cs)))
            out[f"表格{len(out) + 1}"] = ranges
            paras = 0
    return out
