"""The campaign mailbox → ``Message``s with their attachments (``netreg intake --mail``).

Standard library only (imaplib, ssl, email), imported when a function runs so that importing
this module stays cheap. The mailbox is only read: the folder is opened with EXAMINE and bodies
are fetched with BODY.PEEK[], so no flag (\\Seen included) ever changes. Which messages are new
is the caller's business (``seen(uidvalidity, uid)``, the ledger remembers UIDs).

Every failure the user can meet (server unreachable, TLS, wrong 授权码, missing folder) is a
``MailError`` with one line of Chinese; no English from imaplib/ssl/socket reaches the user and
the password is never part of a message.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ..errors import NetregError

if TYPE_CHECKING:
    import imaplib
    import ssl
    from email.message import Message as EmailMessage

    from ..config import Mail

# Signature parts of signed mail are not files the sender attached.
SIGNATURE_TYPES = frozenset({
    "application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature",
})

# Content type → extension for a nameless attachment (before asking ``mimetypes``).
EXTENSIONS = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
    "application/vnd.ms-word.document.macroenabled.12": ".docm",
    "application/wps-office.xlsx": ".xlsx",
    "application/wps-office.xls": ".xls",
    "application/wps-office.et": ".et",
    "application/wps-office.docx": ".docx",
    "application/wps-office.doc": ".doc",
    "application/wps-office.wps": ".wps",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "application/x-rar-compressed": ".rar",
    "application/vnd.rar": ".rar",
    "application/x-7z-compressed": ".7z",
    "application/pdf": ".pdf",
    "text/csv": ".csv",
    "text/plain": ".txt",
    "message/rfc822": ".eml",
    "application/octet-stream": "",  # nothing known: the readers look at the bytes
}

FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
RESERVED = re.compile(r"(?i)^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$")
MAX_NAME = 200  # characters; longer names are cut before the extension
MAX_ATTACHMENTS = 100  # per message: a unit sends five forms, not thousands of parts
MAX_NAME_BYTES = 180  # UTF-8 bytes: a file name is at most 255 bytes (ext4, NTFS counts UTF-16 units)
GB_CHARSETS = frozenset({"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "ms936", "euc-cn",
                         "gb18030", "x-gb18030", "csgb2312"})
ESCAPED = re.compile("[\udc80-\udcff]")  # raw 8-bit header bytes, as the parser keeps them
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LOGIN_HINT = "用户名或授权码不正确（126/163 邮箱请使用“授权码”，不是网页登录密码）"


class MailError(NetregError):
    """The mailbox cannot be read; ``str(exc)`` is one line of Chinese for the user."""


@dataclass(frozen=True)
class Attachment:
    name: str  # a file name (never a path), safe on Windows
    data: bytes


@dataclass(frozen=True)
class Message:
    uidvalidity: int
    uid: int
    message_id: str
    sender: str  # lower-cased address from From
    sender_name: str  # decoded display name ('' if none)
    subject: str
    received: datetime  # the Date header (else the server's INTERNALDATE), local time, aware
    attachments: tuple[Attachment, ...]
    raw: bytes = b""  # the message as fetched: kept in 收件/ when it cannot be recorded
    left_out: int = 0  # attachments past MAX_ATTACHMENTS, not taken


# ---------------------------------------------------------------------------------------------
# Reading the mailbox


def fetch_new(mail: Mail, password: str, seen: Callable[[int, int], bool], *,
              ssl_context: ssl.SSLContext | None = None, timeout: float = 30) -> Iterator[Message]:
    """Each message of ``mail.folder`` not yet ``seen(uidvalidity, uid)``, in UID order
    (received on or after ``mail.since`` when set). Connects when iteration starts and logs
    out when it ends, also on error or when the caller stops early."""
    import ssl

    host, port = mail.imap_address()
    where = f"{host}:{port}"
    if not host:
        raise MailError("没有设置邮件服务器：请在 netreg.toml 的 [mail] 中填写 imap_host")
    if not mail.user:
        raise MailError("没有设置邮箱账号：请在 netreg.toml 的 [mail] 中填写 user")
    context = ssl_context if ssl_context is not None else ssl.create_default_context()
    session = _Session(where)
    try:
        with session.guard():
            session.conn = _connect(mail.imap_security, host, port, context, timeout)
            _login(session.conn, mail.user, password)
            _send_id(session.conn)
            uidvalidity = _examine(session.conn, mail.folder)
            uids = _search(session.conn, mail.since)
        for uid in uids:
            if seen(uidvalidity, uid):
                continue
            with session.guard():
                fetched = _fetch(session.conn, uid)
            if fetched is None:  # expunged meanwhile
                continue
            raw, internaldate = fetched
            yield parse_message(raw, uidvalidity, uid, internaldate)
    finally:
        if session.conn is not None:
            _close(session.conn, session.broken)


class _Session:
    """The connection and whether it failed; ``guard()`` turns what imaplib, ssl and socket
    raise into a ``MailError`` (only around the talking: the caller's ``seen`` is not guarded)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.conn: imaplib.IMAP4 | None = None
        self.broken = False

    @contextmanager
    def guard(self) -> Iterator[None]:
        import imaplib

        try:
            yield
        except (imaplib.IMAP4.abort, OSError) as exc:  # ssl.SSLError and socket errors are OSErrors
            self.broken = True
            raise _network_error(exc, self.where, connected=self.conn is not None) from exc
        except imaplib.IMAP4.error as exc:
            self.broken = True
            raise MailError(f"邮件服务器 {self.where} 的回应无法理解，读取邮件中止") from exc


def _connect(security: str, host: str, port: int, context, timeout: float) -> imaplib.IMAP4:
    import imaplib

    if security == "ssl":
        return imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
    conn = imaplib.IMAP4(host, port, timeout=timeout)
    if security == "starttls":
        if "STARTTLS" not in conn.capabilities:
            _close(conn, False)
            raise MailError(f"无法连接邮件服务器 {host}:{port}：服务器不支持 STARTTLS 加密"
                            "（请改用 imap_security = \"ssl\" 与端口 993）")
        try:
            conn.starttls(ssl_context=context)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            _close(conn, True)
            raise MailError(f"无法连接邮件服务器 {host}:{port}：服务器拒绝了 STARTTLS 加密") from exc
        except OSError:
            _close(conn, True)
            raise
    return conn


def _login(conn: imaplib.IMAP4, user: str, password: str) -> None:
    import imaplib

    if "LOGINDISABLED" in conn.capabilities:
        raise MailError(f"无法登录邮箱 {user}：服务器只接受加密连接的登录，"
                        "请把 netreg.toml [mail] 的 imap_security 设为 \"ssl\" 或 \"starttls\"")
    try:
        conn.login(user, password)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        text = str(exc).upper()
        if "PRIVACYREQUIRED" in text:
            reason = "服务器只接受加密连接的登录，请把 imap_security 设为 \"ssl\" 或 \"starttls\""
        elif "UNAVAILABLE" in text:
            reason = "邮件服务器暂时不可用，请稍后再试"
        else:
            reason = LOGIN_HINT
        raise MailError(f"无法登录邮箱 {user}：{reason}") from None
    except UnicodeEncodeError:
        raise MailError(f"无法登录邮箱 {user}：用户名或授权码中有服务器不接受的字符"
                        "（只能用英文字母、数字和符号）") from None


def _send_id(conn: imaplib.IMAP4) -> None:
    """RFC 2971 ID after login: NetEase (126/163) refuses SELECT from clients that do not say
    who they are. A server that does not know ID answers NO or BAD: that is fine."""
    import imaplib

    from .. import __version__

    imaplib.Commands.setdefault("ID", ("AUTH", "SELECTED"))
    try:
        conn._simple_command("ID", f'("name" "netreg" "version" "{__version__}")')
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error:
        pass
    conn.untagged_responses.pop("ID", None)


def _examine(conn: imaplib.IMAP4, folder: str) -> int:
    """Open the folder read-only → its UIDVALIDITY."""
    typ, data = conn.select(_quoted(_imap_utf7(folder or "INBOX")), readonly=True)
    if typ != "OK":
        answer = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace").upper()
        if "UNSAFE" in answer:  # NetEase: the account does not allow this client
            raise MailError("邮件服务器拒绝本程序读取邮件：请在网页邮箱的“设置”中开启 IMAP 服务，"
                            "并用开启时得到的授权码登录")
        if "NOPERM" in answer:
            raise MailError(f"没有权限打开邮箱文件夹 “{folder}”")
        raise MailError(f"邮箱中没有文件夹 “{folder}”（请检查 netreg.toml [mail] 的 folder）")
    _, values = conn.response("UIDVALIDITY")
    try:
        return int(values[-1])
    except (TypeError, ValueError, IndexError):
        return 0  # a server that does not say: UIDs are taken as they are


def _search(conn: imaplib.IMAP4, since) -> list[int]:
    criteria = ["SINCE", f"{since.day:02d}-{MONTHS[since.month - 1]}-{since.year}"] if since else ["ALL"]
    typ, data = conn.uid("SEARCH", *criteria)
    if typ != "OK":
        raise MailError("邮件服务器无法列出邮件（SEARCH 被拒绝）")
    uids = set()
    for line in data:
        if isinstance(line, bytes):
            uids.update(int(word) for word in line.split() if word.isdigit())
    return sorted(uids)


INTERNALDATE = re.compile(
    rb'INTERNALDATE "\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([-+])(\d{2})(\d{2})"')


def _fetch(conn: imaplib.IMAP4, uid: int) -> tuple[bytes, datetime | None] | None:
    typ, data = conn.uid("FETCH", str(uid), "(UID INTERNALDATE BODY.PEEK[])")
    if typ != "OK":
        raise MailError(f"邮件服务器无法取出第 {uid} 封邮件（FETCH 被拒绝）")
    for item in data:
        if not isinstance(item, tuple):
            continue
        head, body = item
        match = re.search(rb"\bUID (\d+)", head)
        if match and int(match.group(1)) != uid:
            continue  # an unsolicited FETCH about another message
        return body, _internaldate(head)
    return None


def _internaldate(head: bytes) -> datetime | None:
    match = INTERNALDATE.search(head)
    if not match:
        return None
    day, mon, year, hh, mm, ss, sign, zh, zm = match.groups()
    try:
        month = [m.encode() for m in MONTHS].index(mon.capitalize()) + 1
        offset = timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == b"-" else 1)
        return datetime(int(year), month, int(day), int(hh), int(mm), int(ss),
                        tzinfo=timezone(offset)).astimezone()
    except ValueError:
        return None


def _close(conn: imaplib.IMAP4, broken: bool) -> None:
    """LOGOUT, or just close a connection that already failed (no waiting on a dead server)."""
    try:
        if broken:
            conn.shutdown()
        else:
            conn.logout()
    except Exception:  # noqa: BLE001 (closing must never hide what happened before)
        try:
            conn.shutdown()
        except Exception:  # noqa: BLE001, S110
            pass


def _network_error(exc: BaseException, where: str, *, connected: bool) -> MailError:
    import imaplib
    import socket
    import ssl

    if isinstance(exc, imaplib.IMAP4.abort) or (connected and isinstance(exc, (ConnectionResetError,
                                                                               BrokenPipeError, EOFError))):
        return MailError(f"与邮件服务器 {where} 的连接中断，请稍后再试")
    if isinstance(exc, ssl.SSLCertVerificationError):
        if "hostname" in str(exc).lower() or "ip address mismatch" in str(exc).lower():
            reason = "服务器证书与服务器名称不符（TLS 握手失败），请检查 imap_host"
        else:
            reason = "服务器证书无法验证（TLS 握手失败），可能是证书过期、自签名或网络被拦截"
    elif isinstance(exc, ssl.SSLError):
        reason = ("TLS 握手失败（请检查端口与加密方式是否相符：993 端口用 imap_security = \"ssl\"，"
                  "143 端口用 \"starttls\" 或 \"none\"）")
    elif isinstance(exc, (TimeoutError, socket.timeout)):
        reason = "连接超时（请检查网络、服务器名称和端口）"
    elif isinstance(exc, socket.gaierror):
        reason = "找不到这台服务器（请检查服务器名称 imap_host 和网络连接）"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "服务器拒绝连接（请检查端口 imap_port 是否正确）"
    elif isinstance(exc, (ConnectionResetError, BrokenPipeError, EOFError)):
        reason = "服务器断开了连接（请检查端口与加密方式是否相符）"
    elif isinstance(exc, OSError) and exc.errno is not None:
        reason = {101: "网络不可达", 113: "无法到达服务器所在网络", 10051: "网络不可达",
                  10065: "无法到达服务器所在网络"}.get(exc.errno, f"网络错误（错误码 {exc.errno}）")
    else:
        reason = "网络错误"
    if connected and not isinstance(exc, (ssl.SSLError, socket.gaierror, ConnectionRefusedError)):
        return MailError(f"与邮件服务器 {where} 通信失败：{reason}")
    return MailError(f"无法连接邮件服务器 {where}：{reason}")


def _imap_utf7(name: str) -> str:
    """A folder name as IMAP spells it (RFC 3501 modified UTF-7): 报送 → &YqVAAQ-."""
    import base64

    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if " " <= ch <= "~":
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------------
# Parsing one message


HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{0,60}:", re.M)


def is_message(path) -> bool:
    """A saved e-mail (.eml, RFC 5322): by name (.eml) or by its first lines (From:, Date:,
    MIME-Version…); a workbook or a text table is never one."""
    from pathlib import Path

    path = Path(path)
    if path.suffix.lower() == ".eml":
        return True
    if path.suffix.lower() not in ("", ".txt", ".msg", ".mht", ".mhtml"):
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    names = {m.group(0)[:-1].lower() for m in HEADER_LINE.finditer(head.split(b"\r\n\r\n")[0].split(b"\n\n")[0])}
    return {b"from", b"date"} <= names and bool(names & {b"mime-version", b"subject", b"message-id", b"to"})


def parse_message(raw: bytes, uidvalidity: int = 0, uid: int = 0,
                  internaldate: datetime | None = None) -> Message:
    """A message's bytes (RFC 5322) → ``Message``. Never raises on malformed mail: what cannot
    be decoded is replaced, a missing name becomes 附件N."""
    from email.parser import BytesParser
    from email.utils import getaddresses

    msg = BytesParser().parsebytes(raw)
    for part in msg.walk():
        _decode_8bit_headers(part)
    found = _attachments(msg)
    found, left_out = found[:MAX_ATTACHMENTS], max(0, len(found) - MAX_ATTACHMENTS)
    from_header = str(msg.get("From", "") or "")
    if "=?" in from_header and "@" not in from_header.split("?=")[-1]:
        from_header = decode_words(from_header)  # one encoded word holding name and address
    addresses = [(n, a) for n, a in getaddresses([from_header]) if a or n]
    name, address = addresses[0] if addresses else ("", "")
    return Message(
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=_one_line(str(msg.get("Message-ID", "") or "")),
        sender=address.strip().lower(),
        sender_name=_one_line(decode_words(name)).strip('"\' '),
        subject=_one_line(decode_words(str(msg.get("Subject", "") or ""))),
        received=_received(msg.get("Date"), internaldate),
        attachments=tuple(found),
        raw=raw,
        left_out=left_out,
    )


def _received(date_header, internaldate: datetime | None) -> datetime:
    from email.utils import parsedate_to_datetime

    if date_header:
        try:
            when = parsedate_to_datetime(str(date_header))
            if when.tzinfo is None:  # "-0000": UTC, sender's zone unknown
                when = when.replace(tzinfo=UTC)
            return when.astimezone()
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    if internaldate is not None:
        return internaldate if internaldate.tzinfo else internaldate.astimezone()
    return datetime.now().astimezone()


def _attachments(msg: EmailMessage) -> list[Attachment]:
    """Every file in the message, also inside forwarded messages (message/rfc822)."""
    found: list[Attachment] = []
    for part in msg.walk():  # walks into message/rfc822 parts too
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype in SIGNATURE_TYPES:
            continue
        disposition = (part.get("Content-Disposition", "") or "").split(";", 1)[0].strip().lower()
        name = _part_filename(part)
        if not name and disposition != "attachment":
            if ctype.startswith(("text/", "multipart/", "message/")) or disposition == "inline" \
                    or (ctype.startswith("image/") and part.get("Content-ID")):
                continue  # the body (text/html, inline pictures without a name)
            # any other part is a file, as mail clients show it (a workbook sent with no name)
        data = part.get_payload(decode=True)
        if data is None:
            data = b""
        number = len(found) + 1
        found.append(Attachment(safe_name(name, ctype, number), data))
    return found


def _part_filename(part: EmailMessage) -> str:
    """filename= of Content-Disposition, else name= of Content-Type; RFC 2231 or RFC 2047
    (inside the quotes), UTF-8 or GB18030, or raw 8-bit bytes."""
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        value = part.get_param(param, None, header)
        if value is None:
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded text)
            charset, _language, text = value
            data = text.encode("raw-unicode-escape", "replace")
            return _decode_bytes(data, charset)
        from email.utils import unquote

        return decode_words(unquote(str(value)))
    return ""


def safe_name(name: str, ctype: str = "application/octet-stream", number: int = 1) -> str:
    """A file name that is safe to write on Windows: no folders, none of \\/:*?"<>| or control
    characters, no reserved device name; ``附件N`` (with an extension from the content type)
    when nothing is left."""
    name = re.split(r"[\\/]", name)[-1]
    name = FORBIDDEN.sub("", name).strip().rstrip(". ").strip()
    if name in ("", ".", ".."):
        return f"附件{number}{_extension(ctype)}"
    if RESERVED.match(name):
        name = "_" + name
    if len(name) > MAX_NAME or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        if not (dot and 0 < len(ext) <= 10 and stem):
            stem, ext = name, ""
        suffix = "." + ext if ext else ""
        stem = stem[:MAX_NAME - len(suffix)]
        while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
            stem = stem[:-1]
        name = stem.rstrip(". ") + suffix if stem.strip(". ") else f"附件{number}{suffix}"
    return name


def _extension(ctype: str) -> str:
    ctype = ctype.lower()
    if ctype in EXTENSIONS:
        return EXTENSIONS[ctype]
    import mimetypes

    return mimetypes.guess_extension(ctype, strict=False) or ""


# ---------------------------------------------------------------------------------------------
# Header text


def decode_words(text: str) -> str:
    """RFC 2047 encoded words (=?gb18030?b?…?=, =?utf-8?q?…?=) → text; plain text is kept.
    GB2312/GBK labels are read as GB18030 (Chinese clients label GBK text GB2312); words split
    in the middle of a character are joined before decoding."""
    from email.errors import HeaderParseError
    from email.header import decode_header

    text = re.sub(r"\r?\n[ \t]*", " ", text)
    if "=?" not in text:
        return text
    try:
        parts = decode_header(text)
    except (HeaderParseError, ValueError, LookupError, AssertionError):
        return text
    out = []
    for data, charset in parts:
        if isinstance(data, str):
            out.append(data)
        elif charset is None:  # unencoded text between words
            try:
                out.append(data.decode("raw-unicode-escape"))
            except UnicodeDecodeError:
                out.append(data.decode("latin-1"))
        else:
            out.append(_decode_bytes(data, charset))
    return "".join(out)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset; a wrong or unknown label falls back to UTF-8, then GB18030."""
    charset = (charset or "").strip().lower()
    if charset in GB_CHARSETS:
        charset = "gb18030"
    if charset and charset not in ("us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            pass
    return _guess_text(data)


def _guess_text(data: bytes) -> str:
    """Bytes of unknown encoding: UTF-8 or GB18030. A short GB18030 word can also be valid UTF-8
    (医学院 → ҽѧԺ): UTF-8 that gives two-byte letters outside the everyday accented Latin,
    Greek and Cyrillic alphabets, while GB18030 gives Chinese, is read as GB18030."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", "replace")
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if wide and all(ord(ch) < 0x800 for ch in wide) and not all(_alphabetic(ch) for ch in wide):
        try:
            other = data.decode("gb18030")
        except UnicodeDecodeError:
            return text
        if all(_chinese(ch) for ch in other if ord(ch) > 0x7F):
            return other
    return text


def _alphabetic(ch: str) -> bool:
    """A letter of text people write in UTF-8 without Chinese: accented Latin (Müller),
    Greek, Russian."""
    code = ord(ch)
    return 0xC0 <= code <= 0x17F or 0x391 <= code <= 0x3C9 or 0x401 <= code <= 0x451


def _chinese(ch: str) -> bool:
    code = ord(ch)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x3000 <= code <= 0x303F
            or 0xFF00 <= code <= 0xFFEF or 0x2000 <= code <= 0x206F)


def _decode_8bit_headers(part: EmailMessage) -> None:
    """Headers with raw 8-bit bytes (a Chinese client that did not encode them) are read as
    UTF-8, else GB18030. The parser keeps such bytes as surrogate escapes and would hand them
    out as U+FFFD; they are decoded once here, in place, before anything reads the headers."""
    items = list(part.raw_items())
    if not any(isinstance(v, str) and ESCAPED.search(v) for _, v in items):
        return
    for name in {n for n, _ in items}:
        del part[name]
    for name, value in items:
        if isinstance(value, str) and ESCAPED.search(value):
            value = _decode_bytes(value.encode("utf-8", "surrogateescape"), None)
        part[name] = value


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------------------------------
# The password


def password_from_env_or_prompt(user: str) -> str:
    """NETREG_MAIL_PASSWORD, else asked for at the terminal (not shown while typed). Never
    printed or stored."""
    value = os.environ.get("NETREG_MAIL_PASSWORD")
    if value:
        return value
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        raise MailError(f"需要邮箱 {user} 的密码或授权码：请设置环境变量 NETREG_MAIL_PASSWORD，"
                        "或在终端中运行本命令后输入")
    import getpass

    try:
        value = getpass.getpass(f"请输入邮箱 {user} 的密码或授权码（输入时不显示）：")
    except EOFError:
        value = ""
    if not value:
        raise MailError(f"没有输入邮箱 {user} 的密码或授权码")
    return value
