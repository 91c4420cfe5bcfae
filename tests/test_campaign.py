"""The campaign (SPEC §8): a ledger of every submission, which ones count, statuses with late
flags and paper copies, history between rounds, and validate/merge on what counts."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from builders import ACCOUNT, GROUP, SITE, STAR, ZOMBIE, filled_template, whole
from typer.testing import CliRunner

from netreg.campaign.ledger import MIGRATIONS, VERSION, Ledger, LedgerError
from netreg.cli import app

UNITS_TABLE = "单位,联系人,电话,邮箱\n图书馆,李老师,13800000001,tsg@x.edu.cn\n医学院,王老师,13800000002,yxy@x.edu.cn\n" \
              "团委,赵老师,13800000003,tw@x.edu.cn\n组织部,钱老师,13800000004,zzb@x.edu.cn\n护理学院,孙老师,13800000005,hl@x.edu.cn\n"


def cli(*args: str, campaign: Path):
    result = CliRunner().invoke(app, [*args, "--campaign", str(campaign)], terminal_width=200)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def campaign(tmp_path):
    folder = tmp_path / "活动"
    assert CliRunner().invoke(app, ["init", str(folder)]).exit_code == 0
    toml = folder / "netreg.toml"
    text = toml.read_text(encoding="utf-8").replace('deadline = "11月25日"', 'deadline = "2025-11-25"')
    toml.write_text(text.replace("units = [", 'units = "单位名单.csv"\nold_units = [', 1), encoding="utf-8")
    # the generated list of units is replaced by the table beside the toml
    lines = toml.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("old_units = ["))
    end = next(i for i in range(start, len(lines)) if lines[i].rstrip().endswith("]"))
    toml.write_text("\n".join(lines[:start] + lines[end + 1:]) + "\n", encoding="utf-8")
    (folder / "单位名单.csv").write_text(UNITS_TABLE, encoding="utf-8")
    return folder


def two_rounds(campaign: Path, tmp_path: Path) -> None:
    r1 = tmp_path / "第一轮"
    whole("图书馆", r1 / "图书馆.xlsx")
    # 医学院: two errors in round 1 — a group not real-name, a website phone that is not a phone
    whole("医学院", r1 / "医学院.xlsx", f1=[{**SITE, "phone": "12345"}],
          f4=[{**GROUP, "real_name": "否"}, {**GROUP, "group_name": "学生群", "members": 80}])
    filled_template(r1 / "团委-附件1-3.xlsx", "团委", {1: [SITE], 2: [ACCOUNT], 3: [ZOMBIE]})
    filled_template(r1 / "团委-附件4-5.xlsx", "团委", {4: [GROUP], 5: [STAR]})
    whole("护理学院", tmp_path / "护理学院.xlsx")
    with zipfile.ZipFile(r1 / "护理学院报送.zip", "w") as z:
        z.write(tmp_path / "护理学院.xlsx", "护理学院.xlsx")
    (r1 / "坏文件.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    assert cli("intake", str(r1), "--received", "2025-11-20 09:00", campaign=campaign).exit_code == 0
    # the same 图书馆 file again, a day later: a duplicate, not a second submission
    assert cli("intake", str(r1 / "图书馆.xlsx"), "--received", "2025-11-21 10:00", campaign=campaign).exit_code == 0
    # 医学院, late: the real-name group fixed, the phone still wrong, a new problem (a second
    # group not real-name), rows moved (the fixed group is now on another row)
    r2 = tmp_path / "第二轮"
    whole("医学院", r2 / "医学院（修改后）.xlsx", f1=[{**SITE, "phone": "12345"}],
          f4=[{**GROUP, "group_name": "学生群", "members": 80, "real_name": "否"}, GROUP])
    assert cli("intake", str(r2), "--received", "2025-11-27 16:30", campaign=campaign).exit_code == 0


def test_a_two_round_campaign_by_cli_and_json(campaign, tmp_path):
    two_rounds(campaign, tmp_path)
    status = cli("status", "--as-of", "2025-11-28", "--format", "json", campaign=campaign)
    data = json.loads(status.stdout)
    assert data["deadline"] == "2025-11-25" and data["as_of"] == "2025-11-28"
    units = {u["unit"]: u for u in data["units"]}
    assert list(units) == ["图书馆", "医学院", "团委", "组织部", "护理学院"]
    assert units["图书馆"]["status"] == "已报送" and units["图书馆"]["submissions"] == 1 and not units["图书馆"]["late"]
    # 医学院 first reported on time: its correction of 11-27 is not 逾期 (SPEC §8)
    assert units["医学院"]["status"] == "需整改" and not units["医学院"]["late"] and units["医学院"]["submissions"] == 2
    assert units["医学院"]["last_received"] == "2025-11-27 16:30:00"
    assert (units["医学院"]["fixed"], units["医学院"]["open"], units["医学院"]["new"]) == (1, 1, 1)
    # 团委's two files came in one intake run: one delivery, one submission
    assert units["团委"]["status"] == "已报送" and units["团委"]["submissions"] == 1 and not units["团委"]["late"]
    assert units["组织部"]["status"] == "未报送" and units["组织部"]["late"] and units["组织部"]["submissions"] == 0
    assert units["护理学院"]["status"] == "已报送"
    assert all(u["paper"] is None for u in units.values())
    # before the deadline nobody is late, and 医学院's second round has not arrived yet
    early = {u["unit"]: u for u in json.loads(cli("status", "--as-of", "2025-11-24", "--format", "json",
                                                    campaign=campaign).stdout)["units"]}
    assert not any(u["late"] for u in early.values()) and early["医学院"]["submissions"] == 1

    history = json.loads(cli("history", "医学院", "--as-of", "2025-11-28", "--format", "json", campaign=campaign).stdout)
    assert [([f["file"] for f in s["files"]], s["state"]) for s in history["submissions"]] == \
        [(["医学院.xlsx"], "superseded"), (["医学院（修改后）.xlsx"], "counted")]
    [round_] = history["rounds"]
    assert [i["code"] for i in round_["fixed"]] == ["real-name-incomplete"]
    assert round_["fixed"][0]["row"] == 5  # where it was
    assert [i["code"] for i in round_["open"]] == ["phone-invalid"]
    assert [(i["code"], i["row"]) for i in round_["new"]] == [("real-name-incomplete", 5)]  # another group, same row
    text = cli("history", "医学院", "--as-of", "2025-11-28", campaign=campaign).stdout
    assert "已改正 1 个，仍未改正 1 个，新出现 1 个" in text

    library = json.loads(cli("history", "图书馆", "--format", "json", campaign=campaign).stdout)
    assert [s["state"] for s in library["submissions"]] == ["counted", "duplicate"]
    shown = cli("status", "--as-of", "2025-11-28", campaign=campaign).stdout
    assert "逾期" in shown and "已改 1，未改 1，新增 1" in shown


def test_intake_says_what_became_of_each_file_and_keeps_them_read_only(campaign, tmp_path):
    two_rounds(campaign, tmp_path)
    ledger = Ledger.open(campaign)
    subs = ledger.files()
    names = [(s.name, s.state, s.unit) for s in subs]
    assert ("护理学院报送.zip/护理学院.xlsx", "new", "护理学院") in names
    assert ("坏文件.xlsx", "unreadable", None) in names
    assert [s.state for s in subs if s.name == "图书馆.xlsx"] == ["new", "duplicate"]
    assert len({s.id for s in subs}) == len(subs) == 8
    for s in subs:
        stored = ledger.path_of(s)
        assert stored.name.startswith(s.sha256) and not stat.S_IMODE(stored.stat().st_mode) & 0o222
    import hashlib

    assert all(hashlib.sha256(ledger.path_of(s).read_bytes()).hexdigest() == s.sha256 for s in subs)
    again = cli("intake", str(tmp_path / "第二轮"), campaign=campaign)
    assert "重复" in again.stdout and "不重复计入" in again.stdout
    lines = cli("intake", str(tmp_path / "第一轮" / "团委-附件4-5.xlsx"), str(tmp_path / "第一轮" / "坏文件.xlsx"),
                campaign=campaign).stdout
    assert "团委-附件4-5.xlsx" in lines and "坏文件.xlsx" in lines and "重复" in lines


def test_merge_in_the_campaign_holds_only_counted_rows(campaign, tmp_path):
    two_rounds(campaign, tmp_path)
    out = tmp_path / "汇总.xlsx"
    result = cli("merge", "-o", str(out), "--html", str(tmp_path / "报告.html"), "--as-of", "2025-11-28",
                 campaign=campaign)
    assert result.exit_code == 1, result.output  # 医学院 still has errors
    page = (tmp_path / "报告.html").read_text(encoding="utf-8")
    timeline = page[page.index("报送时间线"):page.index("各单位报送情况")]
    assert "2025-11-20" in timeline and "2025-11-27（截止后）" in timeline and "医学院" in timeline
    wb = openpyxl.load_workbook(out)
    groups = [r for r in wb["附件4"].iter_rows(min_row=3, values_only=True) if r[1] == "医学院"]
    assert len(groups) == 2  # round 2's two groups, not round 1's as well
    overview = list(wb["总览"].iter_rows(min_row=3, values_only=True))
    head = overview[0]
    assert head[-4:] == ("逾期", "纸质版", "报送次数", "最后报送时间")
    row = {r[1]: dict(zip(head, r)) for r in overview[1:]}
    assert row["医学院"]["逾期"] in ("", None) and row["医学院"]["报送次数"] == 2  # first reported on time
    assert row["医学院"]["最后报送时间"] == "2025-11-27 16:30"
    assert row["团委"]["附件1行数"] == 1 and row["团委"]["附件4行数"] == 1 and row["团委"]["报送次数"] == 1
    assert row["组织部"]["状态"] == "未报送" and row["组织部"]["逾期"] == "逾期"
    validated = json.loads(cli("validate", "--as-of", "2025-11-28", "--format", "json", campaign=campaign).stdout)
    codes = [(i["code"], i["unit"]) for i in validated["issues"]]
    assert ("submission-late", "医学院") not in codes and ("file-superseded", "医学院") in codes
    assert ("submission-late", "组织部") not in codes  # nothing sent: 未报送 and 逾期 in status, no file to hang it on
    assert ("paper-missing", "图书馆") in codes


def test_exclude_include_and_paper_are_recorded_with_their_reasons(campaign, tmp_path):
    two_rounds(campaign, tmp_path)
    ledger = Ledger.open(campaign)
    late = next(s.id for s in ledger.submissions() if s.name == "医学院（修改后）.xlsx")
    assert cli("exclude", str(late), "--reason", "发错了版本", campaign=campaign).exit_code == 0
    units = {u["unit"]: u for u in json.loads(cli("status", "--as-of", "2025-11-28", "--format", "json",
                                                    campaign=campaign).stdout)["units"]}
    assert not units["医学院"]["late"] and units["医学院"]["last_received"] == "2025-11-20 09:00:00"
    history = json.loads(cli("history", "医学院", "--format", "json", campaign=campaign).stdout)
    assert [s["state"] for s in history["submissions"]] == ["counted", "excluded"]
    assert "发错了版本" in cli("history", "医学院", campaign=campaign).stdout
    assert cli("include", str(late), "--reason", "核实后确认是新版", campaign=campaign).exit_code == 0
    assert Ledger.open(campaign).get(late).excluded is None
    assert cli("exclude", "999", "--reason", "x", campaign=campaign).exit_code == 2

    assert cli("paper", "医学院", "团委", "--date", "2025-11-24", campaign=campaign).exit_code == 0
    assert cli("paper", "团委", "--undo", campaign=campaign).exit_code == 0
    units = {u["unit"]: u for u in json.loads(cli("status", "--as-of", "2025-11-28", "--format", "json",
                                                    campaign=campaign).stdout)["units"]}
    assert units["医学院"]["paper"] == "2025-11-24" and units["团委"]["paper"] is None
    assert "不在单位名单中" in cli("paper", "外星学院", campaign=campaign).output


def test_a_file_whose_unit_cannot_be_told_is_given_one_with_unit(campaign, tmp_path):
    filled_template(tmp_path / "登记表.xlsx", "图书馆", {1: [SITE]}, meta={"unit": ""})
    wb = openpyxl.load_workbook(tmp_path / "登记表.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and "图书馆" in c.value:
                    c.value = c.value.replace("图书馆", "")
    wb.save(tmp_path / "登记表.xlsx")
    first = cli("intake", str(tmp_path / "登记表.xlsx"), campaign=campaign)
    assert "无法确定单位" in first.stdout
    second = cli("intake", str(tmp_path / "登记表.xlsx"), "--unit", "图书馆", campaign=campaign)
    assert "图书馆" in second.stdout and "新增" in second.stdout
    units = {u["unit"]: u for u in json.loads(cli("status", "--format", "json", campaign=campaign).stdout)["units"]}
    assert units["图书馆"]["submissions"] == 1


def test_a_ledger_of_the_previous_version_is_migrated_and_kept(tmp_path):
    db = sqlite3.connect(tmp_path / "netreg.db")
    for n in range(VERSION - 1):
        if MIGRATIONS[n] != "regroup":  # a step in Python (ledger._regroup): nothing to regroup here
            db.executescript(MIGRATIONS[n])
    db.execute(f"PRAGMA user_version = {VERSION - 1}")
    db.execute("INSERT INTO deliveries (received, recorded) VALUES ('2025-11-20 09:00:00', '2025-11-20 09:00:00')")
    db.execute("INSERT INTO submissions (received, recorded, name, sha256, size, state, delivery) "
               "VALUES ('2025-11-20 09:00:00', '2025-11-20 09:00:00', '旧.xlsx', 'ab', 3, 'new', 1)")
    for error in (None, "登录失败"):  # a letter sent and one that failed, before letters had a state (v7)
        db.execute("INSERT INTO letters (unit, kind, status_key, recipients, subject, sent_at, error) "
                   "VALUES ('医学院', '整改', 'k', 'a@b.cn', '通知', '2025-11-28 10:00:00', ?)", (error,))
    db.commit()
    db.close()
    ledger = Ledger.open(tmp_path)
    assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert [s.name for s in ledger.submissions()] == ["旧.xlsx"]
    assert ledger.db.execute("SELECT state FROM letters ORDER BY id").fetchall() == [("sent",), ("failed",)]
    assert not ledger.message_seen("INBOX", 1, 1)
    ledger.close()
    db = sqlite3.connect(tmp_path / "netreg.db")
    db.execute(f"PRAGMA user_version = {VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(LedgerError, match="更新版本的 netreg"):
        Ledger.open(tmp_path)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "netreg.db").write_bytes(b"not a database at all, just text" * 100)
    with pytest.raises(LedgerError, match="已损坏"):
        Ledger.open(tmp_path / "b")
    result = CliRunner().invoke(app, ["status", "--campaign", str(tmp_path / "没有")])
    assert result.exit_code == 2 and "netreg init" in result.output


def test_two_intakes_at_once_lose_nothing_and_number_every_submission_once(campaign, tmp_path):
    for part in ("a", "b"):
        for n in range(6):
            whole("图书馆", tmp_path / part / f"图书馆-{part}{n}.xlsx", f1=[{**SITE, "site_name": f"网站{part}{n}"}])
    env = {**os.environ, "COLUMNS": "200"}
    procs = [subprocess.Popen([sys.executable, "-m", "netreg", "intake", str(tmp_path / part), "--campaign", str(campaign)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for part in ("a", "b")]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e.decode() for _, e in outs]
    ledger = Ledger.open(campaign)
    files = ledger.files()
    assert sorted(s.id for s in files) == list(range(1, 13))
    assert sorted(s.name for s in files) == sorted(f"图书馆-{p}{n}.xlsx" for p in "ab" for n in range(6))
    # each run handed over one unit's six files: one submission each, numbered once
    assert sorted((s.id, len(s.files)) for s in ledger.submissions()) == [(1, 6), (2, 6)]
    rounds = sorted(int(line.split("第 ")[1].split(" 次")[0]) for out, _ in outs for line in out.decode().splitlines()
                    if "次报送" in line)
    assert rounds == [1, 2]  # 第 1 次 and 第 2 次, each once


def test_a_unit_named_by_an_alias_of_the_unit_table_is_that_unit(campaign, tmp_path):
    (campaign / "单位名单.csv").write_text(UNITS_TABLE.replace("护理学院,孙老师", "护理学院,孙老师")
                                       .replace("单位,联系人,电话,邮箱", "单位,联系人,电话,邮箱,别名")
                                       .replace("hl@x.edu.cn", "hl@x.edu.cn,护理系、护院"), encoding="utf-8")
    whole("护理系", tmp_path / "报送.xlsx")
    taken = cli("intake", str(tmp_path / "报送.xlsx"), campaign=campaign)
    assert "护理学院 第 1 次报送" in taken.stdout, taken.stdout
    assert [s.unit for s in Ledger.open(campaign).submissions()] == ["护理学院"]
