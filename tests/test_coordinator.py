"""What the coordinator sees and trusts (issue: defects a newcomer met, Windows): totals, the
roster, English that reached the user, exit codes, masked phones, the chart, odd characters
and file names, JSON on a GBK console."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from builders import FILLER, filled_template
from typer.testing import CliRunner

from netreg.cli import app
from netreg.config import Campaign
from netreg.pipeline import validate_paths

AS_OF = date(2025, 11, 25)
GROUP = {"group_type": "微信群", "group_name": "医学院教职工群", "members": 120, "purpose": "工作通知",
         "real_name": "是", "admin": "王强", "phone": "13912345678"}
STAR = {"platform": "抖音", "account_id": "dy001", "account_name": "小王说", "followers": 5000, "topic": "校园",
        "person": "王一", "title": "讲师", "phone": "13812340001"}


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netreg", *args], capture_output=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_a_roster_without_recognisable_columns_fails_clearly(tmp_path):
    filled_template(tmp_path / "in" / "医学院.xlsx", "医学院", {4: [GROUP]})
    roster = tmp_path / "花名册.csv"
    roster.write_text("学号,学生,班级\n2023001,赵六,护理1班\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "in"), "--roster", str(roster)])
    assert result.exit_code == 2
    assert "找不到“姓名”列和“手机号”列" in result.output and "学号 | 学生 | 班级" in result.output
    named = tmp_path / "学生花名册.csv"
    named.write_text("学号,学生姓名,联系电话\n2023001,赵六,13612349999\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "in"), "--roster", str(named)])
    assert "学生花名册：读入 1 个学生手机号" in result.output


def test_no_english_in_usage_config_and_file_errors(tmp_path):
    usage = run("--help").stdout.decode()
    assert "[选项] 命令 [参数]..." in usage.splitlines()[0] and "OPTIONS" not in usage
    for command in ("validate", "merge", "init", "intake", "history", "paper", "exclude"):
        page = run(command, "--help").stdout.decode()
        assert "用法：" in page and not re.search(r"<[A-Za-z\[\]]+>|Path|list\[", page), page
    bad = tmp_path / "netreg.toml"
    bad.write_text("school = 某学院\n", encoding="utf-8")
    err = run("validate", str(tmp_path), "-c", str(bad)).stderr.decode()
    assert "第 1 行第 10 列附近" in err and "Invalid" not in err
    bad.write_bytes('school = "漯河某学院"\n'.encode("gbk"))  # saved as ANSI by Notepad
    from netreg.config import load_config

    assert load_config(bad).school == "漯河某学院"
    err = run("validate", str(tmp_path), "--units", str(tmp_path / "没有这个名单.txt")).stderr.decode()
    assert "文件或文件夹不存在" in err and "No such file" not in err
    filled_template(tmp_path / "in" / "医学院.xlsx", "医学院", {4: [GROUP]})
    (tmp_path / "是文件夹.xlsx").mkdir()
    done = run("merge", str(tmp_path / "in"), "-o", str(tmp_path / "是文件夹.xlsx"), "--force")
    said = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 2 and "是文件夹.xlsx" in said and "这是一个文件夹" in said
    assert "Is a directory" not in said and "Traceback" not in said


def test_a_blank_template_sent_back_as_it_was_exits_1(tmp_path):
    filled_template(tmp_path / "医学院.xlsx", "医学院", {}, filler=None)
    result = CliRunner().invoke(app, ["validate", str(tmp_path), "--as-of", "2025-11-25"])
    assert result.exit_code == 1
    report = validate_paths([tmp_path], Campaign(), as_of=AS_OF)
    assert report.errors == 0 and report.exit_code() == 1


def test_a_masked_invalid_phone_still_shows_how_many_digits_it_has(tmp_path):
    filled_template(tmp_path / "医学院.xlsx", "医学院", {4: [{**GROUP, "phone": "1391234567"}]})
    result = CliRunner().invoke(app, ["validate", str(tmp_path), "--as-of", "2025-11-25"])
    assert "139***4567（10 位）" in result.output and "1391234567" not in result.output


def test_the_influencer_chart_leaves_out_accounts_under_the_threshold(tmp_path):
    from netreg.model.report import figures

    rows = [STAR, {**STAR, "account_id": "dy002", "followers": 1500, "person": "李二"}]
    report = validate_paths([filled_template(tmp_path / "医学院.xlsx", "医学院", {5: rows})], Campaign(), as_of=AS_OF)
    assert [i.code for i in report.issues if i.code == "below-threshold"] == ["below-threshold"]
    assert figures(report.records).teachers == 1


def test_characters_xml_forbids_never_reach_the_summary(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "医学院-附件4.csv").write_text(
        "填报单位：医学院,,,,,填表人：王丽,填表人电话：13912345678\n"
        "序号,群组类型,群名称,群人数,主要用途,是否全部实名,群管理员姓名,联系电话,备注\n"
        "1,微信群,教职工\uffff群,120,工作通知,是,王强,13912345678,\ufffe备注\n", encoding="utf-8")
    out = tmp_path / "汇总.xlsx"
    proc = run("merge", str(folder), "-o", str(out), "--as-of", "2025-11-25")
    assert proc.returncode in (0, 1), proc.stderr.decode()
    ws = openpyxl.load_workbook(out)["附件4"]  # parses: the sheet XML is valid
    assert [c.value for c in ws[3]][3:4] == ["教职工群"]


def test_a_file_name_that_is_not_utf8_is_shown_decoded_and_read(tmp_path):
    if sys.platform == "win32":
        pytest.skip("file names are always Unicode on Windows")
    folder = tmp_path / "in"
    source = filled_template(tmp_path / "src.xlsx", "医学院", {4: [GROUP]}, FILLER)
    raw = os.path.join(os.fsencode(str(folder)), "医学院报送.xlsx".encode("gbk"))
    folder.mkdir()
    with open(raw, "wb") as fh:
        fh.write(source.read_bytes())
    report = validate_paths([folder], Campaign(), as_of=AS_OF)
    assert [Path(f.path).name for f in report.files] == ["医学院报送.xlsx"]
    proc = run("merge", str(folder), "-o", str(tmp_path / "汇总.xlsx"), "--as-of", "2025-11-25")
    assert proc.returncode in (0, 1), proc.stderr.decode()
    assert "医学院报送.xlsx" in proc.stdout.decode() or (tmp_path / "汇总.xlsx").is_file()


def test_json_is_utf8_whatever_the_console_and_an_emoji_never_ends_the_run(tmp_path):
    filled_template(tmp_path / "医学院.xlsx", "医学院", {4: [{**GROUP, "group_name": "教职工群😀"}]})
    proc = run("validate", str(tmp_path), "--format", "json", "--as-of", "2025-11-25",
               env={"PYTHONIOENCODING": "gbk"})
    assert proc.returncode in (0, 1), proc.stderr.decode("utf-8", "replace")
    doc = json.loads(proc.stdout.decode("utf-8"))
    assert doc["summary"]["rows"] == 1


def test_a_video_account_marked_blue_v_is_certified(tmp_path):
    account = {"platform": "视频号", "account_name": "漯职医学院", "account_id": "sph1234", "followers": 800,
               "opened": date(2022, 3, 15), "purpose": "招生宣传", "admin": "李娜", "phone": "13812345678"}
    for note, flagged in (("蓝V", False), ("企业认证", False), ("已认证", False), ("尚未认证", True), ("", True)):
        path = filled_template(tmp_path / note / "医学院.xlsx", "医学院", {2: [{**account, "note": note or None}]})
        report = validate_paths([path], Campaign(), as_of=AS_OF)
        assert any(i.code == "video-account-uncertified" for i in report.issues) is flagged, note


@pytest.mark.parametrize("typed, value", [("14912345678", "14912345678"), ("+86 174 9123 4567", "17491234567"),
                                          ("17400012345", "17400012345"), ("0395-3136789转801", "0395-3136789-801"),
                                          ("0395-3136789-801", "0395-3136789-801")])
def test_numbers_people_really_use_are_phones(typed, value):
    from netreg.check.normalize import parse_phone

    assert parse_phone(typed).value == value and parse_phone(typed).code is None


def test_a_13_digit_iot_number_gets_its_own_message(tmp_path):
    filled_template(tmp_path / "医学院.xlsx", "医学院", {4: [{**GROUP, "phone": "1441234567890"}]})
    report = validate_paths([tmp_path], Campaign(), as_of=AS_OF)
    [issue] = [i for i in report.issues if i.code == "phone-invalid"]
    assert "物联网卡号" in issue.message and "11 位" not in issue.message


def test_at_80_columns_no_number_is_split_from_its_unit():
    import tempfile

    from rich.console import Console

    from netreg.config import read_units_file
    from netreg.app.merge import merge
    from netreg.render.terminal import render_merge_overview

    root = Path(__file__).resolve().parents[1]
    report = validate_paths([root / "samples" / "returned"], Campaign(), as_of=AS_OF,
                            units=read_units_file(root / "samples" / "units.txt"))
    with tempfile.TemporaryDirectory() as tmp:
        result = merge(report, Path(tmp) / "汇总.xlsx", school="漯河职业技术学院")
        console = Console(record=True, width=80)
        render_merge_overview(result, console)
    lines = console.export_text().splitlines()
    assert not [line for line in lines if line.lstrip().startswith(("处", "行", "个"))], lines


def test_the_html_charts_shrink_with_a_narrow_window(tmp_path):
    from netreg.app.merge import merge

    filled_template(tmp_path / "in" / "医学院.xlsx", "医学院", {4: [GROUP]})
    report = validate_paths([tmp_path / "in"], Campaign(), as_of=AS_OF)
    merge(report, tmp_path / "汇总.xlsx", school="漯河职业技术学院", html=tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    svgs = re.findall(r"<svg[^>]*>", html)
    assert svgs and all("viewBox" in s and "width: 100%" in s and 'width="' not in s for s in svgs)


def test_a_rules_table_sets_each_codes_level_or_turns_it_off(tmp_path):
    from netreg.config import ConfigError, load_config, render_default_config

    assert "[rules]" in render_default_config()
    toml = tmp_path / "netreg.toml"
    toml.write_text(render_default_config() + '"website-stale" = "error"\n"video-account-uncertified" = "off"\n',
                    encoding="utf-8")
    config = load_config(toml)
    site = {"site_name": "医学院官网", "owner": "张伟", "admin": "李娜", "phone": "13812345678",
            "sections": "学院概况", "last_update": date(2025, 6, 1)}
    video = {"platform": "视频号", "account_name": "漯职医学院", "account_id": "sph1234", "followers": 800,
             "opened": date(2022, 3, 15), "purpose": "招生宣传", "admin": "李娜", "phone": "13812345678"}
    path = filled_template(tmp_path / "医学院.xlsx", "医学院", {1: [site], 2: [video]})
    default = validate_paths([path], Campaign(), as_of=AS_OF)
    assert {(i.code, i.severity) for i in default.issues} >= {("website-stale", "warning"),
                                                               ("video-account-uncertified", "info")}
    mine = validate_paths([path], config, as_of=AS_OF)
    assert ("website-stale", "error") in {(i.code, i.severity) for i in mine.issues}
    assert "video-account-uncertified" not in {i.code for i in mine.issues}
    assert mine.exit_code() == 1 and default.exit_code() == 0
    for bad, words in (('"no-such-code" = "error"', "没有这个问题代码"), ('"website-stale" = "严重"', "应为")):
        toml.write_text(f"[rules]\n{bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=words):
            load_config(toml)


def _pid(_item) -> int:  # module level: a spawned worker unpickles it by name
    return os.getpid()


def test_workers_are_forked_on_linux_and_spawned_elsewhere(monkeypatch):
    from netreg.util import parallel

    monkeypatch.delenv("NETREG_START_METHOD", raising=False)
    monkeypatch.setattr(parallel.sys, "platform", "win32")
    assert parallel.start_method() == "spawn"
    monkeypatch.setattr(parallel.sys, "platform", "darwin")
    assert parallel.start_method() == "spawn"
    # a spawned pool costs a fresh Python per worker: below SPAWN_FACTOR × the minimum, no pool
    assert set(parallel.forked_map(_pid, list(range(7)), 2)) == {os.getpid()}
    monkeypatch.setattr(parallel.sys, "platform", "linux")
    assert parallel.start_method() == "fork"
    if (os.cpu_count() or 1) >= 2:
        assert set(parallel.forked_map(lambda _i: os.getpid(), list(range(40)), 2)) - {os.getpid()}
        monkeypatch.setenv("NETREG_START_METHOD", "spawn")
        pids = list(parallel.forked_map(_pid, list(range(40)), 2))
        assert len(pids) == 40 and set(pids) - {os.getpid()}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no workers")
def test_validation_and_copies_with_spawned_workers_equal_the_serial_ones(tmp_path, monkeypatch):
    """Windows has no fork: what workers get must survive pickling (a campaign, a whole report)
    and the results must be those of one process."""
    from netreg import pipeline
    from netreg.excel import annotate

    units = ["医学院", "图书馆", "教务处", "团委", "护理学院", "信息工程学院", "经济管理学院", "药学院"]
    for u in units:
        filled_template(tmp_path / "in" / f"{u}.xlsx", u, {4: [{**GROUP, "real_name": "否", "group_name": f"{u}群"}]})
    config = Campaign(rules={"website-stale": "off"})
    serial = validate_paths([tmp_path / "in"], config, as_of=AS_OF)
    monkeypatch.setenv("NETREG_START_METHOD", "spawn")
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_FILES", 2)  # × SPAWN_FACTOR = 8 files
    spawned = validate_paths([tmp_path / "in"], config, as_of=AS_OF)
    assert [(i.file, i.code, i.cell, i.message) for i in spawned.issues] == \
        [(i.file, i.code, i.cell, i.message) for i in serial.issues]
    assert [r.values for r in spawned.records] == [r.values for r in serial.records]
    monkeypatch.setattr(annotate, "PARALLEL_MIN_JOBS", 2)
    copies = annotate.write_annotated(spawned, tmp_path / "修改意见", config=config)
    assert len(copies.written) == len(units) and not copies.failed
    assert all(openpyxl.load_workbook(p)["修改意见"].max_row > 1 for p in copies.written)


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no workers")
def test_the_netreg_command_with_spawned_workers_gives_what_forked_ones_give(tmp_path):
    """The installed ``netreg`` command, as Windows runs it: a spawned worker starts from the
    command's own script, so only the parent may run the command."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench

    rows = bench.generate(tmp_path / "in", 100, seed=3)
    command = Path(sys.executable).with_name("netreg")
    assert command.exists()

    def validate(method: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(command), "validate", str(tmp_path / "in"), "--format", "json"], capture_output=True,
                              env={**os.environ, "NETREG_START_METHOD": method}, timeout=300)

    spawned, forked = validate("spawn"), validate("fork")
    assert spawned.returncode == forked.returncode and spawned.stderr == forked.stderr == b""
    one, two = json.loads(spawned.stdout), json.loads(forked.stdout)
    assert one["summary"] == two["summary"] and one["summary"]["rows"] == rows and one["summary"]["files"] == 100


def test_the_forms_data_rows_grow_with_what_is_typed(tmp_path):
    """The copy that gets signed and stamped: a fixed row height clipped a long 网站栏目. Rows
    without a fixed height are fitted by Excel, WPS and LibreOffice as the unit types. (LibreOffice
    does not refit rows of a file written by another program when it only converts it, so the
    printed effect of text typed by openpyxl cannot be shown here.)"""
    from netreg.excel.template import build_workbook
    from netreg.model.forms import FORMS

    wb = build_workbook(Campaign(), "医学院")
    for form in FORMS:
        ws = wb[form.sheet]
        first = 4 + form.header_rows  # the first data row (tests/builders.first_data_row)
        heights = {ws.row_dimensions[r].height for r in range(first, first + 15)}
        assert heights == {None}, (form.sheet, heights)
        assert not ws.sheet_format.customHeight


@pytest.mark.slow
def test_ctrl_c_during_annotate_stops_at_once_and_leaves_no_partial_file(tmp_path):
    import signal
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench

    bench.generate(tmp_path / "in", 150, seed=5)
    out = tmp_path / "修改意见"
    proc = subprocess.Popen([sys.executable, "-m", "netreg", "validate", str(tmp_path / "in"), "--annotate", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.is_dir() and len(list(out.glob("*.xlsx"))) >= 3):
        time.sleep(0.05)
    assert proc.poll() is None, "finished before it could be interrupted"
    # Ctrl-C in a terminal reaches the whole process group; a stop button or kill -INT reaches
    # netreg alone, and its workers must then be stopped by it
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 5
    assert proc.returncode == 130 and "已中断" in err.decode() and "Traceback" not in err.decode()
    time.sleep(2)  # no worker left behind, writing on
    assert list(out.glob(".netreg-*")) == []
    count = len(list(out.iterdir()))
    time.sleep(1)
    assert len(list(out.iterdir())) == count < 150


def test_merge_says_what_it_is_doing_in_every_phase(tmp_path):
    from rich.console import Console

    from netreg.app.merge import merge

    filled_template(tmp_path / "in" / "医学院.xlsx", "医学院", {4: [GROUP]})
    report = validate_paths([tmp_path / "in"], Campaign(), as_of=AS_OF)
    phases = []
    merge(report, tmp_path / "汇总.xlsx", school="漯河职业技术学院", html=tmp_path / "r.html", on_phase=phases.append)
    assert [p.split(" ")[0] for p in phases] == ["正在整理", "正在写入汇总表", "正在生成网页报告"]
    # and the command shows them (a live status line on a terminal): its status line, recorded
    seen = []
    real = Console.status

    def recording(self, text, **kw):
        status = real(self, text, **kw)
        update = status.update
        status.update = lambda t=None, **k: (seen.append(t), update(t, **k))
        seen.append(text)
        return status

    import unittest.mock

    with unittest.mock.patch.object(Console, "status", recording):
        result = CliRunner().invoke(app, ["merge", str(tmp_path / "in"), "-o", str(tmp_path / "b.xlsx"),
                                          "--as-of", "2025-11-25"])
    assert result.exit_code in (0, 1)
    assert any("已读取 1 个文件" in str(t) for t in seen) and any("正在写入汇总表" in str(t) for t in seen)


def test_annotate_says_when_it_replaces_last_rounds_copies(tmp_path):
    filled_template(tmp_path / "in" / "医学院.xlsx", "医学院", {4: [{**GROUP, "real_name": "否"}]})
    args = ["validate", str(tmp_path / "in"), "--annotate", str(tmp_path / "out"), "--as-of", "2025-11-25"]
    first = CliRunner().invoke(app, args)
    assert "已生成 1 份修改意见表" in first.output and "替换" not in first.output
    second = CliRunner().invoke(app, args)
    assert "已生成 1 份修改意见表" in second.output and "其中 1 份替换了上一轮的同名文件" in second.output


def test_summary_sheets_print_whole_cells(tmp_path):
    """附件N and 问题清单: text wraps at the top of its cell and a row is as tall as its longest
    cell needs; 总览's charts sit below its table, so the printed table fills the page width."""
    from netreg.app.merge import merge

    long_purpose = "工作通知、" * 20
    filled_template(tmp_path / "in" / "医学院.xlsx", "医学院",
                    {4: [{**GROUP, "purpose": long_purpose}, {**GROUP, "group_name": "短群", "purpose": "通知"}]})
    report = validate_paths([tmp_path / "in"], Campaign(), as_of=AS_OF)
    merge(report, tmp_path / "汇总.xlsx", school="漯河职业技术学院")
    wb = openpyxl.load_workbook(tmp_path / "汇总.xlsx")
    ws = wb["附件4"]
    purpose = next(c.column for c in ws[2] if c.value == "主要用途")
    tall = ws.cell(3, purpose)
    assert tall.value == long_purpose.rstrip("、") or tall.value.startswith("工作通知")
    assert tall.alignment.wrap_text and tall.alignment.vertical == "top"
    lines = (len(long_purpose) * 2) / (ws.column_dimensions[tall.column_letter].width - 1.5)
    assert ws.row_dimensions[3].height >= 15 * lines > (ws.row_dimensions[4].height or 15)
    anchors = [c.anchor._from.col for c in wb["总览"]._charts]
    assert anchors and max(anchors) < wb["总览"].max_column  # beside the data blocks, not beyond the table


def test_no_chart_of_the_overview_is_cut_by_a_printed_page_break(tmp_path):
    """Printed, 总览's charts start on a page of their own and none straddles two pages (the
    网络大V pie once printed its title on page 1 and itself on page 2), also when the
    platform list is long."""
    from netreg.app.merge import merge
    from netreg.excel.summary import CHART_ROWS, PAGE_ROWS

    platforms = ["微信公众号", "微博", "抖音", "视频号", "B站", "今日头条", "快手", "小红书", "知乎", "QQ空间", "网易号", "百家号"]
    account = {"followers": 5230, "opened": date(2019, 9, 1), "purpose": "信息发布", "admin": "李娜", "phone": "13812345678"}
    accounts = [{**account, "platform": p, "account_id": f"id{n}", "account_name": f"账号{n}"}
                for n, p in enumerate(platforms)]
    filled_template(tmp_path / "in" / "医学院.xlsx", "医学院", {2: accounts, 4: [GROUP]})
    report = validate_paths([tmp_path / "in"], Campaign(), as_of=AS_OF)
    merge(report, tmp_path / "汇总.xlsx", school="漯河职业技术学院")
    ws = openpyxl.load_workbook(tmp_path / "汇总.xlsx")["总览"]
    totals = next(c.row for c in ws["B"] if c.value == "合计")
    breaks = sorted(b.id for b in ws.row_breaks.brk)  # a break after each of these rows
    assert breaks[0] == totals
    charts = sorted(c.anchor._from.row + 1 for c in ws._charts)  # Excel row of each chart's top
    assert len(charts) == 3
    pages = list(zip(breaks, breaks[1:] + [ws.max_row + CHART_ROWS]))
    for top in charts:
        page = next((start, end) for start, end in pages if start < top <= end)
        assert top + CHART_ROWS - 1 <= page[1] and top + CHART_ROWS - 1 - page[0] <= PAGE_ROWS, (top, pages)
    assert len(breaks) >= 2  # the long platform list leaves no room for the pie beside it


@pytest.fixture
def locked(monkeypatch):
    """Make a file impossible to replace, as Windows does with a workbook open in Excel or WPS.
    The real refusal where the file system has it (chattr +i: EPERM even for root), else the
    same PermissionError raised where Windows raises it, on the rename."""
    import errno
    import shutil

    frozen = []

    def lock(path: Path) -> None:
        path = Path(path)
        if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0:
            frozen.append(path)
            return
        real = os.replace

        def refuse(src, dst, *a, **k):
            if Path(dst).resolve() == path.resolve():
                raise PermissionError(errno.EACCES, "Access is denied", str(src), None, str(dst))
            return real(src, dst, *a, **k)

        monkeypatch.setattr(os, "replace", refuse)

    yield lock
    for path in frozen:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


def test_a_summary_open_in_excel_is_named_and_the_html_is_still_written(tmp_path, locked):
    filled_template(tmp_path / "in" / "医学院.xlsx", "医学院", {4: [GROUP]})
    out = tmp_path / "汇总.xlsx"
    out.write_bytes(b"last round's summary")
    locked(out)
    result = CliRunner().invoke(app, ["merge", str(tmp_path / "in"), "-o", str(out), "--html", str(tmp_path / "报告.html"),
                                      "--force", "--as-of", "2025-11-25"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "未能保存" in text and "汇总.xlsx" in text and "请先在 Excel/WPS 中关闭此文件" in text
    assert "汇总表已保存" not in text and "网页报告已保存" in text
    assert "医学院" in (tmp_path / "报告.html").read_text(encoding="utf-8")
    assert out.read_bytes() == b"last round's summary"
    assert not list(tmp_path.glob(".netreg-*"))


def test_template_force_names_each_file_it_could_not_replace_and_writes_the_rest(tmp_path, locked):
    out = tmp_path / "登记表"
    assert CliRunner().invoke(app, ["template", "-o", str(out), "--unit", "医学院", "--unit", "护理学院"]).exit_code == 0
    before = (out / "医学院.xlsx").read_bytes()
    locked(out / "医学院.xlsx")
    result = CliRunner().invoke(app, ["template", "-o", str(out), "--unit", "医学院", "--unit", "护理学院", "--force"],
                                terminal_width=200)
    assert result.exit_code == 2
    line = next(line for line in result.output.splitlines() if "医学院" in line and "护理" not in line)
    assert "未能保存" in line and "请先在 Excel/WPS" in result.output
    assert "生成 1 份登记表" in result.output and "1 份未能保存" in result.output
    assert (out / "医学院.xlsx").read_bytes() == before


def test_annotate_counts_a_locked_copy_as_not_written_and_names_stale_ones(tmp_path, locked):
    filled_template(tmp_path / "in" / "医学院.xlsx", "医学院", {4: [{**GROUP, "real_name": "否"}]})
    filled_template(tmp_path / "in" / "护理学院.xlsx", "护理学院", {4: [{**GROUP, "real_name": "否"}]})
    filled_template(tmp_path / "old" / "药学院.xlsx", "药学院", {4: [{**GROUP, "real_name": "否"}]})
    out = tmp_path / "修改意见"
    CliRunner().invoke(app, ["validate", str(tmp_path / "in"), str(tmp_path / "old"), "--annotate", str(out)])
    copies = sorted(p.name for p in out.glob("*.xlsx"))
    assert len(copies) == 3
    locked(out / next(n for n in copies if n.startswith("医学院")))
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "in"), "--annotate", str(out)], terminal_width=200)
    text = " ".join(result.output.split())
    assert "已生成 1 份修改意见表" in text
    assert "未能生成 医学院 的修改意见表" in text and "请先在 Excel/WPS 中关闭此文件" in text
    assert "仍是上一轮的" in text
    assert "另有 1 份以前生成的修改意见表本次没有更新" in text and "药学院" in text


def test_forms_sent_in_two_files_are_never_asked_for_again(tmp_path):
    """A unit that sends 附件1 in one file and 附件2～5 in another has sent everything: neither
    the report nor either annotated copy asks it to 补报."""
    site = {"site_name": "医学院网站", "owner": "医学院", "admin": "王强", "phone": "13912345678", "sections": "新闻",
            "last_update": "2025-11-20"}
    filled_template(tmp_path / "in" / "医学院-第一部分.xlsx", "医学院", {1: [site]})
    filled_template(tmp_path / "in" / "医学院-第二部分.xlsx", "医学院",
                    {2: [{"account_name": "无"}], 3: [{"admin": "无"}], 4: [GROUP], 5: [{"platform": "无"}]})
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "in"), "--annotate", str(tmp_path / "out"),
                                      "--as-of", "2025-11-25", "--format", "json"])
    assert result.exit_code == 0
    assert not [i for i in json.loads(result.stdout)["issues"] if i["code"] in ("form-not-found", "form-empty")]
    # nothing to fix: no 修改意见 copy goes back at all (issue 22: a unit with no problem gets none)
    assert sorted((tmp_path / "out").glob("*.xlsx")) == []


def test_an_annotated_copy_prints_long_text_whole(tmp_path):
    """A program-written file (here openpyxl; a generator; our own copy) has no row heights: a
    long 网站栏目 printed one line tall, cut off. The copy gives each such row its height."""
    import shutil

    from office import convert

    sections = "学院新闻、通知公告、师资队伍、教学科研、学生工作、党建工作、招生就业、校友风采、下载中心、联系我们"
    site = {"site_name": "医学院网站", "owner": "医学院", "admin": "王强", "phone": "13912345678",
            "sections": sections, "last_update": "2025-11-20"}
    # the second row has a wrong phone: something to fix, so the unit gets its annotated copy
    filled_template(tmp_path / "in" / "医学院.xlsx", "医学院", {1: [site, {**site, "sections": "News", "phone": "12345"}]})
    CliRunner().invoke(app, ["validate", str(tmp_path / "in"), "--annotate", str(tmp_path / "out"), "--as-of", "2025-11-25"])
    pdf = convert(next((tmp_path / "out").glob("*.xlsx")), "pdf", tmp_path / "pdf")
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext (poppler-utils) is needed to read the printed page")
    printed = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert sections in "".join(printed.split())
