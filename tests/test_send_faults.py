"""Issue 25, items 2, 12 and 6: remind --send under faults, against a real SMTP server (aiosmtpd,
in-process) that stops, hangs up or stays silent at a chosen step, and runs killed (kill -9)
at a chosen point (NETREG_FAULT); the unit table's 邮箱 column; a full disk (a small tmpfs)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netreg.cli import app
from test_remind import AS_OF, PASSWORD, make_campaign

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
UNITS = ["医学院", "团委", "护理学院"]  # the three letters with an address, in the order they go
ADDRESS = {"医学院": "yxy@x.edu.cn", "团委": "tw@x.edu.cn", "护理学院": "hl@x.edu.cn"}


class Server:
    """An aiosmtpd handler that keeps what it received and misbehaves on cue: ``hang_up_at_mail``
    (the n-th MAIL FROM of the server's life is answered by closing the connection), ``slow``
    (recipient → seconds to wait before the 250 after DATA, once), ``hang_up_after_data``
    (recipient: the message is kept, the connection closed without an answer, once)."""

    def __init__(self):
        self.received: list[tuple[list[str], bytes]] = []
        self.mails = 0
        self.hang_up_at_mail: set[int] = set()
        self.slow: dict[str, float] = {}
        self.hang_up_after_data: set[str] = set()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mails += 1
        if self.mails in self.hang_up_at_mail:
            server.transport.close()
            return "421 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        rcpt = envelope.rcpt_tos[0]
        if rcpt in self.hang_up_after_data:
            self.hang_up_after_data.discard(rcpt)
            server.transport.close()
            return "250 too late"
        if rcpt in self.slow:
            await asyncio.sleep(self.slow.pop(rcpt))
        return "250 Message accepted for delivery"

    def ids(self, unit: str) -> list[str]:
        return [BytesParser(policy=policy.default).parsebytes(raw)["Message-ID"]
                for rcpt, raw in self.received if rcpt[0] == ADDRESS[unit]]


def start(server: Server):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class AnyPort(Controller):  # aiosmtpd 1.4: read the bound port before its own check
        def _trigger_server(self):
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    def check(server_, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"lhzyxc99@126.com", PASSWORD.encode()),
                          handled=False)

    controller = AnyPort(server, hostname="127.0.0.1", port=0, authenticator=check, auth_required=True,
                         auth_require_tls=False)
    controller.start()
    return controller


@pytest.fixture(scope="module")
def campaign_made(tmp_path_factory):
    return make_campaign(tmp_path_factory.mktemp("send"))


@pytest.fixture()
def campaign(campaign_made, tmp_path, monkeypatch):
    folder = tmp_path / "活动"
    shutil.copytree(campaign_made, folder)
    monkeypatch.setenv("NETREG_MAIL_PASSWORD", PASSWORD)
    monkeypatch.delenv("NETREG_FAULT", raising=False)
    return folder


def point_at(folder: Path, port: int) -> None:
    toml = folder / "netreg.toml"
    text = toml.read_text(encoding="utf-8").replace('smtp_host = ""', 'smtp_host = "127.0.0.1"')
    text = text.replace("# smtp_port = 465", f"smtp_port = {port}").replace('smtp_security = "ssl"', 'smtp_security = "none"')
    toml.write_text(text, encoding="utf-8")


def send(folder: Path):
    result = CliRunner().invoke(app, ["remind", "--as-of", AS_OF, "--send", "--yes", "--campaign", str(folder)],
                                terminal_width=200)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "Errno" not in result.output
    return result


def letters(folder: Path) -> list[tuple]:
    db = sqlite3.connect(folder / "netreg.db")
    try:
        return db.execute("SELECT unit, state, message_id, error FROM letters ORDER BY id").fetchall()
    finally:
        db.close()


def netreg(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netreg", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200", **env})


# --------------------------------------------------------------------------- item 2: never twice

@pytest.mark.parametrize("how", ["kill", "raise"])
def test_a_run_killed_after_the_server_took_a_letter_sends_it_again_with_the_same_message_id(campaign, how):
    """kill -9 (or an exception, as Ctrl-C) right after the server's 250 for 团委's letter: the
    ledger already holds it as in flight with its Message-ID; the rerun says so in one line and
    sends it with that Message-ID (clients show one letter), not a new one, and records one row."""
    server = Server()
    controller = start(server)
    try:
        point_at(campaign, controller.port)
        fault = "smtp-accepted=团委" + (":kill" if how == "kill" else "")
        killed = netreg("remind", "--as-of", AS_OF, "--send", "--yes", "--campaign", str(campaign),
                        env={"NETREG_FAULT": fault, "NETREG_MAIL_PASSWORD": PASSWORD})
        assert killed.returncode == (-9 if how == "kill" else 3), killed.stderr
        assert [len(server.ids(u)) for u in UNITS] == [1, 1, 0]
        rows = letters(campaign)
        assert [(r[0], r[1]) for r in rows] == [("医学院", "sent"), ("团委", "sending")]
        assert rows[1][2] == server.ids("团委")[0]  # recorded before it went out

        again = send(campaign)
        assert again.exit_code == 0, again.output
        assert "医学院：这份通知已发送过（" in again.output
        assert again.output.count("团委：上次发送（") == 1
        assert "以同一邮件编号（Message-ID）重发" in again.output and "已发送 2 封，失败 0 封。" in again.output
    finally:
        controller.stop()
    first, second = server.ids("团委")
    assert first == second and len(server.ids("医学院")) == len(server.ids("护理学院")) == 1
    rows = letters(campaign)
    assert sorted((r[0], r[1]) for r in rows) == [("医学院", "sent"), ("团委", "sent"), ("护理学院", "sent")]
    assert next(r[2] for r in rows if r[0] == "团委") == first
    assert "没有需要发送的邮件" in send(campaign).output


@pytest.mark.parametrize("how", ["slow", "hang-up"])
def test_no_answer_after_data_is_unknown_not_failed_and_resent_with_the_same_message_id(campaign, monkeypatch, how):
    """A server that takes 团委's letter and answers only after the timeout (or hangs up without
    answering): the letter may have arrived, so it is 'unknown' (超时, never 连接中断 or 发送失败),
    the run reconnects and sends 护理学院's, and the next run sends 团委's with the same Message-ID."""
    import netreg.letters.send as sending

    monkeypatch.setattr(sending, "TIMEOUT", 1)
    server = Server()
    if how == "slow":
        server.slow[ADDRESS["团委"]] = 2.5
    else:
        server.hang_up_after_data.add(ADDRESS["团委"])
    controller = start(server)
    try:
        point_at(campaign, controller.port)
        first = send(campaign)
        assert first.exit_code == 1
        where = f"127.0.0.1:{controller.port}"
        said = (f"团委：邮件服务器 {where} 收下邮件后 1 秒内没有确认（超时），邮件可能已经送达" if how == "slow"
                else f"团委：邮件服务器 {where} 收下邮件后没有确认就断开了连接，邮件可能已经送达")
        assert said in first.output and "连接中断" not in first.output and "发送失败" not in first.output
        assert "护理学院：已发送至 hl@x.edu.cn" in first.output
        assert "已发送 2 封，失败 0 封，未能确认 1 封。" in first.output
        assert [(r[0], r[1]) for r in letters(campaign)] == [("医学院", "sent"), ("团委", "unknown"), ("护理学院", "sent")]
        second = send(campaign)
        assert second.exit_code == 0, second.output
        assert second.output.count("团委：上次发送（") == 1 and "已发送 1 封，失败 0 封。" in second.output
    finally:
        controller.stop()
    ids = server.ids("团委")
    assert len(ids) == 2 and ids[0] == ids[1]
    rows = letters(campaign)
    assert [(r[0], r[1]) for r in rows] == [("医学院", "sent"), ("团委", "sent"), ("护理学院", "sent")]


# --------------------------------------------------------------------------- item 12: SMTP

def test_a_refused_login_is_said_once_and_nothing_is_tried(campaign, monkeypatch):
    server = Server()
    controller = start(server)
    try:
        point_at(campaign, controller.port)
        monkeypatch.setenv("NETREG_MAIL_PASSWORD", "wrong")
        result = send(campaign)
    finally:
        controller.stop()
    assert result.exit_code == 1
    assert result.output.count("登录失败") == 1 and result.output.count("用户名或授权码不正确") == 1
    assert "发送中止：登录失败：用户名或授权码不正确" in result.output and "其余 3 封没有发送" in result.output
    assert server.received == [] and letters(campaign) == []


def test_one_dropped_connection_is_reopened_and_the_letters_go_on(campaign):
    """The server hangs up at 团委's MAIL FROM: before, 团委 and 护理学院 both failed
    (与邮件服务器…的连接中断); now the connection is opened again and every letter goes."""
    server = Server()
    server.hang_up_at_mail = {2}
    controller = start(server)
    try:
        point_at(campaign, controller.port)
        result = send(campaign)
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert "已发送 3 封，失败 0 封。" in result.output and "中断" not in result.output
    assert [len(server.ids(u)) for u in UNITS] == [1, 1, 1]
    assert [(r[0], r[1]) for r in letters(campaign)] == [("医学院", "sent"), ("团委", "sent"), ("护理学院", "sent")]


def test_a_connection_that_drops_again_at_once_stops_in_one_line(campaign):
    server = Server()
    server.hang_up_at_mail = {2, 3}  # 团委's, and again on the new connection
    controller = start(server)
    try:
        point_at(campaign, controller.port)
        result = send(campaign)
        assert result.exit_code == 1
        assert result.output.count("团委：发送失败——与邮件服务器") == 1
        assert "发送中止：" in result.output and "其余 1 封没有发送（下次运行 --send 时发送）" in result.output
        after = result.output.split("将从")[1].splitlines()
        assert not any(line.startswith("护理学院：") for line in after)  # not tried, not said
        assert "发送中止：与邮件服务器 127.0.0.1:" in result.output and "重新连接后再次中断" in result.output
        assert [(r[0], r[1]) for r in letters(campaign)] == [("医学院", "sent"), ("团委", "failed")]
        again = send(campaign)  # the server behaves now: the two left go
        assert again.exit_code == 0 and "已发送 2 封，失败 0 封。" in again.output
    finally:
        controller.stop()
    assert [len(server.ids(u)) for u in UNITS] == [1, 1, 1]


def test_a_server_that_never_greets_is_a_timeout_not_a_broken_connection(campaign, monkeypatch):
    import netreg.letters.send as sending

    monkeypatch.setattr(sending, "TIMEOUT", 1)
    with socket.socket() as silent:  # accepts connections (the backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        point_at(campaign, port)
        result = send(campaign)
    assert result.exit_code == 1
    assert result.output.count(f"连接邮件服务器超时 127.0.0.1:{port}：1 秒内没有回应") == 1
    assert "中断" not in result.output and letters(campaign) == []


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", '=HYPERLINK("mailto:tw@x.edu.cn","团委")', "赵老师",
                                  "tw@x.edu.cn；13800000003", "tw@@x.edu.cn"])
def test_an_address_that_is_not_one_is_refused_when_the_table_is_read(campaign, cell):
    table = campaign / "单位名单.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    quoted = '"' + cell.replace('"', '""') + '"'
    lines = [line.replace("tw@x.edu.cn", quoted) if line.startswith("团委,") else line for line in lines]
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.rmtree(campaign / "催报", ignore_errors=True)
    result = CliRunner().invoke(app, ["remind", "--as-of", AS_OF, "--campaign", str(campaign)])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("错误：单位名单") and "第 4 行的邮箱“" in line and "不是有效的邮箱地址" in line
    assert not (campaign / "催报").exists()  # no draft, no To: made of it
    status = CliRunner().invoke(app, ["status", "--campaign", str(campaign)])
    assert status.exit_code == 2 and "第 4 行" in status.output


def test_addresses_as_people_type_them_are_read(tmp_path):
    from netreg.campaign.contacts import read_contacts

    table = tmp_path / "名单.csv"
    table.write_text("单位,邮箱\n图书馆,ＴＳＧ＠x.edu.cn；mailto:a@b.cn、<c.d@x-y.edu.cn> e_f+1@qq.com\n团委,\n",
                     encoding="utf-8")
    emails = {c.unit: c.emails for c in read_contacts(table)}
    assert emails == {"图书馆": ("tsg@x.edu.cn", "a@b.cn", "c.d@x-y.edu.cn", "e_f+1@qq.com"), "团委": ()}


@pytest.mark.parametrize("name", ["没有.xlsx", "没有.csv"])
def test_a_missing_units_file_is_said_not_to_exist(campaign, name):
    result = CliRunner().invoke(app, ["status", "--units", str(campaign / name), "--campaign", str(campaign)])
    assert result.exit_code == 2 and "文件或文件夹不存在" in result.output and "系统错误" not in result.output


# --------------------------------------------------------------------------- item 6: a full disk

@pytest.fixture()
def small_disk(tmp_path):
    """A 4 MB tmpfs of the test's own, filled on demand (``fill``): a real full disk."""
    disk = tmp_path / "disk"
    disk.mkdir()
    why = None
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("mount"):
        why = "mounting a tmpfs needs Linux and root"
    else:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True)
        why = done.returncode and f"mount refused: {done.stderr.decode(errors='replace').strip()}"
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(disk: Path, leave_kb: int) -> None:
    """Leave ``leave_kb`` KB free on ``disk``."""
    filler = disk / "填满"
    filler.unlink(missing_ok=True)
    st = os.statvfs(disk)
    size = st.f_bavail * st.f_frsize - leave_kb * 1024
    if size > 0:
        with open(filler, "wb") as f:
            os.posix_fallocate(f.fileno(), 0, size)


def counts(folder: Path) -> tuple:
    """Rows of the ledger's tables, after checking it is whole: every file of a delivery that
    is there (a run stopped by the disk records the deliveries before whole, the one at hand not)."""
    db = sqlite3.connect(f"file:{folder / 'netreg.db'}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM submissions WHERE delivery IS NULL"
                          " OR delivery NOT IN (SELECT id FROM deliveries)").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM deliveries WHERE id NOT IN (SELECT delivery FROM submissions)"
                          " AND message IS NULL").fetchone()[0] == 0
        return tuple(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("deliveries", "submissions", "paper", "letters", "messages"))
    finally:
        db.close()


def leftovers(disk: Path) -> list[str]:
    return sorted(p.name for p in disk.rglob("*") if p.name.startswith(".netreg-") and p.suffix == ".tmp")


FULL = {  # command → the free space (KB) to leave: each fails at another write (ledger, zip, mail draft, commit)
    "remind": ([0, 40, 120], ["remind", "--as-of", AS_OF]),
    "intake": ([0, 60], ["intake", "../收到", "--received", "2025-11-21 10:00"]),
    "paper": ([0, 4], ["paper", "团委", "--date", "2025-11-25"]),
    "annotate": ([0, 40], ["validate", "--annotate", "../修改意见", "../收到"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("command", sorted(FULL))
def test_a_full_disk_is_one_line_and_leaves_nothing_half_made(small_disk, campaign_made, command):
    """Before: intake, remind and paper ended 程序内部出错 (exit 3), remind printed "Exception
    ignored in ZipFile.__del__ … Errno 28", validate --annotate wrote 修改意见-only copies in
    silence. Now: 磁盘空间不足 in one line, exit 2 (annotate: each copy not written, exit 1), the
    ledger as it was, no temporary file left; with space again the same command works."""
    leaves, args = FULL[command]
    folder = small_disk / "活动"
    shutil.copytree(campaign_made, folder)
    shutil.copytree(campaign_made.parent / "收到", small_disk / "收到")
    before = counts(folder)
    env = {"NETREG_MAIL_PASSWORD": "", "NETREG_DEBUG": ""}
    for leave in leaves:
        fill(small_disk, leave)
        run = subprocess.run([sys.executable, "-m", "netreg", *args], capture_output=True, text=True, cwd=folder,
                             env={**os.environ, "COLUMNS": "200", **env}, timeout=120)
        said = run.stdout + run.stderr
        assert "Traceback" not in said and "Exception ignored" not in said and "Errno" not in said, said
        if command == "annotate":
            assert run.returncode == 1, said
            assert "（磁盘空间不足）" in run.stdout and not list((small_disk / "修改意见").glob("*.xlsx"))
        else:
            assert run.returncode == 2, (leave, said)
            [line] = run.stderr.strip().splitlines()
            assert line.startswith("错误：磁盘空间不足"), line
        after = counts(folder)
        assert leftovers(small_disk) == [], (leave, said)
        assert after == before if command != "intake" else after[0] - before[0] == after[1] - before[1] <= 2, after
    (small_disk / "填满").unlink()
    run = subprocess.run([sys.executable, "-m", "netreg", *args], capture_output=True, text=True, cwd=folder,
                         env={**os.environ, "COLUMNS": "200", **env}, timeout=120)
    assert run.returncode in (0, 1) and "磁盘空间不足" not in run.stdout + run.stderr, run.stderr


def test_init_on_a_full_disk_leaves_no_ledger(small_disk):
    """Before: a 0-byte (or 4 KB) netreg.db and 数据库错误; now no netreg.db, -wal or -shm, and
    磁盘空间不足; the next init, with space, makes the campaign."""
    target = small_disk / "新活动"
    for leave in (0, 24):
        fill(small_disk, leave)
        result = CliRunner().invoke(app, ["init", str(target)])
        assert result.exit_code == 2 and "磁盘空间不足" in result.output and "数据库错误" not in result.output
        assert not [p.name for p in target.glob("netreg.db*")] and leftovers(small_disk) == []
    (small_disk / "填满").unlink()
    assert CliRunner().invoke(app, ["init", str(target)]).exit_code == 0
    assert (target / "netreg.db").stat().st_size > 0
