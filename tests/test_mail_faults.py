"""The campaign mailbox under hostile and broken mail, against a real Dovecot (issue 25): no
message ever stops the mailbox for good."""

from __future__ import annotations

import base64

import pytest
from dovecot import dovecot, dovecot_server  # noqa: F401  (fixtures)
from test_campaign_mail import XLSX, campaign, intake_mail, message, workbook  # noqa: F401

from netreg.campaign.ledger import Ledger


def long_named(sender: str, when: str, name_header: str, data: bytes) -> bytes:
    """A message whose attachment's filename parameter is given as is (already encoded)."""
    return (f"From: {sender}\r\nTo: office@x.edu.cn\r\nSubject: 报送\r\nDate: {when}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
            f"--B\r\nContent-Type: {XLSX}\r\nContent-Disposition: attachment; filename=\"{name_header}\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode() + base64.encodebytes(data) + b"--B--\r\n"


def test_a_long_attachment_name_never_poisons_the_mailbox(campaign, dovecot, tmp_path):  # noqa: F811
    """Names were cut to 200 characters, but a name is limited to 255 bytes: 84+ Chinese characters
    made the temporary copy fail, the run end in 程序内部出错 and every later run die at the same
    message. Now the copy has a name of our own and the long name is only shown, cut in bytes."""
    medicine = workbook(tmp_path, "医学院", "医学院.xlsx")
    chinese = "医学院网站平台新媒体平台工作群组及网络大V登记备案表" * 6 + ".xlsx"  # 162 characters, 470 bytes
    word = "=?utf-8?b?" + base64.b64encode("登记表".encode()).decode() + "?="
    words = " ".join([word] * 20_000)  # a 20,000-word RFC 2047 name
    dovecot.deliver(long_named("yxy@x.edu.cn", "Thu, 20 Nov 2025 09:15:00 +0800",
                               "=?utf-8?b?" + base64.b64encode(chinese.encode()).decode() + "?=", medicine))
    dovecot.deliver(long_named("tw@x.edu.cn", "Thu, 20 Nov 2025 10:00:00 +0800", words,
                               workbook(tmp_path, "团委", "团委.xlsx")))
    dovecot.deliver(message("hl@x.edu.cn", "护理学院", "Fri, 21 Nov 2025 08:00:00 +0800",
                            [("护理学院.xlsx", workbook(tmp_path, "护理学院", "护理学院.xlsx"))]))

    first = intake_mail(campaign)
    assert first.exit_code == 0, first.output
    assert "程序内部出错" not in first.output and "共收取 3 封新邮件" in first.output
    subs = Ledger.open(campaign).files()
    assert {s.unit for s in subs} == {"医学院", "团委", "护理学院"}
    assert all(s.state == "new" for s in subs)
    long_one = next(s for s in subs if s.unit == "医学院")
    assert long_one.name.endswith(".xlsx") and long_one.name.startswith("医学院网站平台")
    assert len(long_one.name.encode("utf-8")) <= 200
    assert not list((campaign / ".netreg-work").glob("*/*"))  # no scratch copy left behind
    again = intake_mail(campaign)
    assert again.exit_code == 0 and "没有新邮件" in again.output


def test_a_message_that_cannot_be_recorded_is_set_aside_and_the_queue_goes_on(campaign, dovecot, tmp_path,  # noqa: F811
                                                                              monkeypatch):
    dovecot.deliver(message("yxy@x.edu.cn", "坏邮件", "Thu, 20 Nov 2025 09:15:00 +0800",
                            [("医学院.xlsx", workbook(tmp_path, "医学院", "医学院.xlsx"))]))
    dovecot.deliver(message("tw@x.edu.cn", "团委报送", "Thu, 20 Nov 2025 10:00:00 +0800",
                            [("团委.xlsx", workbook(tmp_path, "团委", "团委.xlsx"))]))
    monkeypatch.setenv("NETREG_FAULT", "mail-message=坏邮件")  # recording this one message fails
    first = intake_mail(campaign)
    assert first.exit_code == 0, first.output
    assert "无法登记" in first.output and "共收取 2 封新邮件" in first.output
    ledger = Ledger.open(campaign)
    assert [s.unit for s in ledger.submissions()] == ["团委"]
    kept = ledger.db.execute("SELECT kept, done FROM messages WHERE subject = '坏邮件'").fetchone()
    assert kept[1] == 2 and (campaign / "收件" / kept[0]).read_bytes().startswith(b"Return-Path") or \
        b"Subject" in (campaign / "收件" / kept[0]).read_bytes()
    monkeypatch.delenv("NETREG_FAULT")
    again = intake_mail(campaign)
    assert again.exit_code == 0 and "没有新邮件" in again.output


@pytest.mark.parametrize("name", ["a" * 300 + ".xlsx", "名" * 120 + ".xlsx", "名" * 120])
def test_safe_names_fit_in_255_bytes(name):
    from netreg.intake.mail import safe_name

    safe = safe_name(name)
    assert len(safe.encode("utf-8")) <= 180 and safe
    assert safe.endswith(".xlsx") == name.endswith(".xlsx")


def raw_message(sender_header: str, subject_header: str, parts: list[bytes]) -> bytes:
    body = b"".join(b"--B\r\n" + p + b"\r\n" for p in parts)
    return (f"From: {sender_header}\r\nTo: office@x.edu.cn\r\nSubject: {subject_header}\r\n"
            "Date: Thu, 20 Nov 2025 09:15:00 +0800\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="B"\r\n\r\n').encode() + body + b"--B--\r\n"


def test_strange_but_honest_mail_is_read_and_hostile_text_never_reaches_the_terminal_raw(campaign, dovecot,  # noqa: F811
                                                                                          tmp_path):
    """Issue 25 items 5, 8, 9 and issue 22's encoded From: a workbook part with no file name and
    no Content-Disposition is the unit's return (it was 没有附件); terminal escapes in a subject
    are shown, not obeyed, and a long subject is cut; 150 parts are not 150 submissions."""
    book = workbook(tmp_path, "医学院", "医学院.xlsx")
    nameless = (f"Content-Type: {XLSX}\r\nContent-Transfer-Encoding: base64\r\n\r\n").encode() + base64.encodebytes(book)
    text = b"Content-Type: text/plain; charset=utf-8\r\n\r\nqing cha shou"
    sender = "=?utf-8?b?" + base64.b64encode("王老师 <yxy@x.edu.cn>".encode()).decode() + "?="
    hostile = "\x1b]0;pwned\x07\x1b[2J" + "长" * 5000
    subject = "=?utf-8?b?" + base64.b64encode(hostile.encode()).decode() + "?="
    dovecot.deliver(raw_message(sender, subject, [text, nameless]))
    many = [(f"Content-Type: text/csv\r\nContent-Disposition: attachment; filename=\"{n}.csv\"\r\n\r\n"
             "a,b\r\n1,2").encode() for n in range(150)]
    dovecot.deliver(raw_message("tw@x.edu.cn", "many", many))
    result = intake_mail(campaign)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "\\x1b" in result.output
    assert max(len(line) for line in result.output.splitlines()) < 400
    ledger = Ledger.open(campaign)
    first = ledger.submissions()[0]
    assert first.unit == "医学院" and first.sender == "yxy@x.edu.cn" and len(first.files) == 1
    assert first.files[0].forms  # the nameless workbook was read
    assert len(ledger.files()) <= 101 and "其余 50 个附件" in result.output


def test_two_mail_intakes_at_once_the_second_says_so(campaign, dovecot, tmp_path):  # noqa: F811
    """Issue 25 item 11: the seen-check was outside the write lock, so two runs both fetched
    every message. Now one run at a time holds the campaign's mailbox lock."""
    from netreg.util.workdir import exclusive

    dovecot.deliver(message("yxy@x.edu.cn", "医学院", "Thu, 20 Nov 2025 09:15:00 +0800",
                            [("医学院.xlsx", workbook(tmp_path, "医学院", "医学院.xlsx"))]))
    with exclusive(campaign, "mailbox"):  # another run is fetching
        second = intake_mail(campaign)
    assert second.exit_code == 2 and "另一个 netreg 正在收取" in second.output
    assert Ledger.open(campaign).files() == []
    first = intake_mail(campaign)  # the lock is free again
    assert first.exit_code == 0 and len(Ledger.open(campaign).files()) == 1
