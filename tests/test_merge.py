"""netreg merge: the summary workbook, rows in = rows out, statuses, safe writes, HTML."""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from builders import filled_template, hand_layout, raw_workbook
from netreg.model import forms as F
from netreg.config import Campaign
from netreg.app.merge import OutputExists, merge
from netreg.pipeline import validate_paths

AS_OF = date(2025, 11, 25)
UNITS = ["医学院", "信息工程学院", "图书馆", "团委", "教务处"]

ACCOUNT = {"platform": "公众号", "account_name": "漯职医学院", "account_id": "gh_0123456789ab",
           "followers": "2.3万", "opened": "2019.9.1", "purpose": "信息发布", "admin": "王丽",
           "phone": 13812345678, "note": ""}
WEBSITE = {"site_name": "医学院网站", "owner": "李强", "admin": "王丽", "phone": "0395-3136789",
           "sections": "学院概况、新闻动态", "last_update": date(2025, 11, 1)}
ZOMBIE = {"admin": "赵敏", "phone": "13700001111", "group_name": "2019级实习群", "reason": "实习结束",
          "cleaned": "是", "cleaned_on": "2025-10-01", "note": ""}
GROUP = {"group_type": "微信群", "group_name": "医学院教职工群", "members": 120, "purpose": "工作通知",
         "real_name": "是", "admin": "王丽", "phone": "13812345678", "note": ""}
STAR = {"platform": "抖音", "account_id": "dy_nurse", "account_name": "护理小王", "followers": 5200,
        "topic": "校园生活", "person": "王小二", "title": "", "major": "护理2023级", "phone": "13598765432",
        "note": ""}


def _returned(tmp_path: Path) -> Path:
    folder = tmp_path / "returned"
    folder.mkdir()
    filled_template(folder / "医学院.xlsx", "医学院",
                    {1: [WEBSITE], 2: [ACCOUNT, {**ACCOUNT, "account_id": "gh_aaaaaaaaaaaa",
                                                  "account_name": "=HYPERLINK(\"http://x\")",
                                                  "phone": "13598765432"}],
                     3: [ZOMBIE], 4: [GROUP], 5: [STAR]})
    hand_layout(folder / "信息工程学院.xlsx", "信息工程学院",
                {2: [{**ACCOUNT, "account_id": "gh_bbbbbbbbbbbb", "account_name": "信息工程\x07学院"}],
                 4: [{**GROUP, "group_name": "信工教职工群"}]})
    filled_template(folder / "图书馆.xlsx", "图书馆", {f: [{}] for f in ()})  # nothing typed
    (folder / "团委.xlsx").write_bytes(b"this is not a workbook")
    return folder


def _run(folder: Path, out: Path, **kw):
    report = validate_paths([folder], Campaign(), units=UNITS, as_of=AS_OF)
    return merge(report, out, school="漯河职业技术学院", inputs=[folder], **kw)


def _sheet_rows(path: Path, sheet: str, header_row: int) -> list[dict]:
    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:]]


def test_summary_rows_statuses_and_values(tmp_path):
    folder = _returned(tmp_path)
    out = tmp_path / "汇总.xlsx"
    result = _run(folder, out)
    assert result.rows_in == result.rows_out == 8
    status = {s.unit: s.label for s in result.statuses}
    assert status == {"医学院": "需整改", "信息工程学院": "需补报", "图书馆": "需整改",  # 2 of 5 forms; sent back blank
                      "团委": "无法读取", "教务处": "未报送"}
    assert [i.unit for i in result.issues if i.code == "unit-missing"] == ["教务处"]

    accounts = _sheet_rows(out, "附件2", 2)
    assert [r["序号"] for r in accounts] == [1, 2, 3]
    first = accounts[0]
    assert first["填报单位"] == "医学院"
    assert first["网络平台"] == "微信公众号"  # alias normalised
    assert first["粉丝人数"] == 23000
    assert first["开通日期"].date() == date(2019, 9, 1)  # a real date cell
    assert first["联系电话"] == "13812345678"  # whole in the workbook, never masked
    assert first["来源文件"].endswith("医学院.xlsx") and first["原行号"] == 5
    # the student's phone bound to an account: the issue is named in the row's 问题 column
    assert "绑定学生手机号" in accounts[1]["问题"]
    websites = _sheet_rows(out, "附件1", 2)
    assert websites[0]["联系电话"] == "0395-3136789"


def test_formula_like_text_stays_text_and_control_characters_are_stripped(tmp_path):
    folder = _returned(tmp_path)
    out = tmp_path / "汇总.xlsx"
    _run(folder, out)
    ws = openpyxl.load_workbook(out)["附件2"]
    names = [c for c in ws["D"] if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert names and all(c.data_type == "s" for c in names)
    assert any(c.value == "信息工程学院" for c in ws["D"])
    with zipfile.ZipFile(out) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any(b"<f>" in zf.read(n) for n in sheets), "a typed value became a formula"


def test_overview_has_native_charts_and_every_sheet_is_a_clean_table(tmp_path):
    pandas = pytest.importorskip("pandas")
    folder = _returned(tmp_path)
    out = tmp_path / "汇总.xlsx"
    result = _run(folder, out)
    with zipfile.ZipFile(out) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3
    book = pandas.read_excel(out, sheet_name=None, header=None, engine="openpyxl")
    assert list(book) == ["总览", "附件1", "附件2", "附件3", "附件4", "附件5", "问题清单"]
    for sheet in ("附件1", "附件2", "附件3", "附件4", "附件5"):
        frame = pandas.read_excel(out, sheet_name=sheet, header=1, engine="openpyxl")
        assert list(frame.columns[:2]) == ["序号", "填报单位"]
        assert list(frame.columns[-3:]) == ["问题", "来源文件", "原行号"]
        assert frame["序号"].tolist() == list(range(1, len(frame) + 1))
    issues = pandas.read_excel(out, sheet_name="问题清单", engine="openpyxl")
    assert len(issues) == len(result.issues)


def test_no_overwrite_without_force_and_never_over_an_input(tmp_path):
    folder = _returned(tmp_path)
    out = tmp_path / "汇总.xlsx"
    out.write_text("keep me")
    with pytest.raises(OutputExists):
        _run(folder, out)
    assert out.read_text() == "keep me"
    _run(folder, out, force=True)
    assert zipfile.is_zipfile(out)
    with pytest.raises(OutputExists):
        _run(folder, folder / "医学院.xlsx", force=True)


def test_inputs_are_byte_identical_after_merge(tmp_path):
    folder = _returned(tmp_path)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    _run(folder, tmp_path / "汇总.xlsx", html=tmp_path / "r.html")
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


# write-only sheets whose save was cut short complain when garbage-collected: expected here
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_failed_write_leaves_no_half_written_summary(tmp_path, monkeypatch):
    folder = _returned(tmp_path)
    out = tmp_path / "汇总.xlsx"

    def boom(self, filename):
        Path(filename).write_bytes(b"PK half")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", boom)
    result = _run(folder, out)
    assert result.output is None and [(p, why) for p, why in result.failed] == [(out, "无法访问（系统错误）")]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    import gc

    gc.collect()  # collect the cut-short sheets here, under this test's warning filter


@pytest.mark.parametrize("seed", range(6))
def test_randomised_inputs_rows_in_equal_rows_out(tmp_path, seed):
    rng = random.Random(seed)
    folder = tmp_path / "in"
    folder.mkdir()
    typed = []
    for u, unit in enumerate(UNITS[:3]):
        rows = {}
        for form_id, sample in ((1, WEBSITE), (2, ACCOUNT), (3, ZOMBIE), (4, GROUP), (5, STAR)):
            n = rng.randint(0, 6)
            rows[form_id] = []
            for k in range(n):
                marker = f"U{u}F{form_id}R{k}-{rng.randint(0, 10**6)}"
                key = next(c for c in sample if c not in ("phone", "followers", "members", "opened",
                                                          "last_update", "cleaned_on", "platform",
                                                          "group_type", "cleaned", "real_name", "note",
                                                          "title", "major"))
                row = {**sample, key: marker}
                if rng.random() < 0.3:  # some values broken the way people break them
                    row["phone"] = rng.choice(["1381234567", "无", "0395-12345678", ""])
                rows[form_id].append(row)
                typed.append(marker)
        build = filled_template if rng.random() < 0.5 else hand_layout
        build(folder / f"{unit}.xlsx", unit, rows)
    out = tmp_path / "汇总.xlsx"
    result = _run(folder, out)
    assert result.rows_in == result.rows_out == len(typed)
    wb = openpyxl.load_workbook(out)
    written = {c.value for ws in wb.worksheets[1:6] for row in ws.iter_rows() for c in row}
    assert set(typed) <= written


def test_cli_merge_prints_rows_in_out_and_writes(tmp_path):
    folder = _returned(tmp_path)
    units = tmp_path / "units.txt"
    units.write_text("\n".join(UNITS), encoding="utf-8")
    out = tmp_path / "汇总.xlsx"
    proc = subprocess.run(["python", "-m", "netreg", "merge", str(folder), "-o", str(out), "--units", str(units),
                           "--as-of", "2025-11-25", "--html", str(tmp_path / "r.html")],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 1, proc.stderr  # 医学院 has errors
    assert "读入 8 行（3 个文件，另有 1 个文件未读取），写入汇总 8 行（一致）" in proc.stdout
    assert "未报送" in proc.stdout and "无法读取" in proc.stdout
    assert "13812345678" not in proc.stdout
    assert out.is_file() and (tmp_path / "r.html").is_file()
    again = subprocess.run(["python", "-m", "netreg", "merge", str(folder), "-o", str(out)],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "已存在" in again.stderr


def _need(program: str) -> str | None:
    found = shutil.which(program)
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{program} is required in CI")
        pytest.skip(f"{program} not installed")
    return found


def test_summary_opens_in_libreoffice(tmp_path):
    from office import convert, require_soffice

    require_soffice()
    folder = _returned(tmp_path)
    out = tmp_path / "汇总.xlsx"
    _run(folder, out)
    pdf = convert(out, "pdf", tmp_path / "pdf")
    assert pdf.is_file() and pdf.read_bytes()[:4] == b"%PDF"


def test_html_report_renders_in_chromium_without_console_errors(tmp_path):
    chromium = _need("chromium")
    folder = _returned(tmp_path)
    html = tmp_path / "报告.html"
    _run(folder, tmp_path / "汇总.xlsx", html=html)
    text = html.read_text(encoding="utf-8")
    # standalone: nothing is loaded from anywhere (typed URLs may appear as text)
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:|//)|<link\b|@import|url\(', text)
    assert "<script" not in text
    assert "135****5432" in text  # the student phone, masked
    assert "13598765432" not in text and "13812345678" not in text
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--window-size=1200,1600", f"--screenshot={shot}", html.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10_000
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert console == []


def test_outputs_get_ordinary_file_permissions(tmp_path):
    """Atomic writes go through mkstemp (0600); the summary must be readable like any file."""
    folder = _returned(tmp_path)
    out = tmp_path / "汇总.xlsx"
    _run(folder, out)
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


def _cells(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): (c.value, c.data_type, c.number_format, c.quotePrefix)
            for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.value not in (None, "")}


@pytest.mark.parametrize("source", ["samples", "fixtures"])
def test_direct_row_writer_gives_the_same_summary_as_openpyxl(tmp_path, source):
    """The speed work writes the big sheets' rows as XML directly: every cell's value, type,
    number format and quote prefix must equal what openpyxl's own writer produces."""
    from netreg.config import read_units_file
    from netreg.excel.summary import build_summary, save_summary
    from netreg.model.report import missing_unit_issues, unit_statuses

    root = Path(__file__).resolve().parents[1]
    if source == "samples":
        folder, units = root / "samples" / "returned", read_units_file(root / "samples" / "units.txt")
    else:
        folder, units = _returned(tmp_path), UNITS
    report = validate_paths([folder], Campaign(), units=units, as_of=AS_OF)
    statuses = unit_statuses(report)
    issues = report.issues + tuple(missing_unit_issues(statuses))
    outs = {}
    for direct in (True, False):
        wb, bodies = build_summary(report, statuses, "漯河职业技术学院", issues)
        outs[direct] = tmp_path / f"summary-{direct}.xlsx"
        assert save_summary(wb, bodies, outs[direct], direct=direct) == len(report.records)
    fast, reference = _cells(outs[True]), _cells(outs[False])
    assert len(reference) > 300
    assert fast == reference


def test_a_unit_that_wrote_wu_on_every_form_is_reported_with_nothing_to_register(tmp_path):
    """已报送（无） is for a unit whose every form says 无 or is empty (SPEC §4): an empty table
    beside forms saying 无 counts as nothing to register, with a reminder (form-empty, info);
    a form not sent at all must still be sent (需补报)."""
    folder = tmp_path / "returned"
    folder.mkdir()
    wu = {f.id: [{f.data_columns[0].key: "无"}] for f in F.FORMS}
    filled_template(folder / "图书馆.xlsx", "图书馆", wu)
    filled_template(folder / "教务处.xlsx", "教务处", {k: v for k, v in wu.items() if k != 3})
    raw_workbook(folder / "团委.xlsx", {"附件1": [["填报单位：团委"], [c.label for c in F.FORMS_BY_ID[1].columns], ["无"]]})
    result = _run(folder, tmp_path / "汇总.xlsx")
    status = {s.unit: s.label for s in result.statuses}
    assert status["图书馆"] == status["教务处"] == "已报送（无）" and status["团委"] == "需补报"
    assert [(i.unit, i.form) for i in result.issues if i.code == "form-empty"] == [("教务处", 3)]
    assert [(i.unit, i.form) for i in result.issues if i.code == "form-not-found"] == [("团委", n) for n in (2, 3, 4, 5)]


def test_every_place_that_counts_warnings_gives_the_same_total(tmp_path):
    """Terminal and 总览 totals, the HTML report and 问题清单 count the same warnings (a unit
    that sent nothing has its unit-missing warning in each)."""
    from netreg.render.terminal import render_merge_overview
    from rich.console import Console

    result = _run(_returned(tmp_path), tmp_path / "汇总.xlsx", html=tmp_path / "r.html")
    listed = [r for r in _sheet_rows(tmp_path / "汇总.xlsx", "问题清单", 1) if r["级别"] == "警告"]
    overview = _sheet_rows(tmp_path / "汇总.xlsx", "总览", 3)
    total = next(r for r in overview if r["单位"] == "合计")
    assert total["警告"] == len(listed) == sum(s.warnings for s in result.statuses) > 0
    assert next(r for r in overview if r["单位"] == "教务处")["警告"] == 1  # sent nothing
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f'警告<b class="sev-warning">{len(listed)}</b>' in html
    console = Console(record=True, width=200)
    render_merge_overview(result, console)
    assert re.search(rf"合计.*│\s+{len(listed)} │", console.export_text())


def test_the_html_report_lists_a_bounded_number_of_issues_and_says_where_the_rest_are(tmp_path, monkeypatch):
    """A province's hundreds of thousands of issues would make a page no browser opens: past
    PER_UNIT a unit, or LISTED in all, the report gives the count and points to 问题清单
    (lowered here; a school's report lists every issue, as the other tests check)."""
    from netreg.render import html as html_module

    monkeypatch.setattr(html_module, "PER_UNIT", 1)
    monkeypatch.setattr(html_module, "LISTED", 2)
    result = _run(_returned(tmp_path), tmp_path / "汇总.xlsx", html=tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    body = page.split("问题明细（按单位）")[1]
    counts = Counter(i.unit or "（未知单位）" for i in result.issues if i.code != "unit-missing")
    assert counts["医学院"] > 1 and len(counts) > 2
    assert f"<h3>医学院（{counts['医学院']} 条，此处列出 1 条，全部见汇总表“问题清单”）</h3>" in body
    assert body.count("<tr><td class=\"nowrap sev-") == 2
    assert all(f"<h3>{unit}（{n} 条" in body for unit, n in counts.items())


def test_a_sheet_past_excels_row_limit_continues_on_a_second_sheet(tmp_path, monkeypatch):
    """No sheet netreg writes passes Excel's 1,048,576 rows: 附件4 and 问题清单 go on in
    附件4（2）/问题清单（2） with the same header, and 总览 and the terminal say so. The limit is
    lowered here so that the workbook stays small; the arithmetic at the real one is checked too."""
    from office import convert

    from netreg.excel import summary
    from netreg.render.terminal import render_merge_overview

    assert summary.sheet_names("问题清单", 2, 1_048_575) == [("问题清单", 0, 1_048_575)]
    assert summary.sheet_names("问题清单", 2, 1_048_576) == [("问题清单", 0, 1_048_575),
                                                          ("问题清单（2）", 1_048_575, 1_048_576)]
    assert summary.sheet_names("附件4", 3, 2_200_000)[-1] == ("附件4（3）", 2_097_148, 2_200_000)
    monkeypatch.setattr(summary, "MAX_ROWS", 30)
    group = {"group_type": "微信群", "members": 120, "purpose": "通知", "real_name": "否", "admin": "王强",
             "phone": "13912345678"}
    filled_template(tmp_path / "in" / "医学院.xlsx", "医学院", {4: [{**group, "group_name": f"群{n}"} for n in range(45)]},
                    config=Campaign(blank_rows=50))
    report = validate_paths([tmp_path / "in"], Campaign(), as_of=AS_OF)
    out = tmp_path / "汇总.xlsx"
    result = merge(report, out, school="漯河职业技术学院")
    assert result.rows_in == result.rows_out == 45
    wb = openpyxl.load_workbook(out)
    lists = [n for n, _, _ in summary.sheet_names("问题清单", 2, len(result.issues))]
    assert len(lists) >= 2 and lists[1] == "问题清单（2）"
    assert [n for n in wb.sheetnames if n.startswith(("附件4", "问题清单"))] == ["附件4", "附件4（2）", *lists]
    for name in ("附件4", "附件4（2）"):
        ws = wb[name]
        assert ws.max_row <= 30 and ws.cell(2, 1).value == "序号"
    seq = [r[0] for name in ("附件4", "附件4（2）") for r in wb[name].iter_rows(min_row=3, values_only=True)]
    assert seq == list(range(1, 46))
    assert "续表" in wb["附件4（2）"].cell(1, 1).value
    assert sum(wb[n].max_row - 1 for n in lists) == len(result.issues)
    assert all(wb[n].cell(1, 2).value == "级别" for n in lists)
    assert "附件4 超过 Excel 每张工作表 30 行的上限，续写在 附件4（2）" in wb["总览"].cell(2, 1).value
    from rich.console import Console

    console = Console(record=True, width=200)
    render_merge_overview(result, console)
    assert "续写在 附件4（2）" in console.export_text()
    again = convert(out, "xlsx", tmp_path / "lo")  # LibreOffice opens and resaves it whole
    assert "附件4（2）" in openpyxl.load_workbook(again, read_only=True).sheetnames
