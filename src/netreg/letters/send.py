"""Sending the drafts (``netreg remind --send``) through the SMTP server of ``[mail]``, and the
ledger's memory of it (table ``letters``).

Every attempt is recorded: sent (``error`` NULL) or why not, in Chinese. A letter whose key
has a sent row is never sent again; a failed one is tried again on the next run. Whatever
smtplib, ssl or the network raise becomes one Chinese phrase (the server's own English text
is never shown); the password is passed to ``login`` and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..campaign.ledger import now

if TYPE_CHECKING:
    import smtplib
    from email.message import EmailMessage

    from ..campaign.ledger import Ledger
    from ..config import Mail
    from .plan import Letter

TIMEOUT = 30  # seconds per network operation
LOGIN_HINT = "登录失败：用户名或授权码不正确（126/163 邮箱请使用“授权码”，不是网页登录密码）"


@dataclass(frozen=True)
class Outcome:
    letter: Letter
    error: str | None  # None: sent
    accepted: tuple[str, ...]
    refused: tuple[str, ...]  # refused while others of the unit's addresses accepted it

    @property
    def sent(self) -> bool:
        return self.error is None


def sent_on(ledger: Ledger, key: str) -> str | None:
    """When the letter with this key was sent (``YYYY-MM-DD HH:MM:SS``), or None."""
    row = ledger.db.execute("SELECT sent_at FROM letters WHERE status_key = ? AND error IS NULL ORDER BY id LIMIT 1",
                            (key,)).fetchone()
    return row[0] if row else None


def record(ledger: Ledger, letter: Letter, msg: EmailMessage, recipients: tuple[str, ...], error: str | None) -> None:
    with ledger.write() as db:
        db.execute("INSERT INTO letters (unit, kind, status_key, recipients, subject, sent_at, message_id, error)"
                   " VALUES (?,?,?,?,?,?,?,?)",
                   (letter.unit, letter.kind, letter.key, ",".join(recipients), letter.subject, now(),
                    msg["Message-ID"], error))


def send_letters(ledger: Ledger, mail: Mail, sender: str, items: list[tuple[Letter, EmailMessage]], password: str,
                 on_result: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Send each (letter, draft) over one connection; record and report each outcome."""
    from .eml import for_sending

    host, port = mail.smtp_address()
    outcomes: list[Outcome] = []

    def done(letter: Letter, msg, error: str | None, accepted=(), refused=()) -> None:
        record(ledger, letter, msg, tuple(accepted) if error is None else letter.recipients, error)
        outcomes.append(Outcome(letter, error, tuple(accepted), tuple(refused)))
        on_result(outcomes[-1])

    try:
        conn = _connect(mail.smtp_security, host, port)
    except Exception as exc:  # noqa: BLE001 - every failure is the same line for every letter
        for letter, msg in items:
            done(letter, msg, _why(exc, f"{host}:{port}", connected=False))
        return outcomes
    try:
        try:
            _login(conn, mail.user or sender, password)
        except Exception as exc:  # noqa: BLE001
            for letter, msg in items:
                done(letter, msg, _why(exc, f"{host}:{port}", connected=True))
            return outcomes
        for letter, msg in items:
            try:
                refused = conn.send_message(for_sending(msg), from_addr=sender, to_addrs=list(letter.recipients))
            except Exception as exc:  # noqa: BLE001
                done(letter, msg, _why(exc, f"{host}:{port}", connected=True,
                                       encrypted=mail.smtp_security != "none"))
                continue
            done(letter, msg, None, [a for a in letter.recipients if a not in refused], list(refused))
    finally:
        _close(conn)
    return outcomes


def _connect(security: str, host: str, port: int) -> smtplib.SMTP:
    import smtplib
    import socket
    import ssl

    local = socket.gethostname() or "localhost"  # getfqdn() can wait seconds on a reverse lookup
    if security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=ssl.create_default_context(),
                                local_hostname=local)
    conn = smtplib.SMTP(host, port, timeout=TIMEOUT, local_hostname=local)
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


def _why(exc: BaseException, where: str, *, connected: bool, encrypted: bool = False) -> str:
    """One Chinese phrase for what smtplib, ssl or the network raised (``encrypted``: over ssl or starttls)."""
    import smtplib
    import socket
    import ssl

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
