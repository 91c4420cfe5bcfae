#!/usr/bin/env python3
"""Regenerate ``samples/returned/``: workbooks as the coordinator receives them back.

    python samples/make_samples.py

Deterministic (fixed seed, fixed timestamps, no network). Writes:

* units that filled our blank template (``netreg.excel.template.build_workbook``, then openpyxl),
  some clean, some with the typical mistakes of SPEC §3–§4;
* units that rebuilt the tables by hand from the Word attachment (xlsxwriter): other
  preamble, hand-typed headers, one signature text cell, blank and 序号-only rows, one unit
  sending five separate workbooks, one file whose name names no unit;
* one unit's file re-saved by LibreOffice headless (kept as written by openpyxl when
  ``soffice`` is not installed);
* one unit that returned 无 on every form.

What each file contains and which mistakes were planted: see ``samples/README.md``.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from datetime import date, datetime
from pathlib import Path

import xlsxwriter
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from netreg.config import Campaign
from netreg.model.forms import FORMS_BY_ID
from netreg.excel.template import build_workbook

SEED = 20251125
ROOT = Path(__file__).resolve().parent
OUT = ROOT / "returned"
SCHOOL = "漯河职业技术学院"
ISSUED = "2025-11-10T09:00:00+08:00"  # when the coordinator sent out the blank templates
FIXED_ZIP_TIME = (2025, 11, 24, 16, 30, 0)  # every file "returned" the day before the deadline
FIXED_W3C = "2025-11-24T16:30:00Z"

rng = random.Random(SEED)
_used_phones: set[str] = set()

MOBILE_PREFIXES = ["135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "157",
                   "158", "159", "166", "176", "177", "178", "180", "181", "182", "183", "186",
                   "187", "188", "189", "199"]


def mobile() -> str:
    """A fresh, valid-looking mobile number (never reused unless on purpose)."""
    while True:
        number = rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))
        if number not in _used_phones:
            _used_phones.add(number)
            return number


def gh_id() -> str:
    return "gh_" + "".join(rng.choice("0123456789abcdef") for _ in range(12))


def digits(n: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def weibo_uid() -> str:
    return digits(10, "567")


def bili_uid() -> str:
    return digits(rng.choice([9, 10]), "123456")


def sph_id() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    return "sph" + "".join(rng.choice(alphabet) for _ in range(11))


# Phones and ids planted on purpose in more than one file.
STUDENT_PHONE = mobile()  # 王梓涵 (学生, 学生工作处 附件5) — also bound to 信息工程学院's 抖音 account
SCHOOL_GH = gh_id()  # the school's 公众号, registered by 党委宣传统战部 and by 党委办公室/校长办公室

# ============================================================================ template units


def template_book(unit: str):
    wb = build_workbook(Campaign(), unit)
    for prop in wb.custom_doc_props:  # a fixed "generated" stamp keeps the samples reproducible
        if prop.name == "netreg_generated":
            prop.value = ISSUED
    meta = wb["_netreg"]
    for row in meta.iter_rows():
        if row[0].value == "generated":
            row[1].value = ISSUED
    wb.properties.creator = "netreg"
    wb.properties.created = datetime(2025, 11, 10, 9, 0, 0)
    return wb


def _input_right_of(ws, label: str):
    """The input cell right of a signature-row label (row 3 of our template)."""
    for cell in ws[3]:
        if cell.value == label:
            col = cell.column
            for rng_ in ws.merged_cells.ranges:
                if cell.coordinate in rng_:
                    col = rng_.max_col
            return ws.cell(3, col + 1)
    raise LookupError(f"{ws.title}: no {label!r} in row 3")


def fill(wb, form_id: int, rows, filler: str | None = None, phone=None):
    """Write ``rows`` (tuples in data-column order, 序号 excluded) below the form's header,
    and the 填表人 / 填表人电话 inputs of the signature row."""
    form = FORMS_BY_ID[form_id]
    ws = wb[form.sheet]
    first = 4 + form.header_rows
    cols = [i for i, c in enumerate(form.columns, start=1) if c.key != "seq"]
    for r, values in enumerate(rows, start=first):
        assert len(values) == len(cols), (form_id, values)
        for col, value in zip(cols, values):
            if value is not None:
                ws.cell(r, col).value = value
    if filler is not None:
        _input_right_of(ws, "填表人：").value = filler
    if phone is not None:
        _input_right_of(ws, form.phone_label + "：").value = phone
    return ws


def fill_none(wb, form_id: int, filler: str, phone, everywhere: bool = False):
    """The form's only data row says 无 (in the first column, or in every column)."""
    n = len(FORMS_BY_ID[form_id].data_columns)
    row = ("无",) * n if everywhere else ("无",) + (None,) * (n - 1)
    fill(wb, form_id, [row], filler, phone)


# ---------------------------------------------------------------- 党委宣传统战部 (clean except the
# school 公众号, which 党委办公室/校长办公室 also registered → duplicate-account)

def unit_publicity():
    wb = template_book("党委宣传统战部")
    filler, phone = "杨帆", mobile()
    p_zhou, p_sun = mobile(), mobile()
    fill(wb, 1, [
        ("漯河职业技术学院新闻网", "周建华", "孙悦", p_sun,
         "学校要闻、综合新闻、媒体漯职、图片新闻、视频漯职、通知公告", date(2025, 11, 21)),
        ("党委宣传统战部网站", "周建华", "杨帆", phone, "部门概况、理论学习、统战工作、下载专区", date(2025, 11, 7)),
    ], filler, phone)
    fill(wb, 2, [
        ("微信公众号", "漯河职业技术学院", SCHOOL_GH, 86342, date(2014, 9, 10), "学校官方信息发布、思想引领",
         "孙悦", p_sun, "已认证（事业单位）"),
        ("微博", "漯河职业技术学院", weibo_uid(), 23510, date(2013, 4, 18), "学校新闻发布、舆情回应",
         "孙悦", p_sun, "蓝V认证"),
        ("抖音", "漯河职业技术学院", "lhzyjsxy", 41200, date(2020, 3, 2), "校园短视频、招生宣传",
         "杨帆", phone, "蓝V认证"),
        ("视频号", "漯河职业技术学院", sph_id(), 12870, date(2021, 6, 15), "活动直播、校园短视频",
         "杨帆", phone, "已官方认证"),
        ("B站", "漯河职业技术学院", bili_uid(), 3560, date(2022, 9, 1), "校园纪录片、公开课",
         "孙悦", p_sun, "机构认证"),
    ], filler, phone)
    fill(wb, 3, [
        ("杨帆", phone, "2024年校庆宣传报道工作群", "工作已结束", "是", date(2025, 11, 12), None),
    ], filler, phone)
    fill(wb, 4, [
        ("微信群", "全校新闻通讯员工作群", 126, "新闻线索报送、宣传任务布置", "是", "杨帆", phone, None),
        ("微信群", "宣传统战部工作群", 9, "部门日常工作", "是", "周建华", p_zhou, None),
        ("QQ群", "校园记者团工作群", 85, "采访任务分派、稿件交流", "是", "孙悦", p_sun, "成员为校记者团学生"),
    ], filler, phone)
    fill_none(wb, 5, filler, phone)
    return wb


# ---------------------------------------------------------------- 党委办公室/校长办公室 (joint office)

def unit_joint_office():
    wb = template_book("党委办公室/校长办公室")
    filler, phone = "韩雪", mobile()
    fill(wb, 1, [
        ("党委办公室、校长办公室网站", "吕志刚", "韩雪", phone, "机构设置、规章制度、工作动态、校务公开",
         date(2025, 11, 18)),
    ], filler, phone)
    fill(wb, 2, [  # the school's 公众号 again: co-managed with 宣传部, registered twice
        ("微信公众号", "漯河职业技术学院", SCHOOL_GH, 86342, date(2014, 9, 10), "校务信息发布",
         "韩雪", phone, "与党委宣传统战部共同管理"),
    ], filler, phone)
    fill_none(wb, 3, filler, phone)
    fill(wb, 4, [
        ("微信群", "全校中层干部工作群", 186, "会议通知、工作部署", "是", "韩雪", phone, None),
        ("企业微信群", "党政办公室工作群", 14, "公文流转、值班安排", "是", "吕志刚", mobile(), None),
    ], filler, phone)
    fill_none(wb, 5, filler, phone)
    return wb


# ---------------------------------------------------------------- 信息化管理中心 (fully clean)

def unit_it_center():
    wb = template_book("信息化管理中心")
    filler, phone = "马骏", mobile()
    p_gao = mobile()
    fill(wb, 1, [
        ("漯河职业技术学院门户网站", "高振宇", "马骏", phone,
         "学校概况、机构设置、教育教学、招生就业、信息公开", date(2025, 11, 24)),
        ("网上办事大厅", "高振宇", "马骏", phone, "服务指南、在线办理、办件查询", date(2025, 11, 20)),
        ("信息化管理中心网站", "高振宇", "许婷婷", p_gao, "中心概况、网络服务、下载中心、常见问题",
         date(2025, 10, 30)),
    ], filler, phone)
    fill(wb, 2, [
        ("微信公众号", "漯职网络服务", gh_id(), 5230, date(2019, 3, 12), "校园网服务通知、故障公告",
         "马骏", phone, None),
    ], filler, phone)
    fill(wb, 3, [
        ("许婷婷", p_gao, "2023年智慧校园项目验收群", "项目已验收", "是", date(2025, 10, 28), None),
        ("马骏", phone, "校园网运营商对接临时群", "长期未使用", "是", date(2025, 11, 3), "已解散"),
    ], filler, phone)
    fill(wb, 4, [
        ("微信群", "信息化联络员工作群", 58, "系统通知、信息化工作布置", "是", "马骏", phone, None),
        ("钉钉群", "网络运维值班群", 12, "运维值班、故障处理", "是", "高振宇", p_gao, None),
    ], filler, phone)
    fill_none(wb, 5, filler, phone)
    return wb


# ---------------------------------------------------------------- 团委 (clean; re-saved by LibreOffice)

def unit_youth_league():
    wb = template_book("团委")
    filler, phone = "郑雨晴", mobile()
    p_he = mobile()
    gh = gh_id()
    fill(wb, 1, [
        ("漯职青年网", "何磊", "郑雨晴", phone, "团情快讯、青年之声、志愿服务、第二课堂", date(2025, 11, 19)),
    ], filler, phone)
    fill(wb, 2, [
        ("微信公众号", "漯职青年", gh, 32150, date(2015, 5, 4), "团学活动发布、思想引领", "郑雨晴", phone, None),
        ("抖音", "漯职青年", "lzqn0504", 8930, date(2021, 5, 4), "团学活动短视频", "郑雨晴", phone, None),
        ("视频号", "漯职青年", sph_id(), 4120, date(2022, 5, 4), "活动直播", "何磊", p_he, "已完成官方认证"),
        ("B站", "漯职青年", bili_uid(), 2260, date(2023, 3, 20), "青年大学习、活动视频", "何磊", p_he, None),
    ], filler, phone)
    fill(wb, 3, [
        ("郑雨晴", phone, "2025年暑期“三下乡”临时群", "活动已结束", "是", date(2025, 9, 15), None),
    ], filler, phone)
    fill(wb, 4, [
        ("微信群", "各二级学院团总支书记群", 24, "团学工作部署", "是", "何磊", p_he, None),
        ("QQ群", "校学生会主席团工作群", 36, "学生会工作交流", "是", "郑雨晴", phone, None),
        ("微信群", "青年志愿者协会骨干群", 48, "志愿服务活动组织", "是", "郑雨晴", phone, None),
    ], filler, phone)
    fill(wb, 5, [
        ("抖音", "xiaoyu_dance", "舞蹈生小雨", 15600, "舞蹈、校园生活", "刘欣雨", None, "音乐表演2023级",
         mobile(), None),
        ("小红书", "9865213470", "漯职学姐说", 4380, "学习经验、升学分享", "陈思琪", None, "会计2022级",
         mobile(), None),
    ], filler, phone)
    return wb


# ---------------------------------------------------------------- 信息工程学院 (value mistakes)

def unit_info_eng():
    wb = template_book("信息工程学院")
    filler, phone = "陈晓峰", "13938521746"
    _used_phones.add(phone)
    p_liu = mobile()
    fill(wb, 1, [
        ("信息工程学院网站", "李国强", "陈晓峰", 13812345678,  # phone typed as a number
         "学院概况、新闻动态、通知公告、教学科研、学生工作", "2025.11.3"),
        ("软件技术专业教学资源库", "赵明", "刘洋", "0395-3136789",  # landline with area code
         "课程中心、教学资源、在线测试", date(2025, 6, 10)),  # stale (> 90 days before 11-25)
        ("信息工程学院实训中心网站", "赵明", "刘洋", "3136789",  # local number, no area code
         "中心简介、实训项目、设备预约", "2025年10月"),  # month precision only
    ], filler, phone)
    fill(wb, 2, [
        ("公众号", "漯职信息工程学院", gh_id(), "2.3万", "2018.9.1", "信息发布、招生宣传",
         "陈晓峰", 13812345678.0, None),  # phone as float
        ("抖音", "漯职信工", "lzxg2024", "约5000", "2024.5.1", "活动宣传",
         "王梓涵", STUDENT_PHONE, "学生干部协助运营"),  # a student's phone (see 学生工作处 附件5)
        ("哔哩哔哩", "漯职信工", bili_uid(), "1.2w", "2024年5月", "课程视频、技能大赛回顾",
         "刘洋", "1381234567", None),  # invalid phone (10 digits)
        ("头条号", "漯职信息工程学院", digits(16, "1"), "5000+", date(2026, 9, 1), "新闻转载",  # future date
         "刘洋", p_liu, None),
        ("视频号", "漯职信息工程学院", sph_id(), 860, date(2022, 4, 20), "活动直播",
         "陈晓峰", phone, None),  # 视频号 without 官方认证
        ("知乎", "漯职信工", "lzxg-it", 320, date(2023, 2, 14), "技术问答", "刘洋", p_liu, None),  # unknown
    ], filler, phone)
    fill(wb, 3, [
        ("刘洋", p_liu, "2021级软件技术专业实习群", "学生已毕业", "是", "2025/7/2", None),
    ], filler, phone)
    fill(wb, 4, [
        ("微信群", "信息工程学院教职工群", 86, "工作通知", "是", "陈晓峰", phone, None),
        ("QQ群", "信息工程学院2025级新生群", 412, "新生入学、班级管理", "是", "刘洋", p_liu, "辅导员管理"),
        ("微信群", "计算机技能大赛集训群", 23, "集训安排", "是", "赵明", mobile(), None),
    ], filler, phone)
    fill(wb, 5, [
        ("B站", bili_uid(), "赵老师讲Python", 12400, "编程教学", "赵明", "讲师", None, mobile(), None),
    ], filler, phone)
    return wb


# ---------------------------------------------------------------- 机电工程学院 (附件3/附件4 mistakes)

def unit_mech_eng():
    wb = template_book("机电工程学院")
    filler, phone = "孟凡超", mobile()
    p_wu, p_tian = mobile(), mobile()
    fill(wb, 1, [
        ("机电工程学院网站", "吴建军", "孟凡超", phone, "学院概况、新闻动态、通知公告、专业建设、党建工作",
         date(2025, 11, 14)),
    ], filler, phone)
    fill(wb, 2, [
        ("微信公众号", "漯职机电", gh_id(), 6820, date(2017, 10, 9), "学院新闻、学生活动", "孟凡超", phone, None),
        ("快手", "漯职机电小课堂", "lzjd2021", 2450, date(2021, 11, 1), "实训操作短视频", "田野", p_tian, None),
    ], filler, phone)
    fill(wb, 3, [
        ("田野", p_tian, "2022级机电一体化顶岗实习群", "实习已结束", "是", None, None),  # no 清理时间
        ("孟凡超", phone, "机电学院迎新志愿者群", "迎新工作结束", "否", None, "部分志愿者仍在使用"),  # pending
        ("吴建军", p_wu, "2021届毕业生就业群", "学生已毕业", "是", date(2025, 10, 20), None),
    ], filler, None)  # 填表人电话 left empty
    ws = fill(wb, 4, [
        ("微信群", "机电工程学院教职工群", 520, "工作通知", "是", "吴建军", p_wu, None),  # over 500
        ("QQ群", "机电2024级新生群", 356, "班级管理、通知", "否", "田野", p_tian, "部分新生未改实名"),
        ("QQ群", "工业机器人技能大赛集训群", None, "集训安排", "是", "田野", p_tian, None),
        ("微信群", "机电学院学生干部群", 41, "学生工作", "是", "孟凡超", phone, None),
    ], filler, phone)
    ws["D7"] = "=45+3"  # 群人数 typed as a formula
    # An extra column 群号 added by the unit (the notice only says 微信群 need none).
    head = ws.cell(4, 10, "群号")
    head.font = Font(name="宋体", size=11, bold=True)
    head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    head.fill = PatternFill("solid", fgColor="DDEBF7")
    thin = Side(style="thin")
    head.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.column_dimensions["J"].width = 14
    ws["J6"] = "735281946"
    ws["J7"] = "618204573"
    fill(wb, 5, [
        ("抖音", "jidian_laowu", "机电老吴", 23800, "机械制图、实训技能", "吴建军", "副教授", None, p_wu, None),
    ], filler, phone)
    return wb


# ---------------------------------------------------------------- 学生工作处 (附件5 mistakes)

def unit_student_affairs():
    wb = template_book("学生工作处")
    filler, phone = "黄丽娟", mobile()
    p_xu = mobile()
    fill(wb, 1, [
        ("学生工作处网站", "许文斌", "黄丽娟", phone, "工作动态、资助工作、心理健康、辅导员队伍、下载中心",
         date(2025, 11, 17)),
    ], filler, phone)
    fill(wb, 2, [
        ("微信公众号", "漯职学工", gh_id(), 15480, date(2016, 3, 1), "学生工作通知、资助政策宣传",
         "黄丽娟", phone, None),
    ], filler, phone)
    fill_none(wb, 3, filler, phone)
    fill(wb, 4, [
        ("微信群", "全校辅导员工作群", 138, "学生工作部署", "是", "许文斌", p_xu, None),
        ("QQ群", "学生资助工作联络群", 64, "资助政策通知", "是", "黄丽娟", phone, None),
    ], filler, phone)
    fill(wb, 5, [
        ("抖音", "zihan_code", "梓涵的代码日记", 6200, "编程学习、校园生活", "王梓涵", None, "软件技术2023级",
         STUDENT_PHONE, None),  # same phone as 信息工程学院's 抖音 account
        ("快手", "lzhl_xiaotian", "护理小甜", 1800, "护理技能、校园日常", "李甜甜", None, "护理2024级",
         mobile(), None),  # below 2000 followers
        ("小红书", "2753108964", "辅导员小周", 5100, "学生成长、心理健康", "周雅",
         "辅导员", "护理2022级", mobile(), None),  # both 职务职称 and 专业年级
        ("B站", bili_uid(), "漯河阿杰", 3400, "游戏解说", "张杰", None, None, mobile(), None),  # neither
        ("微博", weibo_uid(), "老许聊成长", 26800, "家庭教育、学生成长", "许文斌", "副处长、副教授", None,
         p_xu, None),
    ], filler, phone)
    return wb


# ---------------------------------------------------------------- 招生就业处 (deleted two sheets)

def unit_admissions():
    wb = template_book("招生就业处")
    filler, phone = "宋佳", mobile()
    fill(wb, 1, [
        ("漯河职业技术学院招生信息网", "刘振东", "宋佳", phone, "招生计划、录取查询、专业介绍、招生问答",
         date(2025, 11, 10)),
        ("就业信息网", "刘振东", "宋佳", phone, "招聘信息、宣讲会、就业政策、生涯指导", date(2025, 11, 22)),
    ], filler, phone)
    fill(wb, 2, [
        ("微信公众号", "漯职招生", gh_id(), 52600, date(2015, 6, 1), "招生宣传、录取查询", "宋佳", phone, None),
        ("抖音", "漯职招生办", "lzzsb2019", 18300, date(2019, 6, 10), "招生宣传短视频", "宋佳", phone, None),
    ], filler, phone)
    fill(wb, 4, [
        ("QQ群", "2025级新生咨询群", 1860, "新生报到咨询", "是", "宋佳", phone, "报到结束后解散"),
    ], filler, phone)
    del wb["附件3"]  # the unit deleted the sheets it had "nothing to fill" on
    del wb["附件5"]
    return wb


# ---------------------------------------------------------------- 经济管理学院 (无 everywhere)

def unit_econ():
    wb = template_book("经济管理学院")
    filler, phone = "曹静", mobile()
    fill_none(wb, 1, filler, phone)
    fill_none(wb, 2, filler, phone, everywhere=True)
    fill_none(wb, 3, filler, phone)
    fill_none(wb, 4, filler, phone)
    fill_none(wb, 5, filler, phone)
    return wb


# ============================================================================ hand-made tables

HEADERS = {  # headers as units typed them when rebuilding the Word tables by hand
    1: ["序号", "网站名称", "网站负责人", "网站管理员", "联系电话", "网站栏目", "最后更新\n日期"],
    2: ["序 号", "网络平台", "账号名称", "账号ID", "粉丝人数", "开通日期", "主要用途", "管理员\n姓名",
        "联系电话", "备注"],
    3: ["序号", "群管理员姓名", "联系电话", "工作群名称", "清理原因", "是否已清理", "清理时间", "备注"],
    4: ["序号", "群组类型\n(QQ群、微信群等)", "群名称", "群人数", "主要用途", "是否全部\n实名",
        "群管理员姓名", "联系电话", "备注"],
    5: ["序号", "账号\n平台", "账号ID", "账号\n名称", "粉丝数量", "创作\n方向", "姓名",
        ("类别", "职务职称\n（教师填写）"), ("类别", "专业年级\n（学生填写）"), "联系方式", "备注"],
}
WIDTHS = {1: [6, 24, 11, 11, 15, 34, 13], 2: [6, 11, 18, 18, 10, 12, 18, 10, 15, 16],
          3: [6, 12, 15, 26, 16, 10, 12, 14], 4: [6, 16, 26, 8, 18, 10, 12, 15, 14],
          5: [6, 9, 16, 16, 10, 14, 9, 13, 15, 15, 12]}
SIGNATURE = {1: "单位负责人签名（盖章）", 2: "单位负责人签名（盖章）", 3: "单位负责人签字（盖章）",
             4: "单位负责人签名（盖章）", 5: "单位负责人签名（盖章）"}
PHONE_LABEL = {1: "填表人电话", 2: "填表人电话", 3: "填表人电话", 4: "填表人电话", 5: "联系电话"}


class HandBook:
    """A workbook typed by hand in Excel/WPS after the Word attachment."""

    def __init__(self, path: Path):
        self.wb = xlsxwriter.Workbook(str(path))
        self.wb.set_properties({"author": "Administrator", "created": datetime(2025, 11, 21, 10, 12, 0)})
        f = self.wb.add_format
        self.title = f({"bold": True, "font_size": 16, "font_name": "宋体", "align": "center", "valign": "vcenter"})
        self.plain = f({"font_name": "宋体", "font_size": 11})
        self.head = f({"bold": True, "font_name": "宋体", "align": "center", "valign": "vcenter",
                       "text_wrap": True, "border": 1})
        self.cell = f({"font_name": "宋体", "valign": "vcenter", "text_wrap": True, "border": 1})
        self.center = f({"font_name": "宋体", "align": "center", "valign": "vcenter", "border": 1})
        self.date = f({"font_name": "宋体", "align": "center", "valign": "vcenter", "border": 1,
                       "num_format": "yyyy/m/d"})

    def sheet(self, name: str, form_id: int, *, signature: str, rows, unit_line: str | None = None,
              attachment_line: bool = True, blank_rows: int = 2):
        """``rows``: tuples in data-column order; None in place of a tuple = a blank row,
        "#" = a row holding only its 序号."""
        ws = self.wb.add_worksheet(name)
        heads = HEADERS[form_id]
        ncol = len(heads)
        for i, w in enumerate(WIDTHS[form_id]):
            ws.set_column(i, i, w)
        r = 0
        if attachment_line:
            ws.write(r, 0, f"附件{form_id}", self.plain)
            r += 1
        ws.merge_range(r, 0, r, ncol - 1, SCHOOL + FORMS_BY_ID[form_id].name, self.title)
        ws.set_row(r, 30)
        r += 1
        if unit_line:
            ws.write(r, 0, unit_line, self.plain)
            r += 1
        ws.merge_range(r, 0, r, ncol - 1, signature, self.plain)  # the whole line in one cell
        ws.set_row(r, 28)
        r += 1
        two = any(isinstance(h, tuple) for h in heads)
        if two:
            c = 0
            while c < ncol:
                h = heads[c]
                if isinstance(h, tuple):
                    ws.merge_range(r, c, r, c + 1, h[0], self.head)
                    ws.write(r + 1, c, h[1], self.head)
                    ws.write(r + 1, c + 1, heads[c + 1][1], self.head)
                    c += 2
                else:
                    ws.merge_range(r, c, r + 1, c, h, self.head)
                    c += 1
            r += 2
        else:
            for c, h in enumerate(heads):
                ws.write(r, c, h, self.head)
            ws.set_row(r, 32)
            r += 1
        seq = 0
        for values in list(rows) + [None] * blank_rows:
            if values is None or values == "#":  # blank row, or a row holding only its 序号
                if values == "#":
                    seq += 1
                    ws.write_number(r, 0, seq, self.center)
                else:
                    ws.write_blank(r, 0, None, self.center)
                for c in range(1, ncol):
                    ws.write_blank(r, c, None, self.cell)
                r += 1
                continue
            seq += 1
            ws.write_number(r, 0, seq, self.center)
            for c, v in enumerate(values, start=1):
                self._write(ws, r, c, v)
            r += 1
        if FORMS_BY_ID[form_id].footnote:
            ws.write(r, 0, FORMS_BY_ID[form_id].footnote, self.plain)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        return ws

    def _write(self, ws, r, c, v):
        if v is None:
            ws.write_blank(r, c, None, self.cell)
        elif isinstance(v, date):
            ws.write_datetime(r, c, datetime(v.year, v.month, v.day), self.date)
        elif isinstance(v, (int, float)):
            ws.write_number(r, c, v, self.center)
        else:
            ws.write_string(r, c, v, self.cell)

    def close(self):
        self.wb.close()


def sig(form_id: int, filler: str, phone: str, gap: str = "              ") -> str:
    return f"{SIGNATURE[form_id]}：{gap}填表人：{filler}    {PHONE_LABEL[form_id]}：{phone}"


# ---------------------------------------------------------------- 图书馆 (one hand-made workbook)

def unit_library(out: Path):
    filler, phone = "张敏", "13703951234"
    _used_phones.add(phone)
    p_li = mobile()
    hb = HandBook(out / "图书馆.xlsx")
    unit = "填报单位：图书馆"
    hb.sheet("网站", 1, unit_line=unit, signature=sig(1, filler, phone), rows=[
        ("漯河职业技术学院图书馆网站", "李春梅", "张敏", "0395-3136552",
         "本馆概况、资源导航、读者服务、通知公告、数字资源", date(2025, 11, 20)),
    ])
    hb.sheet("新媒体", 2, unit_line=unit, signature=sig(2, filler, phone), rows=[
        ("微信公众号", "漯职图书馆", gh_id(), 9650, date(2016, 4, 23), "服务通知、阅读推广", "张敏", phone,
         "服务号"),
        None,  # a blank row in the middle
        "#",  # a row with only its 序号
        ("视频号", "漯职图书馆", sph_id(), 2180, date(2023, 4, 23), "读书分享短视频", "李春梅", p_li,
         "已官方认证"),
    ])
    hb.sheet("僵尸群", 3, unit_line=unit, signature=sig(3, filler, phone), rows=[
        ("张敏", phone, "2023年读书月活动群", "活动已结束", "是", date(2025, 11, 6), "已解散"),
    ])
    hb.sheet("工作群", 4, unit_line=unit, signature=sig(4, filler, phone), rows=[
        ("微信群", "图书馆全体职工群", 32, "工作通知、值班安排", "是", "李春梅", p_li, None),
        "#",
        ("QQ群", "读者协会工作群", 76, "读者协会活动组织", "是", "张敏", phone, "学生社团"),
        None,
        ("微信群", "图书馆勤工助学学生群", 28, "勤工助学排班", "是", "张敏", phone, None),
    ])
    hb.sheet("网络大V", 5, unit_line=unit, signature=sig(5, filler, phone),
             rows=[("无",) + (None,) * 10])
    hb.close()


# ---------------------------------------------------------------- 医学院 (five separate workbooks)

def unit_medical(out: Path):
    filler, phone = "李娜", "(0395)3136618"  # landline in brackets
    p_wang, p_guo = mobile(), mobile()
    books = {
        1: dict(signature=sig(1, filler, phone, gap="\u3000" * 8), unit_line="填报单位：医学院", rows=[
            ("医学院网站", "王海燕", "李娜", "0395-3136618", "学院简介、新闻动态、专业建设、实训中心、护考专栏",
             (date(2025, 10, 21) - date(1899, 12, 30)).days),  # a bare date serial, no date format
            ("护理专业国家级教学资源库", "王海燕", "郭鹏", p_guo, "课程资源、微课视频、题库", "2025年11月3日"),
        ]),
        2: dict(signature=sig(2, filler, phone), unit_line=None, rows=[
            ("微信公众号", "漯职医学院", gh_id(), "3k", "2016/9/1", "学院新闻、护考资讯", "李娜",
             "+86 138 0395 2617", None),
            None,
            ("抖音", "漯职医学院", "lzyxy_2020", 4530, "20200512", "实训教学短视频", "郭鹏", p_guo, None),
            ("视频号", "漯职医学院", sph_id(), 1260, date(2022, 5, 12), "护士节活动直播", "郭鹏", p_guo,
             "已官方认证"),
        ]),
        3: dict(signature=sig(3, filler, phone), unit_line=None, rows=[
            ("郭鹏", p_guo, "2020级护理实习带教群", "实习结束", "已清理", "２０２５－１０－１５", None),  # full-width
        ]),
        4: dict(signature=sig(4, filler, phone), unit_line=None, rows=[
            ("微信群", "医学院教职工群", 118, "工作通知", "√", "王海燕", p_wang, None),
            ("微信群", "护理2023级1班班级群", 52, "班级管理", "√", "郭鹏", p_guo, "辅导员管理"),
            "#",
            ("钉钉", "医学院实训中心值班群", 15, "实训室值班", "√", "郭鹏", p_guo, None),
        ]),
        5: dict(signature=sig(5, filler, phone), unit_line=None, rows=[
            ("抖音", "nurse_xiaoxiao", "护士小晓", 38600, "护理科普", "孙晓晓", None, "护理2023级", mobile(), None),
            ("小红书", "1208733465", "郭老师的解剖课", 7200, "医学科普", "郭鹏", "讲师", None, p_guo, None),
        ]),
    }
    for form_id, spec in books.items():
        hb = HandBook(out / f"医学院-附件{form_id}.xlsx")
        hb.sheet("Sheet1", form_id, signature=spec["signature"], rows=spec["rows"],
                 unit_line=spec["unit_line"], attachment_line=form_id != 3, blank_rows=3)
        hb.close()


# ---------------------------------------------------------------- 艺术设计学院 (file name names no unit)

def unit_art(out: Path):
    filler, phone = "赵可欣", mobile()
    p_lin = mobile()
    hb = HandBook(out / "网信登记表（终稿）.xlsx")
    unit = "填报单位：艺术设计学院"
    # Sheets in another order, plain Sheet names, no 附件N line.
    hb.sheet("Sheet1", 2, unit_line=unit, attachment_line=False, signature=sig(2, filler, phone), rows=[
        ("微信公众号", "漯职艺术设计", gh_id(), 4870, date(2018, 5, 20), "作品展示、学院新闻", "赵可欣", phone, None),
        ("小红书", "漯职艺设", "5310277486", 2930, date(2023, 9, 8), "学生作品分享", "林晨", p_lin, None),
        ("B站", "漯职艺设工作室", bili_uid(), 1650, date(2022, 12, 1), "设计教程", "林晨", p_lin, None),
    ])
    hb.sheet("Sheet2", 1, unit_line=unit, attachment_line=False, signature=sig(1, filler, phone), rows=[
        ("艺术设计学院网站", "林晨", "赵可欣", phone, "学院概况、作品展厅、新闻动态、通知公告", date(2025, 11, 11)),
    ])
    hb.sheet("Sheet3", 4, unit_line=unit, attachment_line=False, signature=sig(4, filler, phone), rows=[
        ("微信群", "艺术设计学院教职工群", 64, "工作通知", "是", "林晨", p_lin, None),
        ("QQ群", "2024级视觉传达设计专业群", 138, "专业学习交流", "是", "赵可欣", phone, None),
    ])
    hb.sheet("Sheet4", 3, unit_line=unit, attachment_line=False, signature=sig(3, filler, phone),
             rows=[("无",) + (None,) * 6])
    hb.sheet("Sheet5", 5, unit_line=unit, attachment_line=False, signature=sig(5, filler, phone), rows=[
        ("抖音", "linchen_design", "林晨聊设计", 56000, "平面设计、AI绘画", "林晨", "讲师", None, p_lin, None),
    ])
    hb.close()


# ============================================================================ output

def normalize_zip(path: Path) -> None:
    """Fixed zip entry times and document dates, so that regenerating changes no byte."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in entries:
            if info.filename.startswith("xl/worksheets/") and b"<dataValidations" in data:
                data = _sorted_validations(data)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                              rb"\g<1>" + FIXED_W3C.encode() + rb"\g<2>", data)
            new = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o644 << 16
            zout.writestr(new, data)
    tmp.replace(path)


_VALIDATIONS = re.compile(rb"(<dataValidations[^>]*>)(.*?)(</dataValidations>)", re.S)
_VALIDATION = re.compile(rb"<dataValidation\b.*?</dataValidation>", re.S)


def _sorted_validations(xml: bytes) -> bytes:
    """LibreOffice writes data validations in hash order: sort them (same meaning, stable bytes)."""
    def sort(m: re.Match) -> bytes:
        items = _VALIDATION.findall(m.group(2))
        if b"".join(items) != m.group(2):
            return m.group(0)  # unexpected layout: leave as is
        return m.group(1) + b"".join(sorted(items)) + m.group(3)
    return _VALIDATIONS.sub(sort, xml)


def libreoffice_resave(path: Path) -> bool:
    """Re-save ``path`` through LibreOffice headless (as a unit using LibreOffice would)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        print(f"注意：未找到 soffice，{path.name} 保留 openpyxl 生成的版本（未经 LibreOffice 另存）")
        return False
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in" / path.name
        src.parent.mkdir()
        shutil.copy2(path, src)
        outdir = Path(tmp) / "out"
        cmd = [soffice, "--headless", "--norestore",
               "-env:UserInstallation=file:///tmp/lo-profile-samples",
               "--convert-to", "xlsx", "--outdir", str(outdir), str(src)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=180)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"注意：LibreOffice 另存 {path.name} 失败（{exc}），保留 openpyxl 生成的版本")
            return False
        result = outdir / path.name
        if not result.is_file():
            print(f"注意：LibreOffice 没有生成 {path.name}，保留 openpyxl 生成的版本")
            return False
        shutil.copyfile(result, path)
    return True


TEMPLATE_UNITS = {
    "党委宣传统战部.xlsx": unit_publicity,
    "党委办公室、校长办公室.xlsx": unit_joint_office,
    "信息化管理中心.xlsx": unit_it_center,
    "团委.xlsx": unit_youth_league,
    "信息工程学院.xlsx": unit_info_eng,
    "机电工程学院.xlsx": unit_mech_eng,
    "学生工作处.xlsx": unit_student_affairs,
    "招生就业处.xlsx": unit_admissions,
    "经济管理学院.xlsx": unit_econ,
}
HAND_UNITS = [unit_library, unit_medical, unit_art]
LIBREOFFICE = "团委.xlsx"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.xlsx"):
        old.unlink()
    for name, build in TEMPLATE_UNITS.items():
        build().save(OUT / name)
    for build in HAND_UNITS:
        build(OUT)
    libreoffice_resave(OUT / LIBREOFFICE)
    for path in sorted(OUT.glob("*.xlsx")):
        normalize_zip(path)
    total = 0
    for path in sorted(OUT.glob("*.xlsx")):
        size = path.stat().st_size
        total += size
        print(f"{path.relative_to(ROOT)}  {size / 1024:.1f} KB")
    print(f"共 {len(list(OUT.glob('*.xlsx')))} 个文件，{total / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
