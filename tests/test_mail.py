"""Reading the campaign mailbox (netreg.intake.mail) against a real Dovecot: what arrives is what
the sender attached, with the names they gave, and nothing in the mailbox changes."""

from __future__ import annotations

import base64
import io
import os
import re
import select
import signal
import socket
import sys
import time
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from email.message import EmailMessage
from urllib.parse import quote

import pytest
from dovecot import dovecot, dovecot_server, free_port  # noqa: F401  (fixtures)

from netreg import __version__
from netreg.intake.mail import MailError, fetch_new, parse_message, password_from_env_or_prompt

GB_NAME = "医学院登记表.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def fetch(box, security="none", seen=lambda validity, uid: False, **changes):
    mail = box.mail_settings(security, **changes)
    return list(fetch_new(mail, box.password, seen, ssl_context=box.ssl_context(), timeout=10))


def raw_mail(parts: list[bytes], *, sender=b"unit@example.edu.cn", subject=b"report",
             date_header=b"Date: Tue, 02 Dec 2025 09:30:00 +0800\r\n") -> bytes:
    """A multipart/mixed message written byte by byte, as the sender's client wrote it."""
    head = (b"From: " + sender + b"\r\nTo: office@example.edu.cn\r\nSubject: " + subject + b"\r\n"
            + date_header + b"Message-ID: <m1@example.edu.cn>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\r\n\r\n")
    body = b"--BOUNDARY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "请查收。".encode() + b"\r\n"
    for part in parts:
        body += b"--BOUNDARY\r\n" + part + b"\r\n"
    return head + body + b"--BOUNDARY--\r\n"


def attachment(header_params: bytes, data: bytes, ctype: bytes = XLSX.encode()) -> bytes:
    return (b"Content-Type: " + ctype + b"\r\nContent-Disposition: attachment; " + header_params
            + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(data))


def simple(subject="登记表", sender="单位 <unit@example.edu.cn>", files=(), when=None,
           message_id="<20251202093000.1@mail.example.edu.cn>") -> EmailMessage:
    msg = EmailMessage()
    msg["Message-ID"] = message_id
    msg["From"] = sender
    msg["To"] = "office@example.edu.cn"
    msg["Subject"] = subject
    if when is not None:
        msg["Date"] = when
    msg.set_content("见附件。")
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg


CONFIG_WORDS = ("netreg.toml", "imap_host", "imap_port", "imap_security", "starttls", "ssl", "none",
                "STARTTLS", "TLS")


def assert_chinese_only(text: str, *names: str) -> None:
    """One line, and no English word besides the names the user gave (address, server) and
    the settings it tells them to change."""
    assert "\n" not in text
    for word in (*names, *CONFIG_WORDS):
        text = text.replace(word, "")
    assert not re.search(r"[A-Za-z]{2,}", text), text


# --- connecting -------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["none", "starttls", "ssl"])
def test_each_connection_security_reads_the_message_the_unit_sent(dovecot, security):
    uid = dovecot.deliver(simple(files=[("法学院.xlsx", b"PK\x03\x04 sheet")],
                                 when="Tue, 02 Dec 2025 09:30:00 +0800"))
    [msg] = fetch(dovecot, security)
    assert msg.uid == uid and msg.uidvalidity > 0
    assert msg.sender == "unit@example.edu.cn" and msg.sender_name == "单位"
    assert msg.subject == "登记表"
    assert msg.received == datetime(2025, 12, 2, 1, 30, tzinfo=UTC)
    assert msg.received.tzinfo is not None
    assert msg.message_id == "<20251202093000.1@mail.example.edu.cn>"
    assert [(a.name, a.data) for a in msg.attachments] == [("法学院.xlsx", b"PK\x03\x04 sheet")]


def test_tls_checks_the_certificate_by_default(dovecot):
    dovecot.deliver(simple())
    mail = dovecot.mail_settings("ssl")
    with pytest.raises(MailError) as caught:
        list(fetch_new(mail, dovecot.password, lambda v, u: False, timeout=10))  # system CAs only
    text = str(caught.value)
    assert text.startswith(f"无法连接邮件服务器 127.0.0.1:{dovecot.ssl_port}：服务器证书无法验证")
    assert_chinese_only(text)


def test_tls_on_the_plain_port_is_a_handshake_failure_in_chinese(dovecot):
    mail = dovecot.mail_settings("ssl", imap_port=dovecot.port)
    with pytest.raises(MailError) as caught:
        list(fetch_new(mail, dovecot.password, lambda v, u: False, ssl_context=dovecot.ssl_context(),
                       timeout=5))
    assert str(caught.value).startswith(f"无法连接邮件服务器 127.0.0.1:{dovecot.port}：TLS 握手失败")
    assert_chinese_only(str(caught.value))


def test_a_wrong_password_says_so_in_chinese_without_the_password(dovecot):
    wrong = "Wrong-Secret-xyz"
    mail = dovecot.mail_settings("ssl")
    with pytest.raises(MailError) as caught:
        list(fetch_new(mail, wrong, lambda v, u: False, ssl_context=dovecot.ssl_context(), timeout=10))
    text = str(caught.value)
    assert text == (f"无法登录邮箱 {dovecot.user}：用户名或授权码不正确"
                    "（126/163 邮箱请使用“授权码”，不是网页登录密码）")
    assert wrong not in text and dovecot.password not in text
    assert_chinese_only(text, dovecot.user)


def test_nothing_listening_is_a_refused_connection_in_chinese():
    port = free_port()
    from netreg.config import Mail

    mail = Mail(imap_host="127.0.0.1", imap_port=port, imap_security="ssl", user="a@example.edu.cn")
    with pytest.raises(MailError) as caught:
        list(fetch_new(mail, "secret-pw", lambda v, u: False, timeout=5))
    assert str(caught.value) == f"无法连接邮件服务器 127.0.0.1:{port}：服务器拒绝连接（请检查端口 imap_port 是否正确）"


def test_a_server_that_never_answers_times_out_in_chinese():
    from netreg.config import Mail

    with socket.socket() as silent:  # accepts connections (the kernel does) and never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        port = silent.getsockname()[1]
        mail = Mail(imap_host="127.0.0.1", imap_port=port, imap_security="none", user="a@example.edu.cn")
        started = time.monotonic()
        with pytest.raises(MailError) as caught:
            list(fetch_new(mail, "secret-pw", lambda v, u: False, timeout=0.5))
        assert time.monotonic() - started < 5
    assert str(caught.value).startswith(f"无法连接邮件服务器 127.0.0.1:{port}：连接超时")
    assert_chinese_only(str(caught.value))


def test_an_unknown_server_name_says_it_cannot_be_found():
    from netreg.config import Mail

    mail = Mail(imap_host="imap.nonexistent.invalid", imap_security="ssl", user="a@example.edu.cn")
    with pytest.raises(MailError) as caught:
        list(fetch_new(mail, "secret-pw", lambda v, u: False, timeout=5))
    assert str(caught.value).startswith("无法连接邮件服务器 imap.nonexistent.invalid:993：找不到这台服务器")
    assert_chinese_only(str(caught.value), "imap.nonexistent.invalid")


def test_the_client_says_who_it_is_after_login(dovecot):
    """126/163 refuse SELECT without the ID command; Dovecot logs what it received."""
    dovecot.deliver(simple())
    fetch(dovecot, "ssl")
    lines = [line for line in dovecot.log().splitlines()
             if f"imap({dovecot.user})" in line and "ID sent" in line]
    assert lines and f"name=netreg, version={__version__}" in lines[-1]


def test_a_missing_folder_is_named_and_a_chinese_folder_is_read(dovecot):
    uid = dovecot.deliver(simple(subject="第二轮"), folder="&YqWQAQ-")  # 报送, as IMAP spells it
    dovecot.deliver(simple(subject="收件箱里的"))
    assert "报送" in dovecot.folders()
    [msg] = fetch(dovecot, folder="报送")
    assert (msg.uid, msg.subject) == (uid, "第二轮")
    with pytest.raises(MailError) as caught:
        fetch(dovecot, folder="回收")
    assert str(caught.value).startswith("邮箱中没有文件夹 “回收”")


# --- what is fetched --------------------------------------------------------------------------


def test_seen_messages_are_not_fetched_again(dovecot):
    first = dovecot.deliver(simple(subject="第一封"))
    remembered: set[tuple[int, int]] = set()

    def seen(validity, uid):
        return (validity, uid) in remembered

    got = fetch(dovecot, seen=seen)
    assert [m.uid for m in got] == [first]
    remembered.update((m.uidvalidity, m.uid) for m in got)
    assert fetch(dovecot, seen=seen) == []
    second = dovecot.deliver(simple(subject="第二封"))
    assert [(m.uid, m.subject) for m in fetch(dovecot, seen=seen)] == [(second, "第二封")]


def test_since_leaves_out_messages_received_before_that_day(dovecot):
    old = datetime(2025, 9, 1, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    dovecot.deliver(simple(subject="上一轮", when="Mon, 01 Sep 2025 10:00:00 +0800"), received=old)
    new = dovecot.deliver(simple(subject="本轮", when="Mon, 01 Dec 2025 10:00:00 +0800"),
                          received=datetime(2025, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=8))))
    assert [m.subject for m in fetch(dovecot)] == ["上一轮", "本轮"]
    assert [(m.uid, m.subject) for m in fetch(dovecot, since=date(2025, 11, 20))] == [(new, "本轮")]


def test_reading_changes_no_flag_in_the_mailbox(dovecot):
    unread = dovecot.deliver(simple(subject="未读"))
    flagged = dovecot.deliver(simple(subject="已加星标"), flags="(\\Flagged)")
    before = {uid: f.replace("\\Recent", "").strip() for uid, f in dovecot.flags().items()}
    assert before == {unread: "", flagged: "\\Flagged"}
    assert len(fetch(dovecot, "ssl")) == 2
    after = {uid: f.replace("\\Recent", "").strip() for uid, f in dovecot.flags().items()}
    assert after == before  # in particular no \Seen: the message still shows as unread


def test_stopping_early_still_logs_out(dovecot):
    dovecot.deliver(simple(subject="一"))
    dovecot.deliver(simple(subject="二"))
    mail = dovecot.mail_settings("none")
    messages = fetch_new(mail, dovecot.password, lambda v, u: False, timeout=10)
    assert next(messages).subject == "一"
    messages.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        ended = [line for line in dovecot.log().splitlines()
                 if f"imap({dovecot.user})" in line and "Disconnected" in line]
        if ended:
            break
        time.sleep(0.05)
    assert ended and "Logged out" in ended[-1]


# --- names and contents of attachments ---------------------------------------------------------


def test_a_gb18030_encoded_word_inside_the_quoted_filename(dovecot):
    word = b"=?gb18030?b?" + base64.b64encode(GB_NAME.encode("gb18030")) + b"?="
    dovecot.deliver(raw_mail([attachment(b'filename="' + word + b'"', b"sheet bytes")]))
    [msg] = fetch(dovecot)
    assert [(a.name, a.data) for a in msg.attachments] == [(GB_NAME, b"sheet bytes")]


def test_an_rfc2231_utf8_filename_also_split_in_pieces(dovecot):
    name = "附件3 工作群登记表（信息学院）.xlsx"
    encoded = quote(name.encode("utf-8"), safe="")
    whole = attachment(b"filename*=utf-8''" + encoded.encode(), b"one")
    pieces = attachment(b"filename*0*=utf-8''" + encoded[:40].encode() + b";\r\n filename*1*="
                        + encoded[40:].encode(), b"two")
    dovecot.deliver(raw_mail([whole, pieces]))
    [msg] = fetch(dovecot)
    assert [(a.name, a.data) for a in msg.attachments] == [(name, b"one"), (name, b"two")]


def test_a_zip_arrives_byte_for_byte(dovecot):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("医学院/附件1.xlsx", os.urandom(5000))
        z.writestr("医学院/说明.txt", "填报说明".encode("gbk"))
    data = buffer.getvalue()
    msg = simple()
    msg.add_attachment(data, maintype="application", subtype="zip", filename="医学院报送材料.zip")
    dovecot.deliver(msg)
    [got] = fetch(dovecot, "ssl")
    [zipped] = got.attachments
    assert zipped.name == "医学院报送材料.zip" and zipped.data == data
    assert zipfile.ZipFile(io.BytesIO(zipped.data)).namelist() == ["医学院/附件1.xlsx", "医学院/说明.txt"]


def test_attachments_inside_a_forwarded_message_are_found(dovecot):
    inner = simple(subject="原始报送", sender="teacher@example.edu.cn", files=[("护理学院.xlsx", b"inner")])
    outer = simple(subject="转发：原始报送", sender="dean@example.edu.cn", files=[("说明.docx", b"outer")])
    outer.add_attachment(inner)  # message/rfc822
    dovecot.deliver(outer)
    [msg] = fetch(dovecot)
    assert msg.sender == "dean@example.edu.cn" and msg.subject == "转发：原始报送"
    assert sorted((a.name, a.data) for a in msg.attachments) == [("护理学院.xlsx", b"inner"),
                                                                 ("说明.docx", b"outer")]


def test_a_message_without_attachment_is_still_yielded(dovecot):
    msg = EmailMessage()
    msg["From"] = "unit@example.edu.cn"
    msg["Subject"] = "表格稍后发送"
    msg.set_content("今天下午发送。")
    msg.add_alternative("<p>今天下午发送。</p>", subtype="html")
    uid = dovecot.deliver(msg)
    [got] = fetch(dovecot)
    assert (got.uid, got.subject, got.attachments) == (uid, "表格稍后发送", ())


def test_a_gb18030_display_name_is_decoded(dovecot):
    word = b"=?GB18030?B?" + base64.b64encode("信息学院 张老师".encode("gb18030")) + b"?="
    dovecot.deliver(raw_mail([], sender=word + b" <Zhang.Teacher@Example.edu.cn>",
                             subject=b"=?gb2312?b?" + base64.b64encode("报送材料".encode("gb2312")) + b"?="))
    [msg] = fetch(dovecot)
    assert (msg.sender_name, msg.sender, msg.subject) == ("信息学院 张老师", "zhang.teacher@example.edu.cn",
                                                          "报送材料")


# --- parsing without a server ------------------------------------------------------------------


def test_raw_gb18030_bytes_in_headers_are_read_as_chinese():
    raw = raw_mail([attachment('filename="医学院.xlsx"'.encode("gb18030"), b"x")],
                   sender="医学院 <yxy@example.edu.cn>".encode("gb18030"), subject="登记表".encode("gb18030"))
    msg = parse_message(raw)
    assert (msg.sender_name, msg.subject, [a.name for a in msg.attachments]) == ("医学院", "登记表", ["医学院.xlsx"])


def test_names_never_carry_a_folder_or_characters_windows_refuses():
    raw = raw_mail([
        attachment(b'filename="..\\\\..\\\\Windows\\\\evil.xlsx"', b"a"),
        attachment(b'filename="/etc/\xe8\xa1\xa8:1?.xlsx"', b"b"),
        attachment(b'filename="CON.xlsx"', b"c"),
    ])
    assert [a.name for a in parse_message(raw).attachments] == ["evil.xlsx", "表1.xlsx", "_CON.xlsx"]


def test_a_nameless_attachment_is_named_by_number_and_type():
    raw = raw_mail([attachment(b"size=3", b"abc"), attachment(b"size=3", b"zip", ctype=b"application/zip")])
    assert [(a.name, a.data) for a in parse_message(raw).attachments] == [("附件1.xlsx", b"abc"),
                                                                         ("附件2.zip", b"zip")]


def test_inline_parts_with_a_name_count_and_the_body_does_not():
    raw = raw_mail([
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>body</p>",
        b"Content-Type: image/png\r\nContent-Disposition: inline\r\nContent-ID: <logo>\r\n\r\npng-logo",
        (b'Content-Type: text/csv; name="roster.csv"\r\nContent-Disposition: inline; filename="roster.csv"'
         b"\r\n\r\na,b"),
    ])
    assert [(a.name, a.data) for a in parse_message(raw).attachments] == [("roster.csv", b"a,b")]


def test_without_a_date_header_the_server_date_counts():
    arrived = datetime(2025, 12, 3, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    msg = parse_message(raw_mail([], date_header=b""), 7, 42, arrived)
    assert (msg.uidvalidity, msg.uid, msg.received) == (7, 42, arrived)
    bad = parse_message(raw_mail([], date_header=b"Date: yesterday\r\n"), internaldate=arrived)
    assert bad.received == arrived


# --- the password ------------------------------------------------------------------------------


def test_the_password_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("NETREG_MAIL_PASSWORD", "from-env-123")
    assert password_from_env_or_prompt("a@example.edu.cn") == "from-env-123"


def test_without_terminal_or_environment_the_password_is_asked_for_in_chinese(monkeypatch):
    monkeypatch.delenv("NETREG_MAIL_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(MailError) as caught:
        password_from_env_or_prompt("a@example.edu.cn")
    assert "NETREG_MAIL_PASSWORD" in str(caught.value) and "授权码" in str(caught.value)


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX")
def test_at_a_terminal_the_password_is_asked_for_and_not_shown():
    import pty

    code = ("from netreg.intake.mail import password_from_env_or_prompt as p\n"
            "print('length', len(p('a@example.edu.cn')))")
    env = {k: v for k, v in os.environ.items() if k != "NETREG_MAIL_PASSWORD"}
    pid, fd = pty.fork()
    if pid == 0:  # the child, on the pseudo-terminal
        os.execve(sys.executable, [sys.executable, "-c", code], env)

    def read_until(marker: bytes, output: bytes) -> bytes:
        deadline = time.monotonic() + 20
        while marker not in output and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:  # the child ended
                    break
                if not chunk:
                    break
                output += chunk
        return output

    try:
        output = read_until("（输入时不显示）：".encode(), b"")
        os.write(fd, b"typed-secret-42\n")
        output = read_until(b"length 15", output)
    finally:
        if os.waitpid(pid, os.WNOHANG) == (0, 0):  # still waiting for input: end it
            time.sleep(0.5)
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        os.close(fd)
    text = output.decode("utf-8", "replace")
    assert "请输入邮箱 a@example.edu.cn 的密码或授权码（输入时不显示）：" in text
    assert "length 15" in text and "typed-secret-42" not in text
