"""CLI and configuration: Chinese help for every command, init, config overrides and errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from netreg.config import Campaign, ConfigError, load_config, match_unit, render_default_config, read_units_file

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["template", "validate", "merge", "init", "intake", "status", "history", "paper", "exclude", "include", "diff", "remind", "serve"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def netreg(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netreg", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "COLUMNS": "200"})


def test_every_command_is_listed_here():
    from netreg.cli import app

    assert sorted(c.name for c in app.registered_commands) == sorted(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_chinese_help_with_an_example_and_is_in_the_readme(command):
    proc = netreg(command, "--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("用法：")
    assert "示例：" in proc.stdout
    for line in proc.stdout.splitlines():
        if line.strip().startswith("-"):  # every option is explained in Chinese
            assert CJK.search(line), line
    assert f"netreg {command}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_top_level_help_version_and_usage_errors_are_chinese():
    top = netreg("--help")
    assert top.returncode == 0 and "命令" in top.stdout and "显示本帮助并退出" in top.stdout
    assert netreg("--version").stdout.startswith("netreg ")
    wrong = netreg("validat")
    assert wrong.returncode == 2
    assert "错误：没有这个命令" in wrong.stderr and "validate" in wrong.stderr
    missing = netreg("validate")
    assert missing.returncode == 2 and "请给出回收的文件或文件夹" in missing.stderr  # and not in a campaign
    assert "Traceback" not in wrong.stderr + missing.stderr


def test_help_is_fast():
    """`netreg --help` must not import the heavy libraries (openpyxl, pydantic, jinja2…)."""
    code = ("import sys, time; t=time.perf_counter(); sys.argv=['netreg','--help'];\n"
            "from netreg.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy=[m for m in ('openpyxl','pydantic','jinja2','phonenumbers','python_calamine','rich') if m in sys.modules]\n"
            "print('HEAVY', heavy, time.perf_counter()-t, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("HEAVY []"), line
    start = time.perf_counter()
    netreg("--help")
    assert time.perf_counter() - start < 1.0  # generous: whole interpreter start on a busy CI machine


def test_init_writes_every_default_and_it_loads_back_equal(tmp_path):
    proc = netreg("init", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "netreg.toml"
    data = tomllib.loads(written.read_text(encoding="utf-8"))
    assert Campaign.model_validate(data) == Campaign()
    assert set(data) == set(Campaign.model_fields)  # every key is spelled out
    assert "# " in written.read_text(encoding="utf-8")  # commented for a non-programmer
    written.write_text(written.read_text(encoding="utf-8") + "\n# 我改过\n", encoding="utf-8")
    again = netreg("init", str(tmp_path))  # idempotent: what is there is kept
    assert again.returncode == 0 and "已存在，保留原样" in again.stdout and "我改过" in written.read_text(encoding="utf-8")
    assert (tmp_path / "netreg.db").is_file()
    assert netreg("init", str(tmp_path), "--force").returncode == 0


def test_config_overrides_and_defaults_reproduce_the_notice(tmp_path):
    default = Campaign()
    assert (default.school, default.office, default.deadline, default.email) == \
        ("漯河职业技术学院", "党委宣传统战部308室", "11月25日", "lhzyxc99@126.com")
    assert (default.follower_threshold, default.stale_days, default.default_area_code) == (2000, 90, "0395")
    cfg = tmp_path / "netreg.toml"
    cfg.write_text('school = "示例职业学院"\nfollower_threshold = 5000\n'
                   '[[platforms]]\nname = "知乎"\naliases = ["zhihu"]\n', encoding="utf-8")
    loaded = load_config(cfg)
    assert loaded.school == "示例职业学院" and loaded.follower_threshold == 5000
    assert [p.name for p in loaded.platforms] == ["知乎"]
    assert loaded.stale_days == 90  # untouched keys keep the notice's defaults


def test_netreg_toml_in_the_working_folder_is_used(tmp_path):
    (tmp_path / "netreg.toml").write_text('school = "示例职业学院"\n', encoding="utf-8")
    proc = netreg("template", "--unit", "医学院", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "out" / "医学院.xlsx")["附件1"]
    assert any("示例职业学院网站平台更新登记备案表" == c.value for row in ws.iter_rows(max_row=3) for c in row)


@pytest.mark.parametrize("text, expected", [
    ("follower_threshold = \"很多\"\n", "follower_threshold 应为整数"),
    ("follower_threshold = -1\n", "follower_threshold 应不小于 0"),
    ("stale_dayz = 30\n", "stale_dayz 不是可识别的配置项"),
    ("default_area_code = \"395\"\n", "default_area_code 应为以 0 开头的 3～4 位区号"),
    ("school = \n", "格式有误：第 1 行"),
    ("[[group_types]]\nname = \"微信群\"\nmax_members = \"五百\"\n", "group_types.0.max_members 应为整数"),
])
def test_bad_config_gets_one_clear_chinese_line(tmp_path, text, expected):
    cfg = tmp_path / "netreg.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert expected in str(err.value) and str(cfg) in str(err.value)
    proc = netreg("validate", str(tmp_path), "--config", str(cfg))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("错误：配置文件") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_units_file_and_unit_matching(tmp_path):
    f = tmp_path / "units.txt"
    f.write_text("# 单位名单\n医学院\n党委办公室/校长办公室\n\n医学院\n", encoding="utf-8")
    units = read_units_file(f)
    assert units == ["医学院", "党委办公室/校长办公室"]
    assert match_unit("校长办公室", units) == "党委办公室/校长办公室"
    assert match_unit("党委办公室、校长办公室", units) == "党委办公室/校长办公室"
    assert match_unit("医学院-网络平台登记表（终稿）", units) == "医学院"
    assert match_unit("ＭＥＤ 医学院 ", units) == "医学院"
    assert match_unit("财务处", units) is None
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        read_units_file(empty)


def test_template_command_writes_one_file_per_unit_and_respects_force(tmp_path):
    units = tmp_path / "units.txt"
    units.write_text("医学院\n党委办公室/校长办公室\n", encoding="utf-8")
    out = tmp_path / "空白"
    first = netreg("template", "--units", str(units), "-o", str(out))
    assert first.returncode == 0, first.stderr
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2 and "医学院.xlsx" in names and all("/" not in n for n in names)
    before = (out / "医学院.xlsx").read_bytes()
    second = netreg("template", "--units", str(units), "-o", str(out))
    assert "已存在" in second.stdout and (out / "医学院.xlsx").read_bytes() == before
    assert "渲染" not in render_default_config()  # sanity: the init template rendered, no jinja leftovers
    assert "{{" not in render_default_config()
