"""The campaign as a coordinator lives it (issue 22, SPEC §8): one delivery is one submission,
逾期 is about the first report and 整改逾期 about a letter's 完成日期, units not on the list are
never counted quietly, aliases are accepted, saved e-mails are read, copy times are named."""

from __future__ import annotations

import json
import os
import sqlite3
import time
import zipfile
from email.message import EmailMessage
from pathlib import Path

from builders import ACCOUNT, SITE, hand_layout, whole
from test_campaign import UNITS_TABLE, campaign, cli  # noqa: F401  (fixture)

from netreg.campaign.ledger import MIGRATIONS, Ledger


def status_of(campaign: Path, as_of: str) -> dict:
    result = cli("status", "--as-of", as_of, "--format", "json", campaign=campaign)
    assert result.exit_code == 0, result.output
    return {u["unit"]: u for u in json.loads(result.stdout)["units"]}


def test_a_zip_of_five_workbooks_is_one_submission(campaign, tmp_path):  # noqa: F811
    """A zip of five workbooks was 第 1 … 第 5 次报送: 次数 5 and four invented rounds."""
    parts = tmp_path / "parts"
    for n, rows in enumerate(({1: [SITE]}, {2: [ACCOUNT]}, {3: []}, {4: []}, {5: []}), 1):
        from builders import filled_template

        filled_template(parts / f"医学院-附件{n}.xlsx", "医学院", rows)
    with zipfile.ZipFile(tmp_path / "医学院报送.zip", "w") as z:
        for p in sorted(parts.iterdir()):
            z.write(p, p.name)
    taken = cli("intake", str(tmp_path / "医学院报送.zip"), "--received", "2025-11-20 09:00", campaign=campaign)
    assert taken.exit_code == 0, taken.output
    assert taken.stdout.count("次报送") == 1 and "[1号] 医学院 第 1 次报送" in taken.stdout
    assert all(f"医学院报送.zip/医学院-附件{n}.xlsx" in taken.stdout for n in range(1, 6))
    units = status_of(campaign, "2025-11-21")
    assert units["医学院"]["submissions"] == 1 and units["医学院"]["fixed"] == 0
    history = json.loads(cli("history", "医学院", "--format", "json", campaign=campaign).stdout)
    [sub] = history["submissions"]
    assert sub["state"] == "counted" and len(sub["files"]) == 5 and history["rounds"] == []
    assert {f["state"] for f in sub["files"]} == {"counted"}


def test_late_is_the_first_report_and_a_correction_is_due_by_the_letters_date(campaign, tmp_path):  # noqa: F811
    r = tmp_path / "r"
    whole("医学院", r / "1" / "医学院.xlsx", f1=[{**SITE, "phone": "12345"}])  # on time, with an error
    whole("团委", r / "2" / "团委.xlsx", f1=[{**SITE, "phone": "12345"}])  # on time, with an error
    whole("图书馆", r / "3" / "图书馆.xlsx")  # late, but complete
    for folder, when in (("1", "2025-11-22 10:00"), ("2", "2025-11-21 10:00"), ("3", "2025-11-26 10:00")):
        assert cli("intake", str(r / folder), "--received", when, campaign=campaign).exit_code == 0
    letters = cli("remind", "-o", str(tmp_path / "催报1"), "--as-of", "2025-11-27", "--by", "2025-12-02",
                  campaign=campaign)
    assert letters.exit_code == 0, letters.output
    assert "医学院：" in letters.stdout and "团委：" in letters.stdout
    # 医学院 corrects in time, 团委 after the 完成日期
    whole("医学院", r / "4" / "医学院（改）.xlsx")
    whole("团委", r / "5" / "团委（改）.xlsx")
    assert cli("intake", str(r / "4"), "--received", "2025-11-28 16:00", campaign=campaign).exit_code == 0
    assert cli("intake", str(r / "5"), "--received", "2025-12-05 09:00", campaign=campaign).exit_code == 0
    assert cli("paper", "医学院", "团委", "图书馆", "--date", "2025-11-30", campaign=campaign).exit_code == 0

    units = status_of(campaign, "2025-12-06")
    assert (units["医学院"]["late"], units["医学院"]["correction_late"], units["医学院"]["status"]) == (False, False, "已报送")
    assert (units["团委"]["late"], units["团委"]["correction_late"]) == (False, True)
    assert (units["图书馆"]["late"], units["图书馆"]["correction_late"]) == (True, False)
    assert units["组织部"]["late"] and units["组织部"]["submissions"] == 0
    shown = cli("status", "--as-of", "2025-12-06", campaign=campaign).stdout
    assert "整改逾期" in shown
    codes = {(i["code"], i["unit"]) for i in json.loads(
        cli("validate", "--as-of", "2025-12-06", "--format", "json", campaign=campaign).stdout)["issues"]}
    assert ("correction-late", "团委") in codes and ("correction-late", "医学院") not in codes
    assert ("submission-late", "图书馆") in codes and ("submission-late", "医学院") not in codes

    again = cli("remind", "-o", str(tmp_path / "催报2"), "--as-of", "2025-12-06", campaign=campaign)
    names = {p.name for p in (tmp_path / "催报2").glob("*.docx")}
    # nothing left to do: no letter for 医学院, 团委 or the late but complete 图书馆
    assert not any(n.startswith(("医学院", "团委", "图书馆")) for n in names), names
    assert any(n.startswith("组织部") for n in names) and "请今后严格" not in again.stdout


def test_a_unit_not_on_the_list_is_never_quietly_counted(campaign, tmp_path):  # noqa: F811
    hand_layout(tmp_path / "in" / "登记表.xlsx", "后勤管理处", {1: [SITE]})
    taken = cli("intake", str(tmp_path / "in"), "--received", "2025-11-20 09:00", campaign=campaign)
    assert "不在单位名单中" in taken.stdout, taken.stdout
    units = status_of(campaign, "2025-11-21")
    assert units["后勤管理处"]["listed"] is False and all(u["listed"] for n, u in units.items() if n != "后勤管理处")
    assert list(units)[-1] == "后勤管理处"  # apart, after the list
    text = cli("status", "--as-of", "2025-11-21", campaign=campaign).stdout
    assert "“后勤管理处”不在单位名单中" in text and "共 5 个单位" in text
    codes = [i["code"] for i in json.loads(cli("validate", "--format", "json", "--as-of", "2025-11-21",
                                                campaign=campaign).stdout)["issues"] if i["unit"] == "后勤管理处"]
    assert "unit-not-listed" in codes


def test_aliases_of_the_unit_table_are_accepted_everywhere(campaign, tmp_path):  # noqa: F811
    (campaign / "单位名单.csv").write_text("单位,别名,联系人,邮箱\n学生工作处,学工处、学生处,周老师,xgc@x.edu.cn\n"
                                       "党委办公室/校长办公室,党办校办,吴老师,db@x.edu.cn\n", encoding="utf-8")
    hand_layout(tmp_path / "in" / "报送.xlsx", "学工处", {1: [SITE]})
    taken = cli("intake", str(tmp_path / "in"), "--received", "2025-11-20 09:00", campaign=campaign)
    assert "学生工作处 第 1 次报送" in taken.stdout, taken.stdout
    assert cli("paper", "学工处", "--date", "2025-11-21", campaign=campaign).stdout.startswith("学生工作处：已登记纸质版")
    history = cli("history", "学工处", "--format", "json", campaign=campaign)
    assert json.loads(history.stdout)["unit"] == "学生工作处"
    assert cli("paper", "党办校办", "--undo", campaign=campaign).exit_code == 2  # nothing recorded: said so
    units = status_of(campaign, "2025-11-22")
    assert units["学生工作处"]["paper"] == "2025-11-21" and "学工处" not in units


def test_saved_emails_are_read_like_fetched_ones(campaign, tmp_path):  # noqa: F811
    msg = EmailMessage()
    msg["From"] = "王老师 <YXY@x.edu.cn>"
    msg["To"], msg["Subject"], msg["Date"] = "office@x.edu.cn", "医学院报送", "Fri, 21 Nov 2025 22:47:00 +0800"
    msg.set_content("请查收")
    book = whole("医学院", tmp_path / "wb" / "登记表.xlsx").read_bytes()
    msg.add_attachment(book, maintype="application", subtype="octet-stream", filename="登记表.xlsx")
    msg.add_attachment(b"readme", maintype="text", subtype="plain", filename="说明.txt")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "医学院的邮件.eml").write_bytes(bytes(msg))
    taken = cli("intake", str(tmp_path / "in"), campaign=campaign)
    assert taken.exit_code == 0, taken.output
    assert "医学院 第 1 次报送" in taken.stdout and "医学院的邮件.eml" in taken.stdout and "登记表.xlsx" in taken.stdout
    [sub] = Ledger.open(campaign).submissions()
    from datetime import datetime, timezone

    assert sub.sender == "yxy@x.edu.cn" and sub.origin == "eml" and len(sub.files) == 2
    assert sub.received == datetime(2025, 11, 21, 14, 47, tzinfo=timezone.utc).astimezone().replace(tzinfo=None)
    assert "复制文件的时间" not in taken.stdout  # an e-mail's Date is the received time


def test_copy_times_are_named_and_a_missing_path_is_an_error(campaign, tmp_path):  # noqa: F811
    for unit in ("图书馆", "团委", "医学院"):
        whole(unit, tmp_path / "回收" / f"{unit}.xlsx")
    now = time.time()
    for p in (tmp_path / "回收").iterdir():
        os.utime(p, (now, now))
    taken = cli("intake", str(tmp_path / "回收"), campaign=campaign)
    assert "很可能是复制文件的时间" in taken.stdout and "--received" in taken.stdout
    missing = cli("intake", str(tmp_path / "没有这个文件夹"), campaign=campaign)
    assert missing.exit_code == 2 and "不存在" in missing.output and "Traceback" not in missing.output
    assert len(Ledger.open(campaign).submissions()) == 3


def test_an_older_ledger_is_regrouped_by_message_and_zip_and_keeps_every_file(tmp_path):
    db = sqlite3.connect(tmp_path / "netreg.db")
    for n in range(4):
        db.executescript(MIGRATIONS[n])
    db.execute("PRAGMA user_version = 4")
    db.execute("INSERT INTO messages (folder, uidvalidity, uid, subject, attachments, fetched, done)"
               " VALUES ('INBOX', 1, 7, '医学院报送', 2, '2025-11-20 09:00:00', 1)")
    rows = [("医学院.xlsx", "医学院", 1), ("补充.xlsx", "医学院", 1), ("包.zip/a.xlsx", "团委", None),
            ("包.zip/b.xlsx", "团委", None), ("图书馆.xlsx", "图书馆", None)]
    for n, (name, unit, message) in enumerate(rows, 1):
        db.execute("INSERT INTO submissions (received, recorded, name, sha256, size, state, unit, message, origin)"
                   " VALUES ('2025-11-20 09:00:00', '2025-11-20 09:00:00', ?, ?, 3, 'new', ?, ?, ?)",
                   (name, f"h{n}", unit, message, "mail" if message else "file"))
    db.execute("INSERT INTO overrides (submission, action, reason, at) VALUES (4, 'exclude', '发错了', '2025-11-21')")
    db.commit()
    db.close()
    ledger = Ledger.open(tmp_path)
    subs = ledger.submissions()
    assert [(s.id, s.unit, [f.name for f in s.files]) for s in subs] == [
        (1, "医学院", ["医学院.xlsx", "补充.xlsx"]), (2, "团委", ["包.zip/a.xlsx", "包.zip/b.xlsx"]),
        (3, "图书馆", ["图书馆.xlsx"])]
    assert subs[1].excluded == "发错了" and subs[1].label == "包.zip" and subs[0].label == "医学院报送"
    assert len(ledger.files()) == 5


def test_validate_and_merge_read_a_units_alias_as_that_unit(tmp_path):
    """A file that says 填报单位：学工处 belonged to a unit 学工处, not on the list (unit-not-listed),
    beside an unreported 学生工作处."""
    from typer.testing import CliRunner

    from netreg.cli import app

    table = tmp_path / "单位名单.csv"
    table.write_text("单位,别名\n学生工作处,学工处、学生处\n团委,\n", encoding="utf-8")
    hand_layout(tmp_path / "回收" / "报送.xlsx", "学工处", {1: [SITE]})
    whole("团委", tmp_path / "回收" / "学生处-团委.xlsx")  # a file name holding an alias says nothing over its content
    out = CliRunner().invoke(app, ["validate", str(tmp_path / "回收"), "--units", str(table), "--format", "json",
                                   "--as-of", "2025-11-20"])
    data = json.loads(out.stdout)
    units = {f["path"].rsplit("/", 1)[-1]: f["unit"] for f in data["files"]}
    assert units == {"报送.xlsx": "学生工作处", "学生处-团委.xlsx": "团委"}
    assert not [i for i in data["issues"] if i["code"] in ("unit-not-listed", "unit-unknown")]
    merged = CliRunner().invoke(app, ["merge", str(tmp_path / "回收"), "--units", str(table), "-o",
                                      str(tmp_path / "汇总.xlsx"), "--as-of", "2025-11-20"])
    assert merged.exit_code in (0, 1), merged.output
    import openpyxl

    overview = [r[1] for r in openpyxl.load_workbook(tmp_path / "汇总.xlsx")["总览"].iter_rows(min_row=4, values_only=True)]
    assert "学生工作处" in overview and "学工处" not in overview


def test_history_reports_every_fix_also_of_rules_across_units(campaign, tmp_path):  # noqa: F811
    """医学院 fixed a bad phone and an account bound to a student's phone (a student of 护理学院's
    附件5): history listed only the first (已改正 1)."""
    from builders import ACCOUNT

    student = {"platform": "抖音", "account_id": "dy123", "account_name": "小明", "followers": 5000, "topic": "生活",
               "person": "李明", "major": "护理2023级", "phone": "13700000001"}
    whole("护理学院", tmp_path / "a" / "护理学院.xlsx", f5=[student])
    whole("医学院", tmp_path / "a" / "医学院.xlsx", f1=[{**SITE, "phone": "12345"}],
          f2=[{**ACCOUNT, "account_id": "gh_yxy", "phone": "13700000001"}])
    whole("医学院", tmp_path / "b" / "医学院（改）.xlsx", f2=[{**ACCOUNT, "account_id": "gh_yxy"}])
    assert cli("intake", str(tmp_path / "a"), "--received", "2025-11-20 10:00", campaign=campaign).exit_code == 0
    before = json.loads(cli("validate", "--format", "json", "--as-of", "2025-11-21", campaign=campaign).stdout)
    assert ("student-phone-binding", "医学院") in {(i["code"], i["unit"]) for i in before["issues"]}
    assert cli("intake", str(tmp_path / "b"), "--received", "2025-11-22 10:00", campaign=campaign).exit_code == 0
    history = json.loads(cli("history", "医学院", "--as-of", "2025-11-23", "--format", "json", campaign=campaign).stdout)
    [round_] = history["rounds"]
    assert sorted(i["code"] for i in round_["fixed"]) == ["phone-invalid", "student-phone-binding"]
    assert round_["new"] == []
    units = status_of(campaign, "2025-11-23")
    assert units["医学院"]["fixed"] == 2


def test_a_letter_for_a_return_that_cannot_be_coloured_does_not_say_it_is(campaign, tmp_path):  # noqa: F811
    """A .csv (or Word, .xls) return gets no annotated copy, so its letter must not say the
    problems are 用颜色标出 in one."""
    import docx

    doc = docx.Document()  # a Word return, laid out by hand as the notice's attachment
    doc.add_paragraph("附件1")
    doc.add_paragraph("网站平台更新登记备案表")
    doc.add_paragraph("填报单位：医学院    填表人：王强    填表人电话：13912345678")
    rows = [["序号", "网站名称", "网站负责人", "网站管理员", "联系电话", "网站栏目", "最后更新日期"],
            ["1", "医学院网站", "办公室", "王强", "12345", "新闻", "2025-11-10"]]
    table = doc.add_table(rows=2, cols=7)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    (tmp_path / "in").mkdir()
    doc.save(tmp_path / "in" / "医学院.docx")
    assert cli("intake", str(tmp_path / "in"), "--received", "2025-11-20 10:00", campaign=campaign).exit_code == 0
    out = tmp_path / "催报"
    made = cli("remind", "-o", str(out), "--as-of", "2025-11-21", campaign=campaign)
    assert made.exit_code == 0, made.output
    eml = (out / "医学院-整改通知.eml").read_bytes()
    from email import message_from_bytes, policy

    msg = message_from_bytes(eml, policy=policy.default)
    body = msg.get_body(("plain",)).get_content()
    assert "联系电话" in body and "用颜色标出" not in body and "逐条列出位置" in body
    import docx as word

    letter = "\n".join(p.text for p in word.Document(out / "医学院-整改通知.docx").paragraphs)
    assert "用颜色标出" not in letter and "逐条列出位置" in letter


def test_an_as_of_before_every_receipt_is_said_as_such(campaign, tmp_path):  # noqa: F811
    empty = cli("validate", campaign=campaign)
    assert empty.exit_code == 2 and "还没有任何报送" in empty.output
    whole("医学院", tmp_path / "in" / "医学院.xlsx")
    assert cli("intake", str(tmp_path / "in"), "--received", "2025-11-20 10:00", campaign=campaign).exit_code == 0
    for command in (["validate"], ["merge", "-o", str(tmp_path / "汇总.xlsx")]):
        early = cli(*command, "--as-of", "2025-11-10", campaign=campaign)
        assert early.exit_code == 2 and "早于台账中最早的报送" in early.output and "没有找到可以读取" not in early.output


def test_letters_keep_their_sign_off_and_the_roster_prints_evenly(campaign, tmp_path):  # noqa: F811
    """Issue 22 item 8: a letter's sign-off never stands alone on a page; 催报名单's rows have
    their heights written (rows without one printed at another height in WPS/LibreOffice)."""
    import docx as word
    import openpyxl

    whole("医学院", tmp_path / "in" / "医学院.xlsx", f1=[{**SITE, "phone": "12345"}])
    assert cli("intake", str(tmp_path / "in"), "--received", "2025-11-20 10:00", campaign=campaign).exit_code == 0
    out = tmp_path / "催报"
    assert cli("remind", "-o", str(out), "--as-of", "2025-11-27", campaign=campaign).exit_code == 0
    paragraphs = word.Document(out / "医学院-整改通知.docx").paragraphs
    end = [n for n, p in enumerate(paragraphs) if p.text == "特此通知。"][-1]
    tail = paragraphs[end:]
    assert tail[-1].text.startswith("2025年") and all(p.paragraph_format.keep_with_next for p in tail[:-1])
    ws = openpyxl.load_workbook(out / "催报名单.xlsx").active
    heights = [ws.row_dimensions[r].height for r in range(3, ws.max_row + 1)]
    assert len(heights) == 5 and all(h for h in heights)  # 医学院 and the four units that sent nothing


def test_annotated_copies_say_the_letters_date_carry_no_ledger_number_and_skip_clean_units(campaign, tmp_path):  # noqa: F811
    """Issue 22 item 8: every 修改意见 sheet said 于11月25日前 while the letter asked for 12月2日;
    a unit with no problem got a copy; copies were named 教务处-#10 教务处-修改意见.xlsx."""
    import openpyxl

    whole("医学院", tmp_path / "in" / "医学院-附件1.xlsx", f1=[{**SITE, "phone": "12345"}])
    whole("医学院", tmp_path / "in" / "医学院-其他.xlsx", f2=[{**ACCOUNT, "phone": "1390000"}])
    whole("图书馆", tmp_path / "in" / "图书馆.xlsx", own_account=True, f1=[{**SITE, "last_update": "2025-11-01"}])
    assert cli("intake", str(tmp_path / "in"), "--received", "2025-11-20 10:00", campaign=campaign).exit_code == 0
    out = tmp_path / "意见"
    made = cli("validate", "--as-of", "2025-11-27", "--annotate", str(out), campaign=campaign)
    names = sorted(p.name for p in out.glob("*.xlsx"))
    assert names and all(n.startswith("医学院") and "#" not in n for n in names), names
    assert "图书馆 1 个单位没有需要修改的问题" in made.stdout
    intro = " ".join(str(c.value) for c in openpyxl.load_workbook(out / names[0])["修改意见"]["A"] if c.value)
    assert "于2025年12月2日前重新报送" in intro  # 3 working days after 11-27: what a letter made that day asks
    letters = tmp_path / "催报"
    assert cli("remind", "-o", str(letters), "--as-of", "2025-11-27", "--by", "2025-12-05",
               campaign=campaign).exit_code == 0
    import email
    from email import policy

    msg = email.message_from_bytes((letters / "医学院-整改通知.eml").read_bytes(), policy=policy.default)
    book = next(p for p in msg.iter_attachments() if p.get_filename().endswith("修改意见.xlsx"))
    (tmp_path / "att.xlsx").write_bytes(book.get_content())
    intro = " ".join(str(c.value) for c in openpyxl.load_workbook(tmp_path / "att.xlsx")["修改意见"]["A"] if c.value)
    assert "于2025年12月5日前重新报送" in intro and "2025年12月5日" in msg.get_body(("plain",)).get_content()


def test_history_keeps_every_exclusion_and_its_reason(campaign, tmp_path):  # noqa: F811
    whole("医学院", tmp_path / "in" / "医学院.xlsx")
    assert cli("intake", str(tmp_path / "in"), "--received", "2025-11-20 10:00", campaign=campaign).exit_code == 0
    assert cli("exclude", "1", "--reason", "发错了版本", campaign=campaign).exit_code == 0
    assert cli("include", "1", "--reason", "核实无误", campaign=campaign).exit_code == 0
    assert cli("exclude", "1", "--reason", "单位要求撤回", campaign=campaign).exit_code == 0
    history = json.loads(cli("history", "医学院", "--format", "json", campaign=campaign).stdout)
    [sub] = history["submissions"]
    assert sub["state"] == "excluded" and sub["excluded"] == "单位要求撤回"
    assert [(o["action"], o["reason"]) for o in sub["overrides"]] == \
        [("exclude", "发错了版本"), ("include", "核实无误"), ("exclude", "单位要求撤回")]
    text = cli("history", "医学院", campaign=campaign).stdout
    assert "发错了版本" in text and "核实无误" in text and "单位要求撤回" in text
    assert cli("include", "1", "--reason", " ", campaign=campaign).exit_code == 2  # a reason is required


def test_a_unit_not_on_the_list_is_resolved_by_adding_its_alias_to_the_table(campaign, tmp_path):  # noqa: F811
    hand_layout(tmp_path / "in" / "登记表.xlsx", "学工处", {1: [SITE]})
    assert "不在单位名单中" in cli("intake", str(tmp_path / "in"), "--received", "2025-11-20 09:00",
                                 campaign=campaign).stdout
    assert status_of(campaign, "2025-11-21")["学工处"]["listed"] is False
    (campaign / "单位名单.csv").write_text(UNITS_TABLE.replace("单位,联系人,电话,邮箱", "单位,联系人,电话,邮箱,别名")
                                       .replace("tw@x.edu.cn", "tw@x.edu.cn,学工处"), encoding="utf-8")
    units = status_of(campaign, "2025-11-21")
    assert "学工处" not in units and units["团委"]["submissions"] == 1 and units["团委"]["status"] != "未报送"
    history = json.loads(cli("history", "学工处", "--format", "json", campaign=campaign).stdout)
    assert history["unit"] == "团委" and len(history["submissions"]) == 1


def test_a_submission_of_five_workbooks_with_one_wrong_gets_one_annotated_copy(campaign, tmp_path):  # noqa: F811
    """--annotate wrote five 修改意见 files for a zip of five workbooks: one copy of the file
    that has something to fix is what goes back."""
    from builders import filled_template

    parts = tmp_path / "parts"
    for n, rows in enumerate(({1: [{**SITE, "phone": "12345"}]}, {2: []}, {3: []}, {4: []}, {5: []}), 1):
        filled_template(parts / f"医学院-附件{n}.xlsx", "医学院", rows)
    with zipfile.ZipFile(tmp_path / "医学院报送.zip", "w") as z:
        for p in sorted(parts.iterdir()):
            z.write(p, p.name)
    assert cli("intake", str(tmp_path / "医学院报送.zip"), "--received", "2025-11-20 09:00", campaign=campaign).exit_code == 0
    cli("validate", "--as-of", "2025-11-21", "--annotate", str(tmp_path / "意见"), campaign=campaign)
    [copy] = (tmp_path / "意见").glob("*.xlsx")
    import openpyxl

    intro = " ".join(str(c.value) for c in openpyxl.load_workbook(copy)["修改意见"]["A"] if c.value)
    assert "“医学院-附件1.xlsx”" in intro


def test_history_says_a_resent_copy_is_the_same_not_unreadable(campaign, tmp_path):  # noqa: F811
    """A unit sends the very same file again: history's 登记表 cell names the submission it
    repeats, never 无法读取 (which sent the coordinator looking for a broken file)."""
    whole("医学院", tmp_path / "医学院.xlsx")
    assert cli("intake", str(tmp_path / "医学院.xlsx"), "--received", "2025-11-20 09:00", campaign=campaign).exit_code == 0
    again = tmp_path / "again"
    again.mkdir()
    (again / "医学院修改版.xlsx").write_bytes((tmp_path / "医学院.xlsx").read_bytes())
    taken = cli("intake", str(again / "医学院修改版.xlsx"), "--received", "2025-11-28 16:30", "--unit", "医学院",
                campaign=campaign)
    assert taken.exit_code == 0 and "重复" in taken.stdout, taken.output
    text = cli("history", "医学院", campaign=campaign).stdout
    assert "与第 1 号相同" in text and "无法读取" not in text, text
