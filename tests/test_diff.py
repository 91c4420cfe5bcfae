"""netreg diff: last year's summary against this year's — what a coordinator checks: which
accounts, groups and websites were added, removed or changed, per unit and in total, and the
named facts (followers grown or fallen, renamed, dissolved, still not updated)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from builders import filled_template
from netreg.cli import app
from netreg.compare import diff
from netreg.config import Campaign
from netreg.app.merge import merge
from netreg.model import forms as F
from netreg.model.records import Record
from netreg.model.report import Report
from netreg.pipeline import validate_paths

UNITS = ["医学院", "信息工程学院", "图书馆"]
SCHOOL = "漯河职业技术学院"

SITE = {"site_name": "医学院网站", "owner": "李强", "admin": "王丽", "phone": "0395-3136789",
        "sections": "学院概况、新闻动态", "last_update": date(2024, 3, 1)}
OLD_SITE = {**SITE, "site_name": "医学院旧专题网站"}
XX_SITE = {**SITE, "site_name": "信息工程学院网站", "last_update": date(2024, 10, 1)}
MP = {"platform": "公众号", "account_name": "漯职医学院", "account_id": "gh_abc123", "followers": 2300,
      "opened": "2019.9.1", "purpose": "信息发布", "admin": "王丽", "phone": "13812345678", "note": ""}
DOUYIN = {**MP, "platform": "抖音", "account_name": "医学院抖音", "account_id": "dy_med", "followers": 5000}
WEIBO = {**MP, "platform": "微博", "account_name": "信工微博", "account_id": "xxgc", "followers": 3000}
VIDEO = {**MP, "platform": "视频号", "account_name": "信工视频号", "account_id": "sph_xxgc", "followers": 800,
         "note": "官方认证"}
STAFF = {"group_type": "微信群", "group_name": "医学院教职工群", "members": 120, "purpose": "工作通知",
         "real_name": "是", "admin": "王丽", "phone": "13812345678", "note": ""}
FRESHMEN = {**STAFF, "group_name": "2023级迎新群", "members": 300}
HOSTILE = '=HYPERLINK("http://x","<script>alert(1)</script>")'
QQ = {**STAFF, "group_type": "QQ群", "group_name": HOSTILE, "members": 80}
STAR = {"platform": "抖音", "account_id": "dy_nurse", "account_name": "护理小王", "followers": 5200,
        "topic": "校园生活", "person": "王小二", "title": "", "major": "护理2023级", "phone": "13598765432",
        "note": ""}

YEAR_2024 = {
    "医学院": {1: [SITE, OLD_SITE], 2: [MP, DOUYIN], 4: [STAFF, FRESHMEN], 5: [STAR]},
    "信息工程学院": {1: [XX_SITE], 2: [WEIBO]},
}
YEAR_2025 = {
    # the 公众号's ID retyped in full-width capitals with a space: the same account, followers grew
    "医学院": {1: [SITE], 2: [{**MP, "account_id": "ＧＨ_ABC 123", "followers": 3500},
                           {**DOUYIN, "account_name": "漯职医学院官方", "followers": 4800}],
            4: [STAFF], 5: [{**STAR, "followers": 6000, "phone": "13598760000"}]},
    "信息工程学院": {1: [{**XX_SITE, "last_update": date(2025, 11, 1)}], 2: [WEIBO, VIDEO], 4: [QQ]},
}


def _summary(folder: Path, rows: dict, as_of: date) -> Path:
    returned = folder / "returned"
    for unit, forms in rows.items():
        filled_template(returned / f"{unit}.xlsx", unit, forms)
    report = validate_paths([returned], Campaign(), units=UNITS, as_of=as_of)
    out = folder / f"{as_of.year}汇总.xlsx"
    merge(report, out, school=SCHOOL, inputs=[returned])
    return out


@pytest.fixture(scope="module")
def years(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("years")
    return (_summary(base / "2024", YEAR_2024, date(2024, 11, 25)),
            _summary(base / "2025", YEAR_2025, date(2025, 11, 25)))


def _read(path: Path, as_of: date) -> Report:
    return validate_paths([path], Campaign(), units=UNITS, as_of=as_of)


def _facts(entry) -> set[str]:
    return {f.kind for f in entry.facts}


def test_diff_of_two_summaries_lists_exactly_what_changed(years):
    old, new = years
    d = diff(_read(old, date(2024, 11, 25)), _read(new, date(2025, 11, 25)), stale_days=90)

    found = {(e.unit, e.form.sheet, e.change, e.identity) for e in d.entries}
    assert found == {
        ("医学院", "附件1", "removed", "医学院旧专题网站"),
        ("医学院", "附件2", "changed", "微信公众号/gh_abc123"),  # retyped ID: not a new account
        ("医学院", "附件2", "changed", "抖音/dy_med"),
        ("医学院", "附件4", "removed", "微信群/2023级迎新群"),
        ("医学院", "附件5", "changed", "抖音/dy_nurse"),
        ("信息工程学院", "附件1", "changed", "信息工程学院网站"),
        ("信息工程学院", "附件2", "added", "视频号/sph_xxgc"),
        ("信息工程学院", "附件4", "added", F.GROUPS.identity_text(QQ)),
    }
    by_id = {e.identity: e for e in d.entries}
    fields = {k: {(ch.field, ch.old, ch.new) for ch in e.fields} for k, e in by_id.items() if e.change == "changed"}
    assert fields == {
        "微信公众号/gh_abc123": {("粉丝人数", 2300, 3500)},
        "抖音/dy_med": {("账号名称", "医学院抖音", "漯职医学院官方"), ("粉丝人数", 5000, 4800)},
        "抖音/dy_nurse": {("粉丝数量", 5200, 6000), ("联系方式", "13598765432", "13598760000")},
        "信息工程学院网站": {("最后更新日期", date(2024, 10, 1), date(2025, 11, 1))},
    }
    assert _facts(by_id["微信公众号/gh_abc123"]) == {"grown"}
    assert _facts(by_id["抖音/dy_med"]) == {"renamed", "fallen"}
    assert "更名" in by_id["抖音/dy_med"].fact("account_name").text
    assert _facts(by_id["抖音/dy_nurse"]) == {"grown"}
    assert _facts(by_id["微信群/2023级迎新群"]) == {"dissolved"}
    # the unchanged website is no change, but it is still not updated
    assert [(e.unit, e.identity, e.change) for e in d.still_stale] == [("医学院", "医学院网站", "same")]
    assert "2024-03-01" in d.still_stale[0].facts[0].text

    assert (d.total.added, d.total.removed, d.total.changed) == (2, 2, 4)
    tallies = {u: (t.added, t.removed, t.changed) for u, t in ((u, d.tally(u)) for u in d.units)}
    assert tallies == {"医学院": (0, 2, 3), "信息工程学院": (2, 0, 1)}
    assert d.tally("医学院", F.ACCOUNTS).changed == 2


def test_a_folder_of_returned_files_is_compared_like_its_summary(years):
    old, new = years
    by_summary = diff(_read(old, date(2024, 11, 25)), _read(new, date(2025, 11, 25)))
    # last year's folder: the units' returned files, with the summary made from them left beside
    by_folder = diff(_read(old.parent, date(2024, 11, 25)), _read(new, date(2025, 11, 25)))
    assert [(e.unit, e.change, e.identity, e.fields) for e in by_folder.entries] == \
        [(e.unit, e.change, e.identity, e.fields) for e in by_summary.entries]


def _rec(form: F.Form, unit: str, row: int, **values) -> Record:
    return Record(form, unit, f"{unit}.xlsx", form.sheet, row, values, {})


def _report(*records: Record, as_of: date = date(2025, 11, 25)) -> Report:
    return Report(files=(), records=records, issues=(), units=tuple(UNITS), as_of=as_of)


def test_an_id_filled_in_this_year_a_moved_account_and_rows_without_identity():
    acc = dict(platform="微信公众号", followers=100)
    old = _report(_rec(F.ACCOUNTS, "医学院", 5, account_name="医学院团委", account_id=None, **acc),
                  _rec(F.ACCOUNTS, "图书馆", 5, account_name="图书馆", account_id="gh_lib", **acc),
                  _rec(F.GROUPS, "图书馆", 5, group_type="微信群", group_name=None, members=10),
                  as_of=date(2024, 11, 25))
    new = _report(_rec(F.ACCOUNTS, "医学院", 5, account_name="医学院团委", account_id="gh_tw", **acc),
                  _rec(F.ACCOUNTS, "信息工程学院", 5, account_name="图书馆", account_id="GH_LIB", **acc),
                  _rec(F.GROUPS, "图书馆", 5, group_type="微信群", group_name=None, members=10))
    d = diff(old, new)
    got = {(e.unit, e.change, e.identity): {f.text for f in e.facts} for e in d.entries}
    assert got == {
        # the ID typed this year for last year's account named alike: the same account
        ("医学院", "changed", "微信公众号/gh_tw"): set(),
        ("图书馆", "removed", "微信公众号/gh_lib"): {"转至信息工程学院"},
        ("信息工程学院", "added", "微信公众号/gh_lib"): {"由图书馆转入"},
    }  # the group without a name is the same row in both years: no change
    (filled,) = [e for e in d.entries if e.change == "changed"]
    assert [(ch.field, ch.old, ch.new) for ch in filled.fields] == [("账号ID", None, "gh_tw")]


# ---------------------------------------------------------------------------- the command

runner = CliRunner()


def test_cli_text_report_counts_per_unit_and_masks_phones(years):
    old, new = years
    res = runner.invoke(app, ["diff", str(old), str(new)])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "新增 2 条，删除 2 条，变化 4 条" in out
    assert "■ 医学院" in out and "■ 信息工程学院" in out
    assert "粉丝人数 2300 → 3500" in out and "粉丝人数增加 1200" in out
    assert "更名：“医学院抖音”改为“漯职医学院官方”" in out
    assert "群组已解散" in out and "2023级迎新群" in out
    assert "网站仍未更新 医学院网站" in out
    assert "135****5432 → 135****0000" in out and "13598765432" not in out


def test_cli_json_document(years):
    old, new = years
    res = runner.invoke(app, ["diff", str(old), str(new), "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout_bytes.decode("utf-8"))
    assert doc["old"] == str(old) and doc["new"] == str(new)
    assert doc["totals"] == {"added": 2, "removed": 2, "changed": 4}
    units = sorted(doc["units"], key=lambda u: u["unit"])  # in the unit list's order
    assert units == [{"unit": "信息工程学院", "added": 2, "removed": 0, "changed": 1},
                     {"unit": "医学院", "added": 0, "removed": 2, "changed": 3}]
    by_id = {e["identity"]: e for e in doc["entries"]}
    assert by_id["微信公众号/gh_abc123"]["change"] == "changed"
    assert by_id["微信公众号/gh_abc123"]["fields"] == [{"field": "粉丝人数", "old": 2300, "new": 3500}]
    assert by_id["信息工程学院网站"]["fields"] == [{"field": "最后更新日期", "old": "2024-10-01", "new": "2025-11-01"}]
    assert {"field": "联系方式", "old": "13598765432", "new": "13598760000"} in by_id["抖音/dy_nurse"]["fields"]
    assert by_id["视频号/sph_xxgc"]["change"] == "added" and by_id["视频号/sph_xxgc"]["fields"] == []
    assert by_id["视频号/sph_xxgc"]["row"]["账号名称"] == "信工视频号"
    assert by_id["微信群/2023级迎新群"]["facts"][0]["kind"] == "dissolved"
    assert [e["identity"] for e in doc["still_stale"]] == ["医学院网站"]
    # SPEC §9's shape: added/removed with key and row, changed one item per field
    assert sorted(a["key"] for a in doc["added"]) == sorted(e["label"] for e in doc["entries"] if e["change"] == "added")
    # the key keeps the account's own case (this year's ＧＨ_ABC 123, folded as when matching)
    followers = [c for c in doc["changed"] if c["key"] == "微信公众号/GH_ABC123"]
    assert [(c["form"], c["field"], c["old"], c["new"]) for c in followers] == [(2, "粉丝人数", 2300, 3500)]
    added = next(a for a in doc["added"] if a["key"] == "视频号/sph_xxgc")
    assert added["unit"] == "信息工程学院" and added["form"] == 2 and added["row"]["账号名称"] == "信工视频号"
    assert len(doc["removed"]) == 2 and all(r["row"] for r in doc["removed"])


def test_cli_workbook_and_html(years, tmp_path):
    old, new = years
    book, page = tmp_path / "对比.xlsx", tmp_path / "对比.html"
    res = runner.invoke(app, ["diff", str(old), str(new), "-o", str(book), "--html", str(page)])
    assert res.exit_code == 0, res.output
    assert f"已保存：{book}" in res.stdout

    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames[:4] == ["总览", "新增", "删除", "变化"]
    overview = [r for r in wb["总览"].iter_rows(min_row=5, values_only=True) if r[0]]
    totals = {r[0]: r[-3:] for r in overview}
    assert totals["医学院"] == (0, 2, 3) and totals["信息工程学院"] == (2, 0, 1) and totals["合计"] == (2, 2, 4)
    assert wb["总览"].page_setup.orientation == "landscape" and wb["总览"].print_title_rows == "$3:$4"

    added = list(wb["新增"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[2], r[3]) for r in added] == [("信息工程学院", "附件2", "视频号/sph_xxgc"),
                                                   ("信息工程学院", "附件4", f"QQ群/{HOSTILE}")]
    cell = wb["新增"]["D3"]
    assert cell.data_type == "s" and cell.value == f"QQ群/{HOSTILE}"  # text, never a formula
    removed = {(r[1], r[3], r[5]) for r in wb["删除"].iter_rows(min_row=2, values_only=True)}
    assert ("医学院", "微信群/2023级迎新群", "群组已解散：本次未再登记") in removed
    changes = [r[1:7] for r in wb["变化"].iter_rows(min_row=2, values_only=True)]
    assert ("医学院", "附件2", "抖音/dy_med", "账号名称", "医学院抖音", "漯职医学院官方") in changes
    assert ("医学院", "附件5", "抖音/dy_nurse", "联系方式", "13598765432", "13598760000") in changes  # whole
    assert len(changes) == 6

    html = page.read_text(encoding="utf-8")
    assert "视频号/sph_xxgc" in html and "2023级迎新群" in html and "医学院网站" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "http" not in html.split("<body>")[0]  # offline: no external resources


def test_cli_unreadable_input_and_usage_problems(years, tmp_path):
    old, new = years
    junk = tmp_path / "去年汇总.xlsx"
    junk.write_bytes(b"this is not a workbook")
    res = runner.invoke(app, ["diff", str(junk), str(new)])
    assert res.exit_code == 2
    assert "没有可以读取的汇总表或登记表" in res.stderr and "Traceback" not in res.output
    missing = runner.invoke(app, ["diff", str(tmp_path / "没有这个文件.xlsx"), str(new)])
    assert missing.exit_code == 2 and "错误：" in missing.stderr

    assert runner.invoke(app, ["diff", str(old), str(new), "--format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["diff", str(old), str(new), "-o", str(tmp_path / "对比.csv")]).exit_code == 2
    taken = tmp_path / "已有.xlsx"
    taken.write_bytes(b"x")
    res = runner.invoke(app, ["diff", str(old), str(new), "-o", str(taken)])
    assert res.exit_code == 2 and "--force" in res.stderr and taken.read_bytes() == b"x"
    res = runner.invoke(app, ["diff", str(old), str(new), "-o", str(new), "--force"])
    assert res.exit_code == 2 and "输入文件" in res.stderr


def test_two_campaign_folders_are_compared_by_what_counts_in_them(tmp_path):
    from builders import filled_template

    folders = []
    for year, followers, typed in (("2024", 2300, "gh_m"), ("2025", 3500, "GH_M")):
        folder = tmp_path / year
        assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
        account = {"platform": "微信公众号", "account_name": "医学院之声", "account_id": typed, "followers": followers,
                   "opened": "2020-01-01", "purpose": "宣传", "admin": "王强", "phone": "13912345678"}
        filled_template(tmp_path / f"{year}.xlsx", "医学院", {2: [account]})
        assert runner.invoke(app, ["intake", str(tmp_path / f"{year}.xlsx"), "--campaign", str(folder)]).exit_code == 0
        folders.append(folder)
    res = runner.invoke(app, ["diff", str(folders[0]), str(folders[1]), "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout_bytes.decode("utf-8"))
    # matched whatever the case; the key as this year's unit typed it (issue 22: it was lower-cased)
    assert [(c["key"], c["field"], c["old"], c["new"]) for c in doc["changed"]] == [("微信公众号/GH_M", "粉丝人数", 2300, 3500)]
    assert doc["added"] == [] and doc["removed"] == []
