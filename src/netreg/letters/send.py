"""Sending the drafts (``netreg remind --send``) through the SMTP server of ``[mail]``, and the
ledger's memory of it (table ``letters``).

A letter is recorded before it goes out (state ``sending``, with its Message-ID) and settled
after the server's answer: ``sent``; ``failed`` (certainly not delivered: refused, or the
connection lost before the message was handed over), tried again on the next run; or
``unknown`` (the message was handed over and no answer came, e.g. a timeout after DATA: it may
well have arrived). A letter left ``sending`` (the run was killed or interrupted) or ``unknown``
is sent again on the next run with the same Message-ID, so that mail clients show one letter,
and the run says so; a sent one is never sent again.

A failure before any letter goes out (no server, login refused) is said once and stops; so is a
sender the server refuses. A dropped connection is reopened once and the remaining letters go
on. Whatever smtplib, ssl or the network raise becomes one Chinese phrase (the server's own
English text is never shown); the password is passed to ``login`` and nowhere else.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..campaign.ledger import now
from ..util import faults

if TYPE_CHECKING:
    from email.message import EmailMessage

    from ..campaign.ledger import Ledger
    from ..config import Mail
    from . import Drafts
    from .plan import Letter

TIMEOUT = 30  # seconds per network operation
LOGIN_HINT = "登录失败：用户名或授权码不正确（126/163 邮箱请使用“授权码”，不是网页登录密码）"
SENDING, SENT, FAILED, UNKNOWN = "sending", "sent", "failed", "unknown"
AGAIN = "以同一邮件编号（Message-ID）重发，对方的邮件程序会把两次收到的认作同一封"


@dataclass(frozen=True)
class Outcome:
    letter: Letter
    error: str | None  # None: sent
    accepted: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()  # refused while others of the unit's addresses accepted it
    unknown: bool = False  # handed to the server without an answer: it may have arrived

    @property
    def sent(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Pending:
    letter: Letter
    msg: EmailMessage
    again: str | None = None  # an earlier run's attempt that may have arrived (its time): same Message-ID


@dataclass(frozen=True)
class Stop:
    """Nothing more could be sent: why (one phrase), and how many letters were not tried."""
    why: str
    left: int


class _Stopped(Exception):
    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


# ---------------------------------------------------------------------------- the ledger

def sent_on(ledger: Ledger, key: str) -> str | None:
    """When the letter with this key was sent (``YYYY-MM-DD HH:MM:SS``), or None."""
    row = ledger.db.execute("SELECT sent_at FROM letters WHERE status_key = ? AND state = 'sent' ORDER BY id LIMIT 1",
                            (key,)).fetchone()
    return row[0] if row else None


def _in_flight(db, key: str) -> tuple[int, str | None, str] | None:
    """(row, Message-ID, when) of the letter with this key that an earlier run handed over, or
    began to, without knowing whether it arrived."""
    return db.execute("SELECT id, message_id, sent_at FROM letters WHERE status_key = ? AND state IN (?, ?)"
                      " ORDER BY id DESC LIMIT 1", (key, SENDING, UNKNOWN)).fetchone()


def to_send(ledger: Ledger, drafts: Drafts) -> tuple[list[Pending], list[tuple[str, str]]]:
    """The drafts to send, and (unit, when) of those sent before. A letter in flight on an
    earlier run gets that run's Message-ID back."""
    todo, done = [], []
    for letter in drafts.letters:
        msg = drafts.messages.get(letter.unit)
        if msg is None:
            continue
        when = sent_on(ledger, letter.key)
        if when:
            done.append((letter.unit, when))
            continue
        flight = _in_flight(ledger.db, letter.key)
        if flight and flight[1]:
            del msg["Message-ID"]
            msg["Message-ID"] = flight[1]
        todo.append(Pending(letter, msg, flight[2] if flight and flight[1] else None))
    return todo, done


def _begin(ledger: Ledger, item: Pending) -> int:
    """Record the letter as in flight, with its Message-ID, before a byte of it goes out."""
    letter = item.letter
    with ledger.write() as db:
        flight = _in_flight(db, letter.key)
        if flight and flight[1] == item.msg["Message-ID"]:
            db.execute("UPDATE letters SET state = ?, sent_at = ?, error = NULL WHERE id = ?", (SENDING, now(), flight[0]))
            return flight[0]
        return db.execute("INSERT INTO letters (unit, kind, status_key, recipients, subject, sent_at, message_id, state)"
                          " VALUES (?,?,?,?,?,?,?,?)",
                          (letter.unit, letter.kind, letter.key, ",".join(letter.recipients), letter.subject, now(),
                           item.msg["Message-ID"], SENDING)).lastrowid


def _settle(ledger: Ledger, row: int, state: str, error: str | None, recipients) -> None:
    with ledger.write() as db:
        db.execute("UPDATE letters SET state = ?, error = ?, recipients = ? WHERE id = ?",
                   (state, error, ",".join(recipients), row))


# ---------------------------------------------------------------------------- sending

def send_letters(ledger: Ledger, mail: Mail, sender: str, items: list[Pending], password: str,
                 on_result: Callable[[Outcome], None] = lambda o: None) -> tuple[list[Outcome], Stop | None]:
    """Send each pending letter over one connection (reopened once when it drops); record and
    report each outcome. A Stop says why the letters after the last outcome were not tried."""
    from .eml import for_sending

    host, port = mail.smtp_address()
    where, encrypted = f"{host}:{port}", mail.smtp_security != "none"
    outcomes: list[Outcome] = []

    def done(item: Pending, row: int, outcome: Outcome) -> None:
        state = SENT if outcome.sent else UNKNOWN if outcome.unknown else FAILED
        _settle(ledger, row, state, outcome.error, outcome.accepted if outcome.sent else item.letter.recipients)
        outcomes.append(outcome)
        on_result(outcome)

    conn = None
    try:
        conn = _open(mail, host, port, sender, password)
        drops = 0  # connections lost since a letter last went through
        for n, item in enumerate(items):
            row, letter = _begin(ledger, item), item.letter
            while True:
                try:
                    conn.in_data = False
                    refused = conn.send_message(for_sending(item.msg), from_addr=sender, to_addrs=list(letter.recipients))
                except Exception as exc:  # noqa: BLE001 - each failure becomes one phrase
                    handed = conn.in_data and not isinstance(exc, smtplib.SMTPResponseException)
                    dropped = handed or _dropped(exc, conn)
                    why = _why(exc, where, connected=True, encrypted=encrypted, handed=handed)
                    if dropped and not handed and not drops:  # not delivered: once more on a new connection
                        drops = 1
                        conn = _reopen(conn, mail, host, port, sender, password,
                                       lambda: done(item, row, Outcome(letter, why)))
                        continue
                    done(item, row, Outcome(letter, why, unknown=handed))
                    if n + 1 < len(items) and dropped and drops:
                        raise _Stopped(f"与邮件服务器 {where} 重新连接后再次中断，请稍后再试") from None
                    if n + 1 < len(items) and isinstance(exc, smtplib.SMTPSenderRefused):
                        raise _Stopped("发件人被拒绝（见上一行），其他邮件也无法发出") from None
                    if n + 1 < len(items) and dropped:
                        drops = 1
                        conn = _reopen(conn, mail, host, port, sender, password)
                    break
                faults.point("smtp-accepted", letter.unit)  # killed here: the server has it, the ledger says sending
                drops = 0
                done(item, row, Outcome(letter, None, tuple(a for a in letter.recipients if a not in refused),
                                        tuple(refused)))
                break
    except _Stopped as stop:
        return outcomes, Stop(stop.why, len(items) - len(outcomes))
    finally:
        if conn is not None:
            _close(conn)
    return outcomes, None


def said(outcome: Outcome) -> str:
    """The line for one letter."""
    name = outcome.letter.unit
    if outcome.sent:
        refused = f"；{'、'.join(outcome.refused)} 被拒收" if outcome.refused else ""
        return f"{name}：已发送至 {'、'.join(outcome.accepted)}{refused}"
    if outcome.unknown:
        return f"{name}：{outcome.error}，邮件可能已经送达（已记录，下次运行 --send 时{AGAIN}）"
    return f"{name}：发送失败——{outcome.error}（已记录，下次运行 --send 时重试）"


def again(item: Pending) -> str:
    """The line for a letter an earlier run may have delivered."""
    return f"{item.letter.unit}：上次发送（{item.again[:16]}）没有得到服务器的确认，不能确定对方是否已收到；本次{AGAIN}"


def summary(outcomes: list[Outcome], stop: Stop | None) -> str:
    sent = sum(o.sent for o in outcomes)
    unknown = sum(o.unknown for o in outcomes)
    text = f"已发送 {sent} 封，失败 {len(outcomes) - sent - unknown} 封"
    text += f"，未能确认 {unknown} 封" if unknown else ""
    if stop:
        text = f"发送中止：{stop.why}。{text}，其余 {stop.left} 封没有发送（下次运行 --send 时发送）"
    return text + "。"


class _Tracked:
    """smtplib's client, noting when the message itself is being handed over (DATA): from then
    on the server may have it, whatever happens to the connection."""
    in_data = False

    def data(self, msg):
        self.in_data = True
        return super().data(msg)


class _SMTP(_Tracked, smtplib.SMTP):
    pass


class _SMTPS(_Tracked, smtplib.SMTP_SSL):
    pass


def _open(mail: Mail, host: str, port: int, sender: str, password: str) -> smtplib.SMTP:
    """A connection, logged in; else _Stopped with the one phrase for every letter."""
    where = f"{host}:{port}"
    try:
        conn = _connect(mail.smtp_security, host, port)
    except Exception as exc:  # noqa: BLE001
        raise _Stopped(_why(exc, where, connected=False)) from None
    try:
        _login(conn, mail.user or sender, password)
    except Exception as exc:  # noqa: BLE001
        _close(conn)
        raise _Stopped(_why(exc, where, connected=True)) from None
    return conn


def _reopen(conn, mail: Mail, host: str, port: int, sender: str, password: str,
            failed: Callable[[], None] = lambda: None) -> smtplib.SMTP:
    """A new connection for the one that dropped; if none, ``failed()`` and _Stopped."""
    _close(conn)
    try:
        return _open(mail, host, port, sender, password)
    except _Stopped:
        failed()
        raise


def _dropped(exc: BaseException, conn) -> bool:
    """The connection is gone (the server hung up, 421, the network, a timeout)."""
    if isinstance(exc, smtplib.SMTPServerDisconnected) or getattr(conn, "sock", None) is None:
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)  # SMTPException is an OSError


def _timed_out(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 5:  # smtplib raises SMTPServerDisconnected from the timeout
        if isinstance(exc, TimeoutError):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _connect(security: str, host: str, port: int) -> smtplib.SMTP:
    import socket
    import ssl

    local = socket.gethostname() or "localhost"  # getfqdn() can wait seconds on a reverse lookup
    if security == "ssl":
        return _SMTPS(host, port, timeout=TIMEOUT, context=ssl.create_default_context(), local_hostname=local)
    conn = _SMTP(host, port, timeout=TIMEOUT, local_hostname=local)
    if security == "starttls":
        try:
            conn.ehlo()
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
        except BaseException:
            _close(conn)
            raise
    return conn


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    conn.ehlo_or_helo_if_needed()
    if conn.has_extn("auth"):
        conn.login(user, password)


def _close(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except Exception:  # noqa: BLE001 - closing never hides what happened before
        try:
            conn.close()
        except Exception:  # noqa: BLE001, S110
            pass


def _why(exc: BaseException, where: str, *, connected: bool, encrypted: bool = False, handed: bool = False) -> str:
    """One Chinese phrase for what smtplib, ssl or the network raised (``encrypted``: over ssl or
    starttls; ``handed``: the message was being handed over)."""
    import socket
    import ssl

    if handed:
        if _timed_out(exc):
            return f"邮件服务器 {where} 收下邮件后 {TIMEOUT} 秒内没有确认（超时）"
        return f"邮件服务器 {where} 收下邮件后没有确认就断开了连接"
    if _timed_out(exc):
        return f"{'与邮件服务器通信超时' if connected else '连接邮件服务器超时'} {where}：{TIMEOUT} 秒内没有回应（请检查网络，或稍后再试）"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return LOGIN_HINT
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in exc.recipients.values()})
        return f"收件人 {'、'.join(exc.recipients)} 被邮件服务器拒收（代码 {'、'.join(codes)}），请核对单位名单中的邮箱"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        if exc.smtp_code == 530 and not encrypted:
            return "邮件服务器要求先登录（请把 [mail] 的 smtp_security 设为 ssl 或 starttls）"
        if exc.smtp_code == 530:  # encrypted, yet the server offered no AUTH before refusing
            return "邮件服务器要求登录，却没有提供登录方式（请检查 smtp_port 是否为发信端口：ssl 用 465，starttls 用 587）"
        return f"发件人 {exc.sender} 被邮件服务器拒绝（代码 {exc.smtp_code}），请检查 [mail] 中的 user"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "邮件服务器不支持 STARTTLS 加密（请把 smtp_security 设为 ssl，或换用服务器支持的端口）"
    if isinstance(exc, smtplib.SMTPDataError):
        return f"邮件被服务器拒收（代码 {exc.smtp_code}），可能是附件过大或被判为垃圾邮件"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"与邮件服务器 {where} 的连接中断，请稍后再试"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"邮件服务器返回错误（代码 {exc.smtp_code}）"
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = "服务器证书无法验证（可能是证书过期、自签名，或与 smtp_host 不符）"
    elif isinstance(exc, ssl.SSLError):
        reason = "加密连接失败（请检查端口与加密方式是否相符：465 端口用 smtp_security = \"ssl\"，587 端口用 \"starttls\"）"
    elif isinstance(exc, (TimeoutError, socket.timeout)):
        reason = "连接超时（请检查网络、服务器名称和端口）"
    elif isinstance(exc, socket.gaierror):
        reason = "找不到这台服务器（请检查 smtp_host 和网络连接）"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "服务器拒绝连接（请检查端口 smtp_port 是否正确）"
    elif isinstance(exc, (ConnectionResetError, BrokenPipeError, EOFError)):
        reason = "服务器断开了连接（请检查端口与加密方式是否相符）"
    elif isinstance(exc, OSError) and exc.errno is not None:
        reason = {101: "网络不可达", 113: "无法到达服务器所在网络"}.get(exc.errno, f"网络错误（错误码 {exc.errno}）")
    elif isinstance(exc, (OSError, smtplib.SMTPException)):
        reason = "网络错误"
    else:
        reason = "发送时发生意外错误"
    return f"{'与邮件服务器通信失败' if connected else '无法连接邮件服务器'} {where}：{reason}"
