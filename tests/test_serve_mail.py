"""netreg serve with the campaign's mailbox (SPEC §10): 收取邮件 against a real Dovecot and 发送
against a real in-process SMTP server (aiosmtpd); the 授权码 typed into the page is used for
that one request and never stored, logged or sent back."""

from __future__ import annotations

import re
import shutil

import pytest
from dovecot import dovecot, dovecot_server  # noqa: F401  (fixtures)
from test_campaign_mail import campaign, message, workbook  # noqa: F401  (fixture)
from test_remind import PASSWORD, Mailbox, make_campaign, smtp_server, use_smtp


def client_of(folder):
    from starlette.testclient import TestClient

    from netreg.web.app import create_app

    c = TestClient(create_app(folder, token="t"))
    assert c.get("/?token=t").status_code == 200
    return c


def states(page: str) -> dict[str, str]:
    """Unit -> its status, as the board shows them."""
    return {m.group(1): m.group(2) for m in re.finditer(
        r'<a href="/unit/[^"]+">([^<]+)</a>.*?class="nowrap state">([^<]+)<', page, re.S)}


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_mail_is_fetched_from_the_page_and_the_password_is_kept_nowhere(campaign, dovecot, tmp_path,  # noqa: F811
                                                                         monkeypatch):
    monkeypatch.delenv("NETREG_MAIL_PASSWORD")  # the page asks for it
    dovecot.deliver(message("yxy@x.edu.cn", "医学院登记表", "Thu, 20 Nov 2025 09:15:00 +0800",
                            [("医学院.xlsx", workbook(tmp_path, "医学院", "医学院.xlsx"))]))
    c = client_of(campaign)
    page = c.get("/").text
    assert "收取邮件" in page and 'type="password"' in page
    wrong = c.post("/mail", data={"csrf": csrf(page), "password": "wrong-授权码"}, follow_redirects=True)
    assert "无法登录邮箱" in wrong.text and "wrong-授权码" not in wrong.text
    got = c.post("/mail", data={"csrf": csrf(page), "password": dovecot.password}, follow_redirects=True)
    assert "医学院 第 1 次报送" in got.text and "共收取 1 封新邮件" in got.text
    assert dovecot.password not in got.text
    assert states(page)["医学院"] == "未报送" and states(got.text)["医学院"] != "未报送"  # the board changed
    for path in campaign.rglob("*"):
        if path.is_file():
            assert dovecot.password.encode() not in path.read_bytes(), path
    again = c.post("/mail", data={"csrf": csrf(page), "password": dovecot.password}, follow_redirects=True)
    assert "没有新邮件" in again.text


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_letters_are_sent_from_the_page_once_confirmed_and_never_twice(tmp_path):
    folder = make_campaign(tmp_path)
    mailbox = Mailbox()
    controller = smtp_server(mailbox)
    controller.start()
    try:
        use_smtp(folder, controller.port)
        c = client_of(folder)
        page = c.get("/letters").text
        going = re.findall(r"<li>([^<（]+)（", page.split('id="send-form"')[1])
        assert going and "lhzyxc99@126.com" in page
        unconfirmed = c.post("/letters/send", data={"csrf": csrf(page), "password": PASSWORD}, follow_redirects=True)
        assert "请先勾选" in unconfirmed.text and mailbox.received == []
        sent = c.post("/letters/send", data={"csrf": csrf(page), "password": PASSWORD, "confirm": "1"})
        assert sent.status_code == 200 and "已发送" in sent.text and PASSWORD not in sent.text
        assert len(mailbox.received) == len(going)
        again = c.post("/letters/send", data={"csrf": csrf(page), "password": PASSWORD, "confirm": "1"})
        assert "已发送过" in again.text and len(mailbox.received) == len(going)
        for path in folder.rglob("*"):
            if path.is_file():
                assert PASSWORD.encode() not in path.read_bytes(), path
    finally:
        controller.stop()
        shutil.rmtree(folder / "催报", ignore_errors=True)
