"""Forms as other schools and offices word them (issue 26, SPEC §3): each table is laid out
here by hand in another notice's wording, read into the right 附件 with every column mapped,
and its planted problem reported at the right place. Also: the form chosen by its
distinctive columns, netreg.toml [headers], near misses (header-mismatch), the platform
given by a title, and a workbook that is a zip without its parts."""

from __future__ import annotations

import zipfile
from datetime import date

import pytest
from builders import raw_workbook

from netreg.config import Campaign, load_config, render_default_config
from netreg.errors import ConfigError
from netreg.model.report import UnitState, unit_statuses
from netreg.pipeline import validate_paths

AS_OF = date(2025, 11, 25)
UNITS = ["医学院", "经济管理学院"]
SIGN = ["填报单位：医学院", None, None, "填表人：王丽", None, "填表人电话：13912345678"]


def sheet(title: str, header: list, rows: list[list], above: list[list] | None = None) -> list[list]:
    """A form laid out by hand from A1: its title, the signature line, the header, the rows."""
    return [*(above or []), [title], SIGN, header, *rows]


def validate(path, config: Campaign | None = None):
    return validate_paths([path], config or Campaign(), units=UNITS, as_of=AS_OF)


def found(report, *codes):
    return sorted((i.code, i.form, i.cell) for i in report.issues if i.code in codes)


def mapped(report, form_id: int) -> list[dict]:
    return [r.values for r in report.records if r.form.id == form_id]


# ---------------------------------------------------------------------- (1) the vocabulary

# Each layout: (form, title, header, rows, every column it must map, planted problem (code, cell))
LAYOUTS = {
    "新媒体-单位平台类型公众号名称微信号粉丝关注量": (
        2, "某学院新媒体账号信息汇总表",
        ["序号", "单位", "平台类型", "公众号名称", "微信号", "粉丝关注量", "开通时间", "主要用途", "负责人", "联系电话", "备注"],
        [[1, "医学院", "微信公众号", "医学院之声", "gh_a1b2c3", 5230, "2019-03-01", "信息发布", "李明", "13812345678", None],
         [2, "医学院", "微博", "医学院官微", "yxy2019", "1.2万", "2020-05-01", "宣传", "李明", "1381234567", None]],
        {"platform", "account_name", "account_id", "followers", "opened", "purpose", "admin", "phone"},
        ("phone-invalid", "J5")),
    "新媒体-平台名称是账号名": (
        2, "新媒体平台登记表",
        ["序号", "账号类型", "平台名称", "账号", "粉丝量", "开设时间", "功能定位", "运营负责人", "联系电话"],
        [[1, "抖音", "医学院青年", "yxyqn", 3000, "2021-09-01", "宣传", "张三", "13912345678"],
         [2, "视频号", "医学院视频", "sph123", "约800", "2022-01-01", "宣传", "张三", "13912345678"]],
        {"platform", "account_name", "account_id", "followers", "opened", "purpose", "admin", "phone"},
        ("number-approximate", "E5")),
    "工作群-微信群名称群主群成员人数": (
        4, "网络工作群组登记表",
        ["序号", "微信群名称", "群主", "群成员人数", "用途", "是否完成实名认证", "联系电话", "备注"],
        [[1, "医学院教职工群", "王强", 120, "工作通知", "是", "13912345678", None],
         [2, "护理2023级通知群", "赵敏", 86, "班级管理", "否", "13912345679", None]],
        {"group_type", "group_name", "admin", "members", "purpose", "real_name", "phone"},
        ("real-name-incomplete", "F5")),
    "网站-负责人姓名与负责人电话两列": (
        1, "二级网站信息统计表",
        ["序号", "网站名称", "网站负责人姓名", "网站负责人联系电话", "网站管理员", "栏目名称", "最近更新时间"],
        [[1, "医学院网站", "刘洋", "0395-1234567", "陈晨", "学院新闻、通知公告", "2025-11-20"],
         [2, "护理系网站", "刘洋", "0395-1234567", "陈晨", "系部动态", "2025-03-01"]],
        {"site_name", "owner", "phone", "admin", "sections", "last_update"},
        ("website-stale", "G5")),
    "网络大V-身份平台粉丝量": (
        5, "师生网络大V信息统计表",
        ["序号", "姓名", "身份", "平台", "账号名称", "账号ID", "粉丝量", "创作领域", "联系方式"],
        [[1, "周杰", "教师", "抖音", "周老师讲解剖", "zls001", 25000, "医学科普", "13712345678"],
         [2, "吴倩", "护理2023级学生", "B站", "小吴的日常", "bw002", 1500, "校园生活", "13712345679"]],
        {"person", "title", "major", "platform", "account_name", "account_id", "followers", "topic", "phone"},
        ("below-threshold", "G5")),
    "僵尸群-解散原因是否已解散": (
        3, "僵尸群清理情况统计表",
        ["序号", "僵尸群名称", "群主", "联系电话", "解散原因", "是否已解散", "解散时间", "备注"],
        [[1, "2019迎新群", "王强", "13912345678", "工作已结束", "是", "2025-10-01", None],
         [2, "旧教研室群", "王强", "13912345678", "长期未使用", "是", None, None]],
        {"group_name", "admin", "phone", "reason", "cleaned", "cleaned_on"},
        ("cleanup-date-missing", "G5")),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_a_table_in_another_schools_wording_is_read_whole(tmp_path, name):
    form_id, title, header, rows, columns, (code, cell) = LAYOUTS[name]
    path = raw_workbook(tmp_path / "医学院.xlsx", {"Sheet1": sheet(title, header, rows)})
    report = validate(path)
    records = [r for r in report.records if r.form.id == form_id]
    assert len(records) == len(rows), [(r.form.id, r.row) for r in report.records]
    for rec in records:  # every column placed under its header, or given by the table (微信群名称)
        assert set(rec.columns) | {k for k, x in rec.values.items() if x not in (None, "")} >= columns, rec.values
    assert found(report, "header-mismatch", "extra-column", "sheet-ignored", "required-missing") == []
    assert (code, form_id, cell) in found(report, code)


def test_the_website_owner_and_the_owners_phone_are_two_columns(tmp_path):
    form_id, title, header, rows, *_ = LAYOUTS["网站-负责人姓名与负责人电话两列"]
    report = validate(raw_workbook(tmp_path / "医学院.xlsx", {"网站": sheet(title, header, rows)}))
    first = mapped(report, 1)[0]
    assert (first["owner"], first["phone"]) == ("刘洋", "0395-1234567")


def test_identity_column_splits_teachers_and_students(tmp_path):
    form_id, title, header, rows, *_ = LAYOUTS["网络大V-身份平台粉丝量"]
    report = validate(raw_workbook(tmp_path / "医学院.xlsx", {"大V": sheet(title, header, rows)}))
    teacher, student = mapped(report, 5)
    assert (teacher["title"], teacher["major"]) == ("教师", None)
    assert (student["title"], student["major"]) == (None, "护理2023级学生")
    assert found(report, "category-missing", "category-ambiguous") == []


def test_platform_name_is_the_accounts_name_beside_a_platform_column(tmp_path):
    form_id, title, header, rows, *_ = LAYOUTS["新媒体-平台名称是账号名"]
    report = validate(raw_workbook(tmp_path / "医学院.xlsx", {"新媒体": sheet(title, header, rows)}))
    assert [(v["platform"], v["account_name"]) for v in mapped(report, 2)] == [("抖音", "医学院青年"),
                                                                             ("视频号", "医学院视频")]


def test_the_same_wordings_are_read_from_a_word_table(tmp_path):
    from docx import Document

    form_id, title, header, rows, columns, _ = LAYOUTS["工作群-微信群名称群主群成员人数"]
    doc = Document()
    doc.add_paragraph("附件4")
    doc.add_paragraph(title)
    doc.add_paragraph("填报单位：医学院    填表人：王丽    填表人电话：13912345678")
    table = doc.add_table(rows=1 + len(rows), cols=len(header))
    for r, line in enumerate([header, *rows]):
        for c, value in enumerate(line):
            table.cell(r, c).text = "" if value is None else str(value)
    doc.save(tmp_path / "医学院.docx")
    report = validate(tmp_path / "医学院.docx")
    assert [v["group_type"] for v in mapped(report, 4)] == ["微信群", "微信群"]
    assert found(report, "header-mismatch", "extra-column", "sheet-ignored") == []


# ---------------------------------------------------------- (3) the distinctive columns decide

def test_accounts_with_a_person_in_charge_and_a_phone_are_new_media_not_websites(tmp_path):
    header = ["序号", "账号名称", "账号类型", "粉丝量", "负责人", "联系电话", "备注"]
    rows = [[1, "医学院之声", "微信公众号", 5230, "李明", "13812345678", None]]
    report = validate(raw_workbook(tmp_path / "医学院.xlsx", {"Sheet1": sheet("新媒体账号统计", header, rows)}))
    assert [r.form.id for r in report.records] == [2]


def test_generic_columns_alone_make_no_form(tmp_path):
    header = ["序号", "负责人", "管理员", "联系电话", "备注"]
    rows = [[1, "李明", "王强", "13812345678", None]]
    report = validate(raw_workbook(tmp_path / "医学院.xlsx", {"通讯录": sheet("联系人", header, rows)}))
    assert report.records == ()
    assert [i.code for i in report.issues if i.sheet == "通讯录"] == ["sheet-ignored"]


# ----------------------------------------------------------------- (2) [headers] in netreg.toml

ODD = ["序号", "网络平台", "账号名称", "账号ID", "粉丝总量", "开通日期", "主要用途", "管理员姓名", "联系电话", "备注"]
ODD_ROWS = [[1, "微信公众号", "医学院之声", "gh_a1b2c3", 5230, "2019-03-01", "信息发布", "李明", "13812345678", None]]


def test_one_line_in_netreg_toml_reads_a_wording_netreg_did_not_know(tmp_path):
    path = raw_workbook(tmp_path / "医学院.xlsx", {"Sheet1": sheet("新媒体平台登记备案表", ODD, ODD_ROWS)})
    before = validate(path)
    assert [i.code for i in before.issues if i.code == "header-mismatch"] == ["header-mismatch"]
    toml = tmp_path / "netreg.toml"
    toml.write_text('[headers]\n"粉丝总量" = "粉丝人数"\n', encoding="utf-8")
    after = validate(path, load_config(toml))
    assert [v["followers"] for v in mapped(after, 2)] == [5230]
    assert found(after, "header-mismatch", "extra-column") == []


def test_per_form_headers_and_the_unquoted_section_name(tmp_path):
    toml = tmp_path / "netreg.toml"
    toml.write_text('[headers.附件2]\n"粉丝总量" = "粉丝人数"\n', encoding="utf-8")
    config = load_config(toml)
    path = raw_workbook(tmp_path / "医学院.xlsx", {"Sheet1": sheet("新媒体平台登记备案表", ODD, ODD_ROWS)})
    assert [v["followers"] for v in mapped(validate(path, config), 2)] == [5230]


@pytest.mark.parametrize("text, named", [
    ('[headers]\n"粉丝总量" = "粉丝总数"\n', "附件1：网站名称"),
    ('[headers."附件5"]\n"开设时间" = "开通日期"\n', "附件5：账号平台"),
])
def test_a_headers_target_that_is_no_column_names_the_valid_ones(tmp_path, text, named):
    toml = tmp_path / "netreg.toml"
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(toml)
    assert "没有" in str(err.value) and named in str(err.value)


def test_netreg_init_documents_headers(tmp_path):
    text = render_default_config()
    assert "[headers]" in text and "粉丝关注量" in text
    toml = tmp_path / "netreg.toml"
    toml.write_text(text.replace('# "粉丝关注量"', '"粉丝关注量"'), encoding="utf-8")
    assert load_config(toml).headers.get("粉丝关注量") == "粉丝数量"


# ------------------------------------------------------------------- (4) a near miss is an error

def test_a_near_miss_is_a_header_mismatch_that_says_how_to_fix_it(tmp_path):
    header = ["序号", "平台类型", "账号名字", "粉丝总量", "开通时间", "联系电话"]
    rows = [[1, "微信公众号", "医学院之声", 5230, "2019-03-01", "13812345678"]]
    path = raw_workbook(tmp_path / "医学院.xlsx", {"Sheet1": sheet("新媒体", header, rows)})
    report = validate(path)
    [issue] = [i for i in report.issues if i.code == "header-mismatch"]
    assert (issue.form, issue.sheet, issue.row, issue.severity) == (2, "Sheet1", 3, "error")
    assert "附件2" in issue.message and "“账号名字”" in issue.message and "“粉丝总量”" in issue.message
    assert '[headers]' in issue.message and '"粉丝总量" = "粉丝人数"' in issue.message
    assert not [i for i in report.issues if i.code in ("sheet-ignored", "extra-column")]
    assert not [i for i in report.issues if i.code == "form-not-found" and i.form == 2]
    [status] = [s for s in unit_statuses(report) if s.unit == "医学院"]
    assert status.state is UnitState.FIX


# ----------------------------------------------------------- (7) a broken workbook is no archive

@pytest.mark.parametrize("suffix", [".xlsx", ".docx", ".ods"])
def test_a_workbook_that_is_a_zip_without_its_parts_is_corrupt(tmp_path, suffix):
    path = tmp_path / f"医学院{suffix}"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "序号,网站名称\n1,医学院网站\n")
    report = validate(path)
    assert [(i.code, i.reason) for i in report.issues if i.file == str(path)] == [("file-unreadable", "corrupt")]
    assert report.records == ()


def test_a_zip_is_still_an_archive(tmp_path):
    from builders import filled_template, SITE

    inner = filled_template(tmp_path / "src" / "医学院.xlsx", "医学院", {1: [SITE]})
    path = tmp_path / "医学院.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(inner, "医学院.xlsx")
    assert [r.form.id for r in validate(path).records] == [1]


# ------------------------------------------------------------- (5) layouts seen in real returns

WECHAT = ["序号", "账号名称", "原始ID", "粉丝数", "开通时间", "主要用途", "管理员", "联系电话", "备注"]
WECHAT_ROWS = [[1, "医学院之声", "gh_a1b2c3", 5230, "2019-03-01", "信息发布", "李明", "13812345678", None],
               [2, "医学院团委", "gh_d4e5f6", 800, "2020-03-01", "团学活动", "李明", "138123456", None]]


def test_the_platform_given_only_by_the_title_is_every_rows(tmp_path):
    path = raw_workbook(tmp_path / "医学院.xlsx",
                        {"Sheet1": sheet("漯河职业技术学院微信公众账号登记备案表", WECHAT, WECHAT_ROWS)})
    report = validate(path)
    assert [v["platform"] for v in mapped(report, 2)] == ["微信公众号", "微信公众号"]
    assert found(report, "header-mismatch", "required-missing", "choice-unknown") == []
    assert found(report, "phone-invalid") == [("phone-invalid", 2, "H5")]


def test_the_platform_given_by_the_sheet_name(tmp_path):
    path = raw_workbook(tmp_path / "医学院.xlsx", {"微博账号": sheet("账号登记表", WECHAT, WECHAT_ROWS[:1])})
    assert [v["platform"] for v in mapped(validate(path), 2)] == ["微博"]


def test_the_platform_given_by_a_word_tables_title(tmp_path):
    from docx import Document

    doc = Document()
    doc.add_paragraph("附件")
    doc.add_paragraph("微博账号登记备案表")
    doc.add_paragraph("填报单位：医学院    填表人：王丽    填表人电话：13912345678")
    table = doc.add_table(rows=1 + len(WECHAT_ROWS), cols=len(WECHAT))
    for r, line in enumerate([WECHAT, *WECHAT_ROWS]):
        for c, value in enumerate(line):
            table.cell(r, c).text = "" if value is None else str(value)
    doc.save(tmp_path / "医学院.docx")
    report = validate(tmp_path / "医学院.docx")
    assert [v["platform"] for v in mapped(report, 2)] == ["微博", "微博"]
    assert found(report, "header-mismatch", "sheet-ignored") == []


MIXED = ["序号", "账号类型", "账号名称", "账号ID", "粉丝数", "开通时间", "主要用途", "是否实名", "管理员", "联系电话",
         "备注"]
MIXED_ROWS = [[1, "微信公众号", "医学院之声", "gh_a1b2c3", 5230, "2019-03-01", "信息发布", None, "李明", "13812345678", None],
              [2, "微信群", "医学院教职工群", None, 120, None, "工作通知", "是", "王强", "13912345678", None],
              [3, "QQ群", "护理2023级群", "123456789", 300, None, "班级管理", "否", "赵敏", "13912345679", None],
              [4, "抖音", "医学院青年", "yxyqn", 3000, "2021-09-01", "宣传", None, "张三", "1391234567", None]]


def test_a_mixed_table_of_accounts_and_groups_is_split_by_its_type_column(tmp_path):
    path = raw_workbook(tmp_path / "医学院.xlsx", {"Sheet1": sheet("新媒体及工作群统计表", MIXED, MIXED_ROWS)})
    report = validate(path)
    assert [(r.form.id, r.row) for r in report.records] == [(2, 4), (2, 7), (4, 5), (4, 6)]
    groups = mapped(report, 4)
    assert [(g["group_type"], g["group_name"], g["members"], g["real_name"]) for g in groups] == [
        ("微信群", "医学院教职工群", 120, True), ("QQ群", "护理2023级群", 300, False)]
    qq = [r for r in report.records if r.form.id == 4][1]
    assert qq.extras == {"账号ID": "123456789"}  # its 群号, kept
    assert found(report, "header-mismatch", "required-missing", "sheet-ignored") == []
    assert found(report, "real-name-incomplete", "phone-invalid") == [("phone-invalid", 2, "J7"),
                                                                       ("real-name-incomplete", 4, "H6")]
