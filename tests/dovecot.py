"""A real IMAP server for tests: an unprivileged Dovecot on loopback ports in a temp folder.

Use the ``dovecot`` fixture (import it into the test module: ``from dovecot import dovecot,
dovecot_server  # noqa: F401``). Each test gets its own empty mailbox (a user of its own) on one
server per test module::

    def test_x(dovecot):
        uid = dovecot.deliver(message)              # IMAP APPEND into INBOX → its UID
        mail = dovecot.mail_settings("ssl")          # a netreg.config.Mail for this mailbox
        fetch_new(mail, dovecot.password, seen, ssl_context=dovecot.ssl_context())
        assert "netreg" in dovecot.log()

Plain IMAP (and STARTTLS) is on ``dovecot.port``, IMAP over TLS on ``dovecot.ssl_port``; the
certificate is self-signed for 127.0.0.1 and localhost (``dovecot.cafile``).

Missing Dovecot skips the tests locally; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import contextlib
import imaplib
import itertools
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
DOVEADM = shutil.which("doveadm") or ("/usr/bin/doveadm" if os.path.exists("/usr/bin/doveadm") else None)
HOST = "127.0.0.1"

CONFIG = """\
protocols = imap
listen = {host}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {first_uid}
first_valid_gid = {first_gid}
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
imap_id_log = *
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _identity() -> dict:
    """Who runs what. As root the mail processes run as nobody (Dovecot refuses root for
    them) and the internal/login services as Dovecot's own users when the package made them;
    as anyone else, everything runs as that user."""
    import grp
    import pwd

    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")

        def user(name: str) -> str:
            try:
                pwd.getpwnam(name)
                return name
            except KeyError:
                return "nobody"

        try:
            group = grp.getgrnam("dovecot").gr_name
        except KeyError:
            group = grp.getgrgid(nobody.pw_gid).gr_name
        return {"internal_user": user("dovecot"), "internal_group": group, "login_user": user("dovenull"),
                "uid": nobody.pw_uid, "gid": nobody.pw_gid, "first_uid": 1, "first_gid": 1}
    me = pwd.getpwuid(os.geteuid())
    return {"internal_user": me.pw_name, "internal_group": grp.getgrgid(os.getegid()).gr_name,
            "login_user": me.pw_name, "uid": me.pw_uid, "gid": os.getegid(), "first_uid": me.pw_uid,
            "first_gid": min(os.getegid(), 1)}


class DovecotServer:
    """One Dovecot process; ``start()`` / ``stop()``. Users are added with ``add_user``."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="netreg-dovecot-"))
        self.root.chmod(0o755)  # the mail processes (another uid) go down to home/
        self.conf = self.root / "dovecot.conf"
        self.host = HOST
        self.port = free_port()
        self.ssl_port = free_port()
        self.cafile = self.root / "cert.pem"
        self._users = itertools.count(1)

    def start(self) -> None:
        who = _identity()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(self.root / "key.pem"), "-out", str(self.cafile)],
            check=True, capture_output=True)
        (self.root / "passwd").write_text("".join(
            "{}:{{PLAIN}}{}::::::\n".format(*_account(n)) for n in range(1, USERS + 1)))
        home = self.root / "home"
        home.mkdir()
        os.chown(home, who["uid"], who["gid"])
        self.conf.write_text(CONFIG.format(root=self.root, host=self.host, port=self.port,
                                           ssl_port=self.ssl_port, **who))
        # Dovecot daemonizes: its output goes to a file, never a pipe the test would wait on.
        with open(self.root / "start.out", "wb") as out:
            done = subprocess.run([DOVECOT, "-c", str(self.conf)], stdout=out, stderr=out,
                                  stdin=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            raise RuntimeError("dovecot did not start:\n" + (self.root / "start.out").read_text()
                               + self.log())
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("dovecot is not answering:\n" + self.log())
            time.sleep(0.05)

    def _pid(self) -> int | None:
        try:
            return int((self.root / "run" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        pid = self._pid()
        subprocess.run([DOVEADM, "-c", str(self.conf), "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, check=False)
        if pid:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.root / "dovecot.log").read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def add_user(self) -> tuple[str, str]:
        """A user of its own (an empty mailbox) → (login, password). The users are all written
        before the start: Dovecot does not notice a passwd file that changes within a second."""
        n = next(self._users)
        if n > USERS:
            raise RuntimeError(f"the test Dovecot has {USERS} users")
        return _account(n)


USERS = 500


def _account(n: int) -> tuple[str, str]:
    return f"unit{n}@example.edu.cn", f"Kq7-secret-{n}"


@dataclass
class Mailbox:
    """One user's mailbox on the test server."""

    server: DovecotServer
    user: str
    password: str

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def ssl_port(self) -> int:
        return self.server.ssl_port

    @property
    def cafile(self) -> Path:
        return self.server.cafile

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the server's self-signed certificate (only it)."""
        return ssl.create_default_context(cafile=str(self.cafile))

    def mail_settings(self, security: str = "none", **changes):
        """The campaign's [mail] settings for this mailbox (a ``netreg.config.Mail``)."""
        from netreg.config import Mail

        port = self.ssl_port if security == "ssl" else self.port
        values = {"imap_host": self.host, "imap_port": port, "imap_security": security,
                  "user": self.user, **changes}
        return Mail(**values)

    def log(self) -> str:
        """Dovecot's log so far (all users)."""
        return self.server.log()

    @contextlib.contextmanager
    def imap(self):
        """A logged-in imaplib connection (plain port) for the test's own looks."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            conn.login(self.user, self.password)
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    def deliver(self, message: bytes | EmailMessage, *, folder: str = "INBOX",
                received: datetime | None = None, flags: str = "") -> int:
        """Put a message into the mailbox with IMAP APPEND → its UID. ``received`` becomes
        the INTERNALDATE (what SEARCH SINCE looks at). ``folder`` is created when missing
        (an IMAP name: modified UTF-7 when not ASCII)."""
        raw = message if isinstance(message, bytes) else message.as_bytes()
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        with self.imap() as conn:
            if folder != "INBOX":
                conn.create(folder)  # NO when it exists: fine
            typ, data = conn.append(folder, flags or None, received or datetime.now().astimezone(), raw)
            assert typ == "OK", data
            code = data[0].decode()
            # "[APPENDUID <uidvalidity> <uid>] Append completed."
            return int(code.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1])

    def folders(self) -> list[str]:
        """The mailbox's folders as Dovecot names them (decoded: 报送, not &YqWQAQ-)."""
        done = subprocess.run([DOVEADM, "-c", str(self.server.conf), "mailbox", "list", "-u", self.user],
                              capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
        return done.stdout.splitlines()

    def flags(self, folder: str = "INBOX") -> dict[int, str]:
        """UID → the message's flags, read without changing them."""
        with self.imap() as conn:
            conn.select(folder, readonly=True)
            _, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            found = {}
            for line in data:
                if not line:
                    continue
                text = line.decode() if isinstance(line, bytes) else line[0].decode()
                uid = int(text.split("UID ", 1)[1].split()[0].rstrip(")"))
                found[uid] = text.split("FLAGS (", 1)[1].split(")", 1)[0]
            return found


def _require_dovecot() -> None:
    if DOVECOT and DOVEADM and shutil.which("openssl"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("Dovecot (dovecot-imapd) and openssl are required in CI")
    pytest.skip("Dovecot (dovecot-imapd) is not installed")


@pytest.fixture(scope="module")
def dovecot_server():
    """One running Dovecot for the module's tests."""
    _require_dovecot()
    server = DovecotServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def dovecot(dovecot_server) -> Mailbox:
    """An empty mailbox of its own on the module's Dovecot: host, port, ssl_port, user,
    password, deliver(message), log(), flags(), folders(), ssl_context(), mail_settings(security)."""
    user, password = dovecot_server.add_user()
    return Mailbox(dovecot_server, user, password)
