"""netreg serve (SPEC §10): the campaign on a local page. Route tests through Starlette's
TestClient, and the whole thing in the system Chromium driven by Selenium (chromium-driver
from apt; no browser is downloaded). Screenshots at 1280 and 390 px go to build/screenshots/."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from builders import SITE, hand_layout, whole
from test_campaign import UNITS_TABLE, campaign, cli  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"


@pytest.fixture
def client(campaign):  # noqa: F811
    from starlette.testclient import TestClient

    from netreg.web.app import create_app

    c = TestClient(create_app(campaign, token="口令".encode().hex()))
    assert c.get("/?token=" + "口令".encode().hex()).status_code == 200  # the URL the server printed: cookie set
    return c


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def eml_with(path: Path, sender: str, when: str, name: str, data: bytes) -> Path:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Date"] = sender, "office@x.edu.cn", "报送", when
    msg.set_content("请查收")
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    path.write_bytes(bytes(msg))
    return path


def test_a_wrong_or_missing_token_gets_403_and_a_post_needs_the_pages_csrf(campaign):  # noqa: F811
    from starlette.testclient import TestClient

    from netreg.web.app import create_app

    c = TestClient(create_app(campaign, token="right"))
    for path in ("/", "/?token=wrong", "/unit/医学院", "/file/1", "/version", "/static/style.css"):
        r = c.get(path)
        assert r.status_code == 403 and "访问口令" in r.text, path
    assert c.post("/paper", data={"unit": "医学院"}).status_code == 403
    assert c.get("/?token=right").status_code == 200
    assert c.post("/paper", data={"csrf": "forged", "unit": "医学院"}).status_code == 403
    assert "纸质版" not in cli("status", "--format", "json", campaign=campaign).stdout.split('"paper": "')[-1][:3]


def test_uploads_are_deliveries_and_the_unit_page_acts_on_the_ledger(client, campaign, tmp_path):  # noqa: F811
    page = client.get("/").text
    assert "交回登记表" in page and "0 / 5" in page and "未报送" in page
    csrf = csrf_of(page)
    books = [whole(u, tmp_path / f"{u}.xlsx", own_account=True) for u in ("图书馆", "团委")]
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in books]
    r = client.post("/upload", data={"csrf": csrf, "received": "2025-11-20 09:00"}, files=files, follow_redirects=True)
    assert r.status_code == 200
    assert "图书馆 第 1 次报送" in r.text and "团委 第 1 次报送" in r.text  # one upload, one delivery per unit
    status = {u["unit"]: u for u in __import__("json").loads(
        cli("status", "--format", "json", "--as-of", "2025-11-21", campaign=campaign).stdout)["units"]}
    assert status["图书馆"]["submissions"] == 1 and status["团委"]["status"] == "已报送"
    # a hostile unit name reaches the page escaped
    hand_layout(tmp_path / "x" / "怪.xlsx", "<script>alert(1)</script>", {1: [SITE]})
    r = client.post("/upload", data={"csrf": csrf}, files=[("files", ("怪.xlsx", (tmp_path / "x" / "怪.xlsx").read_bytes()))],
                    follow_redirects=True)
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text
    unit = client.get("/unit/图书馆")
    assert unit.status_code == 200 and "报送记录" in unit.text and "图书馆.xlsx" in unit.text
    got = client.get(re.search(r'href="(/file/\d+)"', unit.text).group(1))
    assert got.content == books[0].read_bytes()  # the stored original
    r = client.post("/paper", data={"csrf": csrf, "unit": "图书馆", "date": "2025-11-24"}, follow_redirects=True)
    assert "已登记纸质版（2025-11-24 收到）" in r.text
    sid = re.search(r'id="sub-(\d+)"', unit.text).group(1)
    r = client.post("/override", data={"csrf": csrf, "unit": "图书馆", "id": sid, "action": "exclude", "reason": ""},
                    follow_redirects=True)
    assert "请写明原因" in r.text
    r = client.post("/override", data={"csrf": csrf, "unit": "图书馆", "id": sid, "action": "exclude",
                                       "reason": "发错了版本"}, follow_redirects=True)
    assert "已排除" in r.text and "发错了版本" in r.text
    history = __import__("json").loads(cli("history", "图书馆", "--format", "json", campaign=campaign).stdout)
    assert history["submissions"][0]["state"] == "excluded"
    assert client.get("/unit/没有这个单位").status_code == 404


def test_an_upload_too_large_or_too_many_files_is_one_chinese_line_and_records_nothing(client, campaign, tmp_path,  # noqa: F811
                                                                                        monkeypatch):
    """The page takes what intake takes, within bounds: a request past MAX_REQUEST_MB is refused
    from its declared length, 201 files by the parser, each in Chinese (Starlette says
    "Too many files" in English), and the ledger is untouched; a file is streamed to disk in
    chunks, so the recorded original is the bytes sent."""
    from netreg.web import app as web

    csrf = csrf_of(client.get("/").text)
    book = whole("图书馆", tmp_path / "图书馆.xlsx", own_account=True)
    monkeypatch.setattr(web, "MAX_REQUEST_MB", 0.01)  # about 10 KB: the workbook alone is larger
    r = client.post("/upload", data={"csrf": csrf}, files=[("files", (book.name, book.read_bytes()))])
    assert r.status_code == 413 and "一次上传的内容过大" in r.text and "netreg intake" in r.text
    monkeypatch.undo()
    many = [("files", (f"{n}.csv", b"a,b\n")) for n in range(web.MAX_UPLOAD_FILES + 1)]
    r = client.post("/upload", data={"csrf": csrf}, files=many)
    assert r.status_code == 400 and "一次最多上传 200 个文件" in r.text and "Too many" not in r.text
    status = __import__("json").loads(cli("status", "--format", "json", campaign=campaign).stdout)
    assert all(u["submissions"] == 0 for u in status["units"])
    big = tmp_path / "图书馆-附件.csv"  # 3 MB: past Starlette's 1 MB in-memory spool
    big.write_bytes(b"\xef\xbb\xbf" + "序号,网站名称\n".encode() + b"".join(f"{n},站{n}\n".encode() for n in range(300_000)))
    r = client.post("/upload", data={"csrf": csrf}, files=[("files", (big.name, big.read_bytes()))], follow_redirects=True)
    assert r.status_code == 200 and "图书馆" in r.text
    unit = client.get("/unit/图书馆").text
    assert client.get(re.search(r'href="(/file/\d+)"', unit).group(1)).content == big.read_bytes()


def test_a_units_page_gives_its_annotated_copy_and_says_when_there_is_none(client, campaign, tmp_path):  # noqa: F811
    """下载修改意见表 on a unit's page: the copy validate --annotate makes in a campaign, with the
    unit's problems on it; a unit that sent nothing, or a name on no list, gets one line on its page instead."""
    import openpyxl

    from netreg.excel.annotate import SHEET

    csrf = csrf_of(client.get("/").text)
    wrong = whole("图书馆", tmp_path / "图书馆.xlsx", own_account=True, f1=[{**SITE, "phone": "1391234"}])
    client.post("/upload", data={"csrf": csrf}, files=[("files", (wrong.name, wrong.read_bytes()))])
    page = client.get("/unit/图书馆").text
    assert 'id="unit-copy"' in page
    r = client.get("/unit-copy/图书馆")
    assert r.status_code == 200 and r.content[:2] == b"PK" and "%E5%9B%BE%E4%B9%A6%E9%A6%86" in r.headers["content-disposition"]
    got = tmp_path / "copy.xlsx"
    got.write_bytes(r.content)
    opinions = [c for row in openpyxl.load_workbook(got)[SHEET].iter_rows(values_only=True) for c in row if c]
    assert any("1391234" in str(c) for c in opinions)  # the wrong phone, named where it is
    assert list((campaign / "修改意见").glob("图书馆*.xlsx"))  # kept in the campaign folder
    r = client.get("/unit-copy/医学院", follow_redirects=True)
    assert r.status_code == 200 and "医学院还没有交回登记表" in r.text
    r = client.get("/unit-copy/..%2F..%2F外人", follow_redirects=True)
    assert r.status_code == 404 and "都没有" in r.text and not list(campaign.parent.glob("*修改意见*"))


def test_unknown_pages_and_wrong_methods_answer_in_chinese(client):
    r = client.get("/没有这个页面")
    assert r.status_code == 404 and r.text.startswith("404：") and "Not Found" not in r.text
    r = client.get("/upload")
    assert r.status_code == 405 and "按钮" in r.text and "Method" not in r.text


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium and chromium-driver are required in CI (apt-get install chromium chromium-driver)")
    pytest.skip("Chromium or chromedriver is not installed")


@pytest.mark.slow
def test_the_campaign_in_a_real_browser(campaign, tmp_path):  # noqa: F811
    """Open the board; drop three files (a workbook, a zip, an .eml) and see the statuses change;
    open a unit, record its paper copy, exclude and include a submission; a wrong token gets
    403; screenshots at 1280 and 390 px."""
    browser, driver = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    hand_layout(tmp_path / "in" / "医学院.xlsx", "医学院", {1: [{**SITE, "phone": "12345"}]})
    pack = tmp_path / "in" / "护理学院报送.zip"
    with zipfile.ZipFile(pack, "w") as z:
        z.write(whole("护理学院", tmp_path / "护理学院.xlsx", own_account=True), "护理学院.xlsx")
    mail = eml_with(tmp_path / "in" / "团委的邮件.eml", "赵老师 <tw@x.edu.cn>", "Fri, 21 Nov 2025 22:47:00 +0800",
                    "登记表.xlsx", whole("团委", tmp_path / "团委.xlsx", own_account=True).read_bytes())
    server = subprocess.Popen([sys.executable, "-m", "netreg", "serve", "--campaign", str(campaign), "--no-browser",
                               "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN"):
        opts.add_argument(arg)
    web = None
    try:
        line = server.stdout.readline()
        url = re.search(r"(http://\S+)", line).group(1)
        base = url.split("/?")[0]
        web = webdriver.Chrome(service=Service(driver), options=opts)
        web.set_window_size(1280, 900)
        wait = WebDriverWait(web, 20)
        web.get(base + "/?token=wrong")
        assert "403" in web.find_element(By.TAG_NAME, "body").text
        web.get_log("browser")  # that 403 was meant: the log starts afresh
        web.get(url)
        board = web.find_element(By.ID, "board").text
        assert "医学院" in board and "未报送" in board
        web.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in (tmp_path / "in" / "医学院.xlsx", pack, mail)))
        web.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
        wait.until(ec.presence_of_element_located((By.ID, "taken")))
        taken = web.find_element(By.ID, "taken").text
        assert "医学院 第 1 次报送" in taken and "护理学院 第 1 次报送" in taken and "团委 第 1 次报送" in taken
        rows = {r.find_element(By.TAG_NAME, "a").text: r.text for r in web.find_elements(By.CSS_SELECTOR, "#board tbody tr")}
        assert "需整改" in rows["医学院"] and "已报送" in rows["护理学院"] and "已报送" in rows["团委"]
        assert "未报送" in rows["组织部"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        web.save_screenshot(str(SHOTS / "board-1280.png"))
        web.find_element(By.LINK_TEXT, "医学院").click()
        wait.until(ec.presence_of_element_located((By.ID, "paper")))
        web.find_element(By.ID, "paper").click()
        wait.until(ec.text_to_be_present_in_element((By.CLASS_NAME, "msg"), "已登记纸质版"))
        reason = web.find_element(By.CSS_SELECTOR, "form.inline input[name=reason]")
        reason.send_keys("发错了版本")
        reason.submit()
        wait.until(ec.text_to_be_present_in_element((By.CLASS_NAME, "msg"), "已排除"))
        reason = web.find_element(By.CSS_SELECTOR, "form.inline input[name=reason]")
        reason.send_keys("核实无误")
        reason.submit()
        wait.until(ec.text_to_be_present_in_element((By.CLASS_NAME, "msg"), "已恢复计入"))
        web.save_screenshot(str(SHOTS / "unit-1280.png"))
        web.set_window_size(390, 844)
        web.save_screenshot(str(SHOTS / "unit-390.png"))
        web.get(base + "/")
        web.save_screenshot(str(SHOTS / "board-390.png"))
        width = web.execute_script("return document.documentElement.scrollWidth")
        assert width <= 400, width  # no sideways scrolling on a phone
        # letters: previewed as they read, made, downloaded; then the summary, run with progress
        web.set_window_size(1280, 900)
        web.get(base + "/letters")
        web.find_element(By.CSS_SELECTOR, "details.letter summary").click()
        assert "特此通知" in web.find_element(By.CSS_SELECTOR, "details.letter pre").text
        web.find_element(By.ID, "make").click()
        wait.until(ec.text_to_be_present_in_element((By.CLASS_NAME, "msg"), "已生成"))
        href = web.find_element(By.PARTIAL_LINK_TEXT, "医学院-整改通知.docx").get_attribute("href")
        fetched = "return fetch(arguments[0]).then(r => r.status + ' ' + r.headers.get('content-length'))"
        assert web.execute_async_script("const done = arguments[arguments.length - 1];"
                                        + fetched.replace("return ", "") + ".then(done);", href).startswith("200")
        web.get(base + "/summary")
        web.find_element(By.ID, "run").click()
        WebDriverWait(web, 90).until(lambda d: "已完成" in d.find_element(By.ID, "job").text)
        assert "（一致）" in web.find_element(By.ID, "job").text
        href = web.find_element(By.LINK_TEXT, "汇总.xlsx").get_attribute("href")
        assert web.execute_async_script("const done = arguments[arguments.length - 1];"
                                        + fetched.replace("return ", "") + ".then(done);", href).startswith("200")
        web.get(base + "/")
        # a change made by the CLI reaches the open board by itself
        assert cli("paper", "团委", "--date", "2025-11-24", campaign=campaign).exit_code == 0
        WebDriverWait(web, 15).until(lambda d: "2025-11-24" in d.find_element(By.ID, "board").text)
        logs = [e for e in web.get_log("browser") if e.get("level") == "SEVERE"]
        assert not logs, logs
    finally:
        if web is not None:
            web.quit()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    out = server.stdout.read() + server.stderr.read()
    assert "Traceback" not in out
    assert all((SHOTS / n).stat().st_size > 5000 for n in ("board-1280.png", "board-390.png", "unit-1280.png",
                                                           "unit-390.png"))


def test_letters_are_previewed_made_and_downloaded(client, campaign, tmp_path):  # noqa: F811
    whole("医学院", tmp_path / "in" / "医学院.xlsx", f1=[{**SITE, "phone": "12345"}])
    assert cli("intake", str(tmp_path / "in"), "--received", "2025-11-20 09:00", campaign=campaign).exit_code == 0
    page = client.get("/letters").text
    assert "医学院：关于整改" in page and "整改错误 1 处" in page and "组织部" in page  # 未报送: a 催报 letter
    assert "12345" in page and "yxy@x.edu.cn" in page
    r = client.post("/letters/make", data={"csrf": csrf_of(page)}, follow_redirects=True)
    assert "已生成" in r.text and "医学院-整改通知.docx" in r.text and "催报名单.xlsx" in r.text
    got = client.get("/letters/file/医学院-整改通知.docx")
    assert got.status_code == 200 and got.content[:2] == b"PK"
    assert got.content == (campaign / "催报" / "医学院-整改通知.docx").read_bytes()
    for bad in ("../netreg.db", "..%2Fnetreg.db", "%2E%2E", ".netreg-x.tmp"):
        assert client.get(f"/letters/file/{bad}").status_code == 404
    # the letter's 完成日期 is remembered, as netreg remind does
    import sqlite3

    assert sqlite3.connect(campaign / "netreg.db").execute("SELECT unit FROM asked").fetchall() == [("医学院",)]


def test_the_summary_runs_in_the_background_and_is_downloaded(client, campaign, tmp_path):  # noqa: F811
    whole("医学院", tmp_path / "in" / "医学院.xlsx")
    assert cli("intake", str(tmp_path / "in"), "--received", "2025-11-20 09:00", campaign=campaign).exit_code == 0
    page = client.get("/summary").text
    client.post("/summary/run", data={"csrf": csrf_of(page)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = client.get("/summary").text
        if "已完成" in page or "未完成" in page:
            break
        assert 'http-equiv="refresh"' in page  # a page left open follows the work without JavaScript
        time.sleep(0.3)
    assert "已完成" in page and "（一致）" in page, page
    xlsx = client.get("/summary/file/汇总.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    import openpyxl

    (tmp_path / "got.xlsx").write_bytes(xlsx.content)
    assert "总览" in openpyxl.load_workbook(tmp_path / "got.xlsx").sheetnames
    report = client.get("/summary/file/汇总报告.html")
    assert report.status_code == 200 and "各单位报送情况" in report.text
    assert client.get("/summary/file/netreg.toml").status_code == 404


def test_a_remembered_check_is_never_changed_by_the_run_that_uses_it(campaign, tmp_path):  # noqa: F811
    """netreg serve remembers each stored file's check; the rules across files add their issues
    to a run's lists, which must never reach the remembered ones (a duplicate across units
    showed up as 新出现 in a unit's own round)."""
    import json

    from netreg.pipeline import remembering

    from test_campaign import two_rounds

    two_rounds(campaign, tmp_path)
    first = cli("status", "--as-of", "2025-11-28", "--format", "json", campaign=campaign).stdout
    with remembering():
        again = [cli("status", "--as-of", "2025-11-28", "--format", "json", campaign=campaign).stdout for _ in range(2)]
    assert json.loads(again[0]) == json.loads(again[1]) == json.loads(first)
    units = {u["unit"]: u for u in json.loads(first)["units"]}
    assert (units["医学院"]["fixed"], units["医学院"]["open"], units["医学院"]["new"]) == (1, 1, 1)


def test_a_file_whose_unit_was_not_found_is_given_one_on_the_board(client, campaign, tmp_path):  # noqa: F811
    import json

    from builders import filled_template

    filled_template(tmp_path / "x" / "登记表.xlsx", "图书馆", {1: [SITE]}, meta={"unit": ""})
    import openpyxl

    wb = openpyxl.load_workbook(tmp_path / "x" / "登记表.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "图书馆" in cell.value:
                    cell.value = cell.value.replace("图书馆", "")
    wb.save(tmp_path / "x" / "登记表.xlsx")
    taken = cli("intake", str(tmp_path / "x"), "--received", "2025-11-20 09:00", campaign=campaign)
    assert "无法确定单位" in taken.stdout, taken.stdout
    page = client.get("/").text
    assert "无法确定单位" in page and 'action="/assign"' in page
    r = client.post("/assign", data={"csrf": csrf_of(page), "id": "1", "unit": "图书馆"}, follow_redirects=True)
    assert "图书馆 第 1 次报送" in r.text and 'action="/assign"' not in r.text
    status = {u["unit"]: u for u in json.loads(
        cli("status", "--format", "json", "--as-of", "2025-11-21", campaign=campaign).stdout)["units"]}
    assert status["图书馆"]["submissions"] == 1 and status["图书馆"]["status"] != "未报送"
    assert status["图书馆"]["last_received"] == "2025-11-20 09:00:00"  # the original receipt, not the click


def test_next_year_compares_with_an_earlier_summary_and_prefills_the_forms(client, campaign, tmp_path):  # noqa: F811
    from builders import ACCOUNT

    last = tmp_path / "去年"
    whole("医学院", last / "医学院.xlsx", f2=[{**ACCOUNT, "account_id": "gh_yxy", "followers": 2300}])
    from typer.testing import CliRunner

    from netreg.cli import app

    CliRunner().invoke(app, ["merge", str(last), "-o", str(tmp_path / "去年汇总.xlsx"), "--as-of", "2024-11-25"])
    whole("医学院", tmp_path / "今年" / "医学院.xlsx", f2=[{**ACCOUNT, "account_id": "gh_yxy", "followers": 3500}])
    assert cli("intake", str(tmp_path / "今年"), "--received", "2025-11-20 09:00", campaign=campaign).exit_code == 0
    page = client.get("/next").text
    r = client.post("/next/run", data={"csrf": csrf_of(page), "prefill": "1"},
                    files=[("summary", ("去年汇总.xlsx", (tmp_path / "去年汇总.xlsx").read_bytes()))])
    assert r.status_code == 200
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = client.get("/next").text
        if "已完成" in page or "未完成" in page:
            break
        time.sleep(0.3)
    assert "已完成" in page and "变化 1 项" in page and "预填登记表 5 份" in page, page
    diff = client.get("/next/file/对比.html").text
    assert "粉丝" in diff and "医学院" in diff
    got = client.get("/next/file/预填登记表.zip")
    (tmp_path / "预填.zip").write_bytes(got.content)
    with zipfile.ZipFile(tmp_path / "预填.zip") as z:
        assert sorted(z.namelist()) == sorted(f"{u}.xlsx" for u in ("图书馆", "医学院", "团委", "组织部", "护理学院"))
        (tmp_path / "医学院预填.xlsx").write_bytes(z.read("医学院.xlsx"))
    import openpyxl

    cells = [c.value for row in openpyxl.load_workbook(tmp_path / "医学院预填.xlsx")["附件2"].iter_rows() for c in row]
    assert "gh_yxy" in cells and 2300 in cells  # last year's row, for the unit to update
