"""netreg remind (SPEC §9, issue 13): letters (.docx), e-mail drafts (.eml) and 催报名单.xlsx for
the units to chase, and --send through a real SMTP server (aiosmtpd, in-process)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from email import policy
from email.parser import BytesParser
from pathlib import Path

import docx
import openpyxl
import pytest
import builders
from builders import GROUP, SITE, first_data_row, letter
from typer.testing import CliRunner

from netreg.cli import app
from netreg.model.forms import FORMS_BY_ID

# 组织部 has no address: a letter, no draft
UNITS_TABLE = ("单位,联系人,电话,邮箱\n图书馆,李老师,13800000001,tsg@x.edu.cn\n"
               "医学院,王老师,13800000002,yxy@x.edu.cn；yxb@x.edu.cn\n团委,赵老师,13800000003,tw@x.edu.cn\n"
               "组织部,钱老师,13800000004,\n护理学院,孙老师,13800000005,hl@x.edu.cn\n")
PASSWORD = "s3cret-AUTH-8472"
AS_OF = "2025-11-28"


def cli(*args: str, campaign: Path):
    result = CliRunner().invoke(app, [*args, "--campaign", str(campaign)], terminal_width=200)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def whole(unit: str, path: Path, **forms) -> Path:
    return builders.whole(unit, path, own_account=True, **forms)


def make_campaign(root: Path) -> Path:
    folder = root / "活动"
    assert CliRunner().invoke(app, ["init", str(folder)]).exit_code == 0
    toml = folder / "netreg.toml"
    lines = toml.read_text(encoding="utf-8").replace('deadline = "11月25日"', 'deadline = "2025-11-25"').splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("units = ["))
    end = next(i for i in range(start, len(lines)) if lines[i].rstrip().endswith("]"))
    text = "\n".join(lines[:start] + ['units = "单位名单.csv"'] + lines[end + 1:]) + "\n"
    toml.write_text(text.replace('user = ""', 'user = "lhzyxc99@126.com"'), encoding="utf-8")
    (folder / "单位名单.csv").write_text(UNITS_TABLE, encoding="utf-8")
    sent = root / "收到"
    whole("图书馆", sent / "图书馆.xlsx")  # clean, on time, paper recorded: nothing to chase
    whole("医学院", sent / "医学院.xlsx", f1=[{**SITE, "phone": "12345"}],  # two errors
          f4=[{**GROUP, "real_name": "否"}, {**GROUP, "group_name": "学生群", "members": 80}])
    book = openpyxl.load_workbook(whole("团委", root / "团委.xlsx"))
    del book[FORMS_BY_ID[4].sheet]  # 附件4 left out
    book.save(sent / "团委.xlsx")
    assert cli("intake", str(sent), "--received", "2025-11-20 09:00", campaign=folder).exit_code == 0
    late = whole("护理学院", root / "晚到" / "护理学院.xlsx")  # clean but late
    assert cli("intake", str(late), "--received", "2025-11-27 16:30", campaign=folder).exit_code == 0
    assert cli("paper", "图书馆", "--date", "2025-11-24", campaign=folder).exit_code == 0
    return folder  # 组织部 sent nothing


@pytest.fixture(scope="module")
def reminded(tmp_path_factory):
    folder = make_campaign(tmp_path_factory.mktemp("remind"))
    result = cli("remind", "--as-of", AS_OF, campaign=folder)
    assert result.exit_code == 0, result.output
    return folder, result.stdout


def text_of(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def read_eml(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def test_letters_only_for_the_units_that_need_them_each_saying_what_is_wrong(reminded):
    folder, out = reminded
    made = sorted(p.name for p in (folder / "催报").iterdir())
    assert made == sorted(["医学院-整改通知.docx", "医学院-整改通知.eml", "团委-催报通知.docx", "团委-催报通知.eml",
                           "组织部-催报通知.docx", "护理学院-催报通知.docx", "护理学院-催报通知.eml", "催报名单.xlsx"])
    assert "图书馆" not in out
    assert "单位名单中没有组织部的邮箱，未生成邮件草稿" in out
    phone_col = letter(FORMS_BY_ID[1], "phone")
    real_col = letter(FORMS_BY_ID[4], "real_name")
    row = first_data_row(FORMS_BY_ID[4])
    rectify = text_of(folder / "催报" / "医学院-整改通知.docx")
    assert "关于整改" in rectify and "医学院：" in rectify and "有以下 2 处错误" in rectify
    assert f"附件1 第{first_data_row(FORMS_BY_ID[1])}行 {phone_col}列“联系电话”" in rectify
    assert f"附件4 第{row}行 {real_col}列“是否全部实名”" in rectify and "实名管理" in rectify
    assert "“12345”不是有效的电话号码" in rectify
    assert "一式两份送至党委宣传统战部308室" in rectify  # its paper copy is not in yet
    assert "lhzyxc99@126.com" in rectify and "2025年11月28日" in rectify
    missing = text_of(folder / "催报" / "团委-催报通知.docx")
    assert "缺少附件4《网络工作群组登记备案表》" in missing and "补报" in missing and "附件1《" not in missing
    nothing = text_of(folder / "催报" / "组织部-催报通知.docx")
    assert "未收到贵单位报送的登记表" in nothing and "五张登记表（附件1～5）" in nothing
    assert "各单位应于2025年11月25日前报送" in nothing and "报送截止日期已过" in nothing
    assert "请于2025年12月3日前" in nothing  # three working days after Friday 28 November
    late = text_of(folder / "催报" / "护理学院-催报通知.docx")
    assert "2025年11月27日收到，晚于报送截止日期（2025年11月25日），已逾期" in late
    assert "尚未收到贵单位加盖公章的纸质版" in late and "一式两份" in late and "错误" not in late


def test_the_letter_is_an_a4_chinese_document(reminded):
    folder, _ = reminded
    path = folder / "催报" / "医学院-整改通知.docx"
    document = docx.Document(str(path))
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert {round(getattr(section, m).cm, 2) for m in ("left_margin", "right_margin", "top_margin", "bottom_margin")} == {2.5}
    xml = document.styles.element.xml
    assert 'w:eastAsia="仿宋"' in xml and 'w:eastAsia="黑体"' in xml
    assert document.paragraphs[0].text == "漯河职业技术学院党委宣传统战部"
    assert document.core_properties.author == "党委宣传统战部"
    [table] = document.tables
    assert [c.text for c in table.rows[0].cells] == ["序号", "位置", "问题及修改要求"] and len(table.rows) == 3
    assert document.paragraphs[-1].text == "2025年11月28日" and document.paragraphs[-1].alignment == 2  # right


def test_drafts_are_addressed_to_the_unit_with_the_letter_and_the_annotated_workbook(reminded, tmp_path):
    folder, _ = reminded
    msg = read_eml(folder / "催报" / "医学院-整改通知.eml")
    assert [a.addr_spec for a in msg["To"].addresses] == ["yxy@x.edu.cn", "yxb@x.edu.cn"]
    assert msg["From"].addresses[0].addr_spec == "lhzyxc99@126.com"
    assert msg["From"].addresses[0].display_name == "漯河职业技术学院党委宣传统战部"
    assert msg["Subject"].startswith("医学院：关于整改") and msg["X-Unsent"] == "1"
    body = msg.get_body(("plain",)).get_content()
    assert "附件4 第5行" in body and "是否全部实名" in body and "医学院-修改意见.xlsx" in body
    files = {part.get_filename(): part.get_content() for part in msg.iter_attachments()}
    assert sorted(files) == ["医学院-修改意见.xlsx", "医学院-整改通知.docx"]
    (tmp_path / "a.xlsx").write_bytes(files["医学院-修改意见.xlsx"])
    book = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert book.sheetnames[0] == "修改意见" and "附件4" in book.sheetnames
    assert book["附件4"][f"{letter(FORMS_BY_ID[4], 'real_name')}5"].comment is not None
    (tmp_path / "a.docx").write_bytes(files["医学院-整改通知.docx"])
    assert "是否全部实名" in text_of(tmp_path / "a.docx")
    other = read_eml(folder / "催报" / "团委-催报通知.eml")
    assert other["To"].addresses[0].addr_spec == "tw@x.edu.cn" and len(other["To"].addresses) == 1
    assert [p.get_filename() for p in other.iter_attachments()] == ["团委-催报通知.docx"]
    assert "缺少附件4" in other.get_body(("plain",)).get_content()


def test_the_list_to_chase(reminded):
    folder, _ = reminded
    ws = openpyxl.load_workbook(folder / "催报" / "催报名单.xlsx").active
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert rows[0] == ["单位", "联系人", "电话", "邮箱", "状态", "逾期", "纸质版", "需要做什么"]
    by_unit = {r[0]: r for r in rows[1:]}
    assert list(by_unit) == ["医学院", "团委", "组织部", "护理学院"]
    assert by_unit["医学院"][1:7] == ["王老师", "13800000002", "yxy@x.edu.cn、yxb@x.edu.cn", "需整改", None, "未交"]
    assert "整改错误 2 处" in by_unit["医学院"][7]
    assert by_unit["团委"][4] == "需补报" and "补报附件4" in by_unit["团委"][7]
    assert by_unit["组织部"][3:6] == ["（无）", "未报送", "逾期"] and "五张登记表" in by_unit["组织部"][7]
    assert by_unit["护理学院"][4:6] == ["已报送", "逾期"] and "交纸质版" in by_unit["护理学院"][7]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1 and int(ws.page_setup.paperSize) == 9


def test_before_the_deadline_the_letter_asks_by_the_deadline(reminded, tmp_path):
    folder, _ = reminded
    early = cli("remind", "--as-of", "2025-11-22", "-o", str(tmp_path / "早"), campaign=folder)
    assert early.exit_code == 0
    names = sorted(p.name for p in (tmp_path / "早").glob("*.docx"))
    # 护理学院's file had not come yet; nobody is late, no paper copy is due
    assert names == ["医学院-整改通知.docx", "团委-催报通知.docx", "护理学院-催报通知.docx", "组织部-催报通知.docx"]
    text = text_of(tmp_path / "早" / "组织部-催报通知.docx")
    assert "请于2025年11月25日前" in text and "逾期" not in text and "已过" not in text


class Mailbox:
    """An aiosmtpd handler keeping what it received; ``refuse`` addresses get 550 at RCPT."""

    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def use_smtp(folder: Path, port: int, security: str = "none") -> None:
    """The campaign's netreg.toml pointed at the test's SMTP server on 127.0.0.1:``port``."""
    toml = folder / "netreg.toml"
    text = toml.read_text(encoding="utf-8").replace('smtp_host = ""', 'smtp_host = "127.0.0.1"')
    text = text.replace("# smtp_port = 465", f"smtp_port = {port}")
    toml.write_text(text.replace('smtp_security = "ssl"', f'smtp_security = "{security}"'), encoding="utf-8")


def smtp_server(mailbox: Mailbox):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class AnyPort(Controller):  # aiosmtpd 1.4 checks the server at self.port: with port 0, read the bound one first
        def _trigger_server(self):
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    def check(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"lhzyxc99@126.com", PASSWORD.encode()),
                          handled=False)

    return AnyPort(mailbox, hostname="127.0.0.1", port=0, authenticator=check, auth_required=True,
                   auth_require_tls=False)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_send_records_every_message_never_twice_and_retries_failures(reminded, tmp_path, monkeypatch):
    folder = tmp_path / "活动"
    shutil.copytree(reminded[0], folder)
    mailbox = Mailbox()
    controller = smtp_server(mailbox)
    controller.start()
    try:
        use_smtp(folder, controller.port)
        monkeypatch.setenv("NETREG_MAIL_PASSWORD", PASSWORD)
        # no terminal to confirm on and no --yes: refused, nothing sent
        asked = cli("remind", "--as-of", AS_OF, "--send", campaign=folder)
        assert asked.exit_code == 2 and "请加 --yes" in asked.output and mailbox.received == []
        # a wrong 授权码: said once, in Chinese, and nothing is tried (issue 25 item 12)
        monkeypatch.setenv("NETREG_MAIL_PASSWORD", "wrong")
        wrong = cli("remind", "--as-of", AS_OF, "--send", "--yes", campaign=folder)
        assert wrong.exit_code == 1 and wrong.output.count("登录失败：用户名或授权码不正确") == 1
        assert "其余 3 封没有发送" in wrong.output
        monkeypatch.setenv("NETREG_MAIL_PASSWORD", PASSWORD)
        # 团委's address is refused by the server
        mailbox.refuse = {"tw@x.edu.cn"}
        first = cli("remind", "--as-of", AS_OF, "--send", "--yes", campaign=folder)
        assert first.exit_code == 1, first.output
        assert "将从 lhzyxc99@126.com 发送 3 封邮件" in first.output
        assert "医学院（yxy@x.edu.cn、yxb@x.edu.cn）" in first.output
        assert "团委：发送失败——收件人 tw@x.edu.cn 被邮件服务器拒收（代码 550）" in first.output
        assert "医学院：已发送至 yxy@x.edu.cn、yxb@x.edu.cn" in first.output and "已发送 2 封，失败 1 封" in first.output
        assert "Mailbox unavailable" not in first.output
        assert [(m[0], m[1]) for m in mailbox.received] == [
            ("lhzyxc99@126.com", ["yxy@x.edu.cn", "yxb@x.edu.cn"]), ("lhzyxc99@126.com", ["hl@x.edu.cn"])]
        # the next run sends only the one that failed
        mailbox.refuse = set()
        second = cli("remind", "--as-of", AS_OF, "--send", "--yes", campaign=folder)
        assert second.exit_code == 0, second.output
        assert "医学院：这份通知已发送过（" in second.output and "护理学院：这份通知已发送过（" in second.output
        assert "团委：已发送至 tw@x.edu.cn" in second.output and len(mailbox.received) == 3
        third = cli("remind", "--as-of", AS_OF, "--send", "--yes", campaign=folder)
        assert third.exit_code == 0 and "没有需要发送的邮件" in third.output and len(mailbox.received) == 3
    finally:
        controller.stop()
    sent = {}
    for _, rcpt, raw in mailbox.received:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        sent[rcpt[0]] = msg
        assert msg["X-Unsent"] is None and [a.addr_spec for a in msg["To"].addresses] == rcpt
    assert sent["yxy@x.edu.cn"]["Subject"].startswith("医学院：")
    assert sorted(p.get_filename() for p in sent["yxy@x.edu.cn"].iter_attachments()) == \
        ["医学院-修改意见.xlsx", "医学院-整改通知.docx"]
    assert [p.get_filename() for p in sent["tw@x.edu.cn"].iter_attachments()] == ["团委-催报通知.docx"]
    db = sqlite3.connect(folder / "netreg.db")
    rows = db.execute("SELECT unit, kind, recipients, error FROM letters ORDER BY id").fetchall()
    db.close()
    assert [r[0] for r in rows if r[3] is None] == ["医学院", "护理学院", "团委"]
    assert next(r[:3] for r in rows if r[3] is None) == ("医学院", "整改", "yxy@x.edu.cn,yxb@x.edu.cn")
    failed = [r for r in rows if r[3] is not None]
    assert len(failed) == 1 and "拒收" in failed[0][3]
    # the password: never shown, never on disk
    for result in (asked, wrong, first, second, third):
        assert PASSWORD not in result.output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_an_smtp_server_that_is_not_there_is_one_chinese_line(reminded, tmp_path, monkeypatch):
    import socket

    folder = tmp_path / "活动"
    shutil.copytree(reminded[0], folder)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    toml = folder / "netreg.toml"
    text = toml.read_text(encoding="utf-8").replace('smtp_host = ""', 'smtp_host = "127.0.0.1"')
    text = text.replace("# smtp_port = 465", f"smtp_port = {port}").replace('smtp_security = "ssl"', 'smtp_security = "none"')
    toml.write_text(text, encoding="utf-8")
    monkeypatch.setenv("NETREG_MAIL_PASSWORD", PASSWORD)
    result = cli("remind", "--as-of", AS_OF, "--send", "--yes", campaign=folder)
    assert result.exit_code == 1
    assert result.output.count(f"无法连接邮件服务器 127.0.0.1:{port}：服务器拒绝连接") == 1
    assert "Errno" not in result.output and "refused" not in result.output.lower()


def test_the_letter_prints_on_one_or_two_a4_pages(reminded, tmp_path):
    from office import convert

    folder, _ = reminded
    pdf = convert(folder / "催报" / "医学院-整改通知.docx", "pdf", tmp_path)
    for tool in ("pdftotext", "pdfinfo"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} (poppler-utils) is needed to read the printed letter")
    text = "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert "医学院：" in text and f"附件4第5行{letter(FORMS_BY_ID[4], 'real_name')}列“是否全部实名”" in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert 1 <= pages <= 2
    assert "(A4)" in info and "595.3" in info  # A4 portrait (595.3 x 841.9 pt)


@pytest.fixture(scope="module")
def tls_ca():
    """A CA of the test's own (trustme) and a server certificate it signed for 127.0.0.1."""
    trustme = pytest.importorskip("trustme") if os.environ.get("CI") != "true" else __import__("trustme")
    ca = trustme.CA()
    return ca, ca.issue_cert("127.0.0.1", "localhost")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_send_over_an_encrypted_connection_trusts_only_a_verified_server(reminded, tmp_path, monkeypatch, tls_ca,
                                                                          security):
    """465 (ssl) and 587 (starttls), as 126/163 and school servers offer them: the letters go
    through when the server's certificate verifies; with a certificate nobody vouches for, no
    password is sent and one Chinese line says why."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    ca, cert = tls_ca
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    logins = []

    def check(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.login)
        return AuthResult(success=auth_data.password == PASSWORD.encode(), handled=False)

    class AnyPort(Controller):
        def _trigger_server(self):
            self.port = self.server.sockets[0].getsockname()[1]
            if security == "ssl":  # aiosmtpd's own check connects in plain text first: wrap it
                import socket

                with socket.create_connection((self.hostname, self.port), 5) as s, \
                        ca_client().wrap_socket(s, server_hostname=self.hostname) as tls:
                    tls.recv(1024)
                return
            super()._trigger_server()

    def ca_client():
        ctx = ssl.create_default_context()
        ca.configure_trust(ctx)
        return ctx

    # aiosmtpd offers AUTH only after STARTTLS unless told the connection needs no more (on
    # implicit TLS, port 465, it already is encrypted)
    tls = ({"ssl_context": server_ctx, "auth_require_tls": False} if security == "ssl"
           else {"tls_context": server_ctx, "require_starttls": True})
    mailbox = Mailbox()
    controller = AnyPort(mailbox, hostname="127.0.0.1", port=0, authenticator=check, auth_required=True, **tls)
    controller.start()
    try:
        folder = tmp_path / "活动"
        shutil.copytree(reminded[0], folder)
        toml = folder / "netreg.toml"
        text = toml.read_text(encoding="utf-8").replace('smtp_host = ""', 'smtp_host = "127.0.0.1"')
        text = text.replace("# smtp_port = 465", f"smtp_port = {controller.port}")
        toml.write_text(text.replace('smtp_security = "ssl"', f'smtp_security = "{security}"'), encoding="utf-8")
        monkeypatch.setenv("NETREG_MAIL_PASSWORD", PASSWORD)
        # the machine's own trust store does not know this CA: refused before any login
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nothing.pem"))
        untrusted = cli("remind", "--as-of", AS_OF, "--send", "--yes", campaign=folder)
        assert untrusted.exit_code == 1, untrusted.output
        assert untrusted.output.count("服务器证书无法验证") == 1 and logins == [] and mailbox.received == []
        assert "CERTIFICATE" not in untrusted.output.upper()
        # trusted (SSL_CERT_FILE: what OpenSSL reads for the default trust store)
        pem = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(pem))
        monkeypatch.setenv("SSL_CERT_FILE", str(pem))
        sent = cli("remind", "--as-of", AS_OF, "--send", "--yes", campaign=folder)
        assert sent.exit_code == 0, sent.output
        assert "已发送 3 封" in sent.output and len(mailbox.received) == 3 and len(logins) == 1
    finally:
        controller.stop()
