"""netreg intake --mail against a real Dovecot: every attachment recorded once with the
message's sender and Date, GB18030 names, zips, messages without attachments, a second run
that fetches nothing new, and the password never written anywhere."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from email.message import EmailMessage

import pytest
from builders import filled_template
from dovecot import dovecot, dovecot_server  # noqa: F401  (fixtures)
from typer.testing import CliRunner

from netreg.campaign.ledger import Ledger
from netreg.cli import app

SITE = {"site_name": "学院网站", "owner": "办公室", "admin": "王强", "phone": "13912345678", "sections": "新闻",
        "last_update": "2025-11-10"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(tmp_path, unit: str, name: str) -> bytes:
    return filled_template(tmp_path / "wb" / name, unit, {1: [{**SITE, "site_name": f"{unit}网站"}]}).read_bytes()


def message(sender: str, subject: str, when: str, files=()) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Date"] = sender, "office@x.edu.cn", subject, when
    msg.set_content("请查收。")
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg


def gb18030_named(sender: str, when: str, name: str, data: bytes) -> bytes:
    """The attachment name as older Foxmail/Outlook write it: RFC 2047 GB18030 inside the quotes."""
    word = b"=?gb18030?b?" + base64.b64encode(name.encode("gb18030")) + b"?="
    return (f"From: {sender}\r\nTo: office@x.edu.cn\r\nSubject: =?gb18030?b?".encode()
            + base64.b64encode("团委报送".encode("gb18030")) + f"?=\r\nDate: {when}\r\nMIME-Version: 1.0\r\n".encode()
            + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
            + b"--B\r\nContent-Type: " + XLSX.encode() + b'\r\nContent-Disposition: attachment; filename="' + word
            + b'"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + base64.encodebytes(data) + b"--B--\r\n")


@pytest.fixture
def campaign(tmp_path, dovecot, monkeypatch):  # noqa: F811
    folder = tmp_path / "活动"
    assert CliRunner().invoke(app, ["init", str(folder)]).exit_code == 0
    toml = folder / "netreg.toml"
    mail = dovecot.mail_settings("none")
    text = toml.read_text(encoding="utf-8").replace('deadline = "11月25日"', 'deadline = "2025-11-25"')
    text = text.replace('imap_host = ""', f'imap_host = "{mail.imap_host}"\nimap_port = {mail.imap_port}')
    text = text.replace('imap_security = "ssl"', 'imap_security = "none"').replace('user = ""', f'user = "{mail.user}"')
    toml.write_text(text, encoding="utf-8")
    (folder / "单位名单.csv").write_text("单位,联系人,邮箱\n医学院,王老师,yxy@x.edu.cn\n团委,赵老师,tw@x.edu.cn\n"
                                         "护理学院,孙老师,hl@x.edu.cn\n", encoding="utf-8")
    monkeypatch.setenv("NETREG_MAIL_PASSWORD", dovecot.password)
    return folder


def intake_mail(folder):
    return CliRunner().invoke(app, ["intake", "--mail", "--campaign", str(folder), "--units", str(folder / "单位名单.csv")],
                              terminal_width=200)


def test_intake_mail_records_every_attachment_once(campaign, dovecot, tmp_path):  # noqa: F811
    medicine = workbook(tmp_path, "医学院", "医学院.xlsx")
    # a file whose content names no unit: the sender's address says whose it is
    anonymous = filled_template(tmp_path / "wb" / "表.xlsx", "医学院", {1: [SITE]}, meta={"unit": ""})
    import openpyxl

    wb = openpyxl.load_workbook(anonymous)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and "医学院" in c.value:
                    c.value = c.value.replace("医学院", "")
    wb.save(anonymous)
    nursing = io.BytesIO()
    with zipfile.ZipFile(nursing, "w") as z:
        z.writestr("护理学院.xlsx", workbook(tmp_path, "护理学院", "护理学院.xlsx"))
    dovecot.deliver(message("王老师 <YXY@x.edu.cn>", "医学院登记表", "Thu, 20 Nov 2025 09:15:00 +0800",
                            [("医学院.xlsx", medicine), ("登记表（补充）.xlsx", anonymous.read_bytes())]))
    dovecot.deliver(gb18030_named("tw@x.edu.cn", "Fri, 21 Nov 2025 22:47:00 +0800", "团委登记表.xlsx",
                                  workbook(tmp_path, "团委", "团委.xlsx")))
    dovecot.deliver(message("hl@x.edu.cn", "护理学院", "Wed, 26 Nov 2025 08:00:00 +0800",
                            [("护理学院报送.zip", nursing.getvalue())]))
    dovecot.deliver(message("someone@x.edu.cn", "请问表在哪里下载？", "Sat, 22 Nov 2025 10:00:00 +0800"))
    dovecot.deliver(message("yxy@x.edu.cn", "再发一次", "Sun, 23 Nov 2025 10:00:00 +0800", [("医学院.xlsx", medicine)]))

    first = intake_mail(campaign)
    assert first.exit_code == 0, first.output
    out = first.output
    assert "共收取 5 封新邮件" in out and "请问表在哪里下载？" in out and "没有附件" in out
    assert "：团委登记表.xlsx" in out and "护理学院报送.zip/护理学院.xlsx" in out and "重复" in out
    assert "password" not in out.lower() and dovecot.password not in out

    ledger = Ledger.open(campaign)
    # one message is one submission, whatever it carries: 医学院's two attachments are one
    assert [(s.unit, len(s.files)) for s in ledger.submissions()] == \
        [("医学院", 2), ("团委", 1), ("护理学院", 1), ("医学院", 1)]
    assert "[1号] 医学院 第 1 次报送" in out and "第 2 次报送" not in out  # the resend is a repeat, not a round
    subs = ledger.files()
    got = [(s.name, s.unit, s.sender, s.received.strftime("%Y-%m-%d %H:%M"), s.state, s.origin) for s in subs]
    local = {s.name: s for s in subs}
    assert ("医学院.xlsx", "医学院", "yxy@x.edu.cn") == got[0][:3]
    assert local["登记表（补充）.xlsx"].unit == "医学院"  # by its sender
    assert local["团委登记表.xlsx"].unit == "团委"
    assert local["护理学院报送.zip/护理学院.xlsx"].unit == "护理学院"
    assert [s.state for s in subs if s.name == "医学院.xlsx"] == ["new", "duplicate"]
    assert all(s.origin == "mail" for s in subs) and len(subs) == 5
    # the Date of each message, in local time: 09:15 +0800 is 01:15 UTC
    from datetime import datetime, timezone

    sent = datetime(2025, 11, 20, 1, 15, tzinfo=timezone.utc).astimezone().replace(tzinfo=None)
    assert local["登记表（补充）.xlsx"].received == sent
    assert "netreg" in dovecot.log()  # the ID command 126/163 need

    again = intake_mail(campaign)
    assert again.exit_code == 0 and "没有新邮件" in again.output
    assert len(Ledger.open(campaign).files()) == 5 and len(Ledger.open(campaign).submissions()) == 4
    assert dovecot.password.encode() not in (campaign / "netreg.db").read_bytes()
    assert dovecot.password not in (campaign / "netreg.toml").read_text(encoding="utf-8")

    status = json.loads(CliRunner().invoke(app, ["status", "--campaign", str(campaign), "--units",
                                                 str(campaign / "单位名单.csv"), "--as-of", "2025-11-28",
                                                 "--format", "json"]).stdout)
    units = {u["unit"]: u for u in status["units"]}
    # 医学院's second message held only a file already recorded: a repeat, not a second submission
    assert units["护理学院"]["late"] and not units["团委"]["late"] and units["医学院"]["submissions"] == 1


def test_a_wrong_password_is_one_chinese_line_and_exit_2(campaign, dovecot, monkeypatch):  # noqa: F811
    monkeypatch.setenv("NETREG_MAIL_PASSWORD", "wrong-授权码-123")
    result = intake_mail(campaign)
    assert result.exit_code == 2 and "无法登录邮箱" in result.output
    assert "wrong-授权码-123" not in result.output and "Traceback" not in result.output
    assert b"wrong" not in (campaign / "netreg.db").read_bytes()
