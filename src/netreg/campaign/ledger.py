"""The campaign ledger: every submission ever received, in ``netreg.db`` (standard-library
sqlite3), and the files themselves in ``收件/``, read-only, named by their content hash.

Nothing is ever deleted: an excluded submission is kept and marked, a duplicate is recorded as
one. The schema is versioned with ``PRAGMA user_version`` and migrated forward when a ledger of
an earlier version is opened; a ledger newer than this netreg is refused, never rewritten.
Every change is one transaction (``BEGIN IMMEDIATE``): two ``intake`` runs at once queue for
the write lock instead of corrupting or double-numbering anything.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ..errors import NetregError
from ..util.oserror import os_reason

DB_NAME = "netreg.db"
STORE_NAME = "收件"

# Each entry takes a ledger from version n to n + 1; never edit one that has shipped.
MIGRATIONS: list[str] = [
    # 1: submissions, the coordinator's overrides and the paper copies
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,              -- 1, 2, 3… in the order they were recorded
        received TEXT NOT NULL,              -- ISO local time: --received, the Date of the mail, or mtime
        recorded TEXT NOT NULL,
        sender TEXT,
        name TEXT NOT NULL,                  -- as it arrived: 医学院.xlsx, 包.zip/医学院.xlsx
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        stored TEXT,                         -- file name in 收件/ (NULL: nothing stored)
        format TEXT,
        unit TEXT,
        unit_forced INTEGER NOT NULL DEFAULT 0,
        forms TEXT NOT NULL DEFAULT '',      -- '1,2,5': the forms it holds (filled in or 无)
        state TEXT NOT NULL,                 -- new | duplicate | unreadable | unknown-unit
        duplicate_of INTEGER REFERENCES submissions(id),
        origin TEXT NOT NULL DEFAULT 'file'  -- file | mail
    );
    CREATE INDEX submissions_sha ON submissions(sha256);
    CREATE INDEX submissions_unit ON submissions(unit);
    CREATE TABLE overrides (                 -- netreg exclude / include, newest wins
        id INTEGER PRIMARY KEY,
        submission INTEGER NOT NULL REFERENCES submissions(id),
        action TEXT NOT NULL,                -- exclude | include
        reason TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE paper (                     -- netreg paper: newest entry per unit wins
        id INTEGER PRIMARY KEY,
        unit TEXT NOT NULL,
        received TEXT,                       -- NULL: --undo
        at TEXT NOT NULL
    );
    """,
    # 2: the mailbox: each message fetched once, with what it carried
    """
    CREATE TABLE messages (
        folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        message_id TEXT,
        sender TEXT,
        subject TEXT,
        received TEXT,
        attachments INTEGER NOT NULL,
        fetched TEXT NOT NULL,
        done INTEGER NOT NULL DEFAULT 0,     -- 1 once every attachment is recorded
        PRIMARY KEY (folder, uidvalidity, uid)
    );
    ALTER TABLE submissions ADD COLUMN message INTEGER;  -- rowid of messages, for mail
    """,
    # 3: letters sent by netreg remind --send (and failed attempts, retried on the next run)
    """
    CREATE TABLE letters (
        id INTEGER PRIMARY KEY,
        unit TEXT NOT NULL,
        kind TEXT NOT NULL,                  -- 催报 | 整改
        status_key TEXT NOT NULL,            -- hash of (unit, kind, what is needed): never sent twice
        recipients TEXT NOT NULL,            -- the addresses, comma-separated
        subject TEXT NOT NULL,
        sent_at TEXT NOT NULL,               -- ISO local time of the attempt
        message_id TEXT,
        error TEXT                           -- NULL: sent; else why not, in Chinese
    );
    CREATE INDEX letters_key ON letters(status_key);
    """,
    # 4: a message that could not be recorded is set aside (done = 2), kept whole in 收件/
    """
    ALTER TABLE messages ADD COLUMN kept TEXT;  -- file name in 收件/ of the whole message (.eml)
    """,
    # 5: a submission (报送) is one delivery — a message, an .eml, a zip, one unit's files of one
    # intake run — holding one or more files (the table ``submissions`` holds the files);
    # exclude/include name deliveries; the 完成日期 a letter asked for is remembered
    """
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,              -- 报送编号 1, 2, 3… in the order they were recorded
        received TEXT NOT NULL,
        recorded TEXT NOT NULL,
        sender TEXT,
        origin TEXT NOT NULL DEFAULT 'file', -- file | mail | eml | zip
        label TEXT NOT NULL DEFAULT '',      -- the zip's or .eml's name, the message's subject
        unit TEXT,
        message INTEGER                      -- rowid of messages, for mail
    );
    CREATE INDEX deliveries_unit ON deliveries(unit);
    ALTER TABLE submissions ADD COLUMN delivery INTEGER REFERENCES deliveries(id);
    ALTER TABLE overrides ADD COLUMN delivery INTEGER REFERENCES deliveries(id);
    CREATE TABLE asked (                     -- what a letter asked of a unit, and by when (its 完成日期)
        id INTEGER PRIMARY KEY,
        unit TEXT NOT NULL,
        kind TEXT NOT NULL,
        status_key TEXT NOT NULL,
        made TEXT NOT NULL,                  -- the day the letter was made (its as-of date)
        due TEXT NOT NULL
    );
    """,
    "regroup",  # Python: the files of one message or one zip become one delivery (_regroup)
    # 7: a letter is recorded before it goes out (state sending, with its Message-ID) and settled
    # after: sent, failed, or unknown (the server had the message and did not confirm it); a
    # sending or unknown letter is sent again with the same Message-ID, never a new one
    """
    ALTER TABLE letters ADD COLUMN state TEXT NOT NULL DEFAULT 'sent';  -- sending | sent | failed | unknown
    UPDATE letters SET state = 'failed' WHERE error IS NOT NULL;
    """,
]
VERSION = len(MIGRATIONS)


class LedgerError(NetregError):
    """The ledger cannot be opened or written (one Chinese line)."""


@dataclass(frozen=True)
class File:
    """One stored file of a submission."""

    id: int  # the file's own number (internal; people see the submission's)
    received: datetime
    sender: str | None
    name: str
    sha256: str
    size: int
    stored: str | None
    format: str | None
    unit: str | None
    forms: frozenset[int]
    state: str
    duplicate_of: int | None
    origin: str
    excluded: str | None = None  # the reason, when the coordinator excluded its submission
    delivery: int = 0  # the submission (报送) it arrived in

    @property
    def readable(self) -> bool:
        return self.state in ("new", "unknown-unit") and self.stored is not None


@dataclass(frozen=True)
class Submission:
    """One delivery (报送): what one sender handed over at one time, with its files."""

    id: int
    received: datetime
    sender: str | None
    origin: str
    label: str
    unit: str | None
    files: tuple[File, ...]
    excluded: str | None = None

    @property
    def duplicate(self) -> bool:
        """Every file of it was already in the ledger: nothing new was handed over."""
        return bool(self.files) and all(f.state == "duplicate" for f in self.files)

    @property
    def forms(self) -> frozenset[int]:
        return frozenset().union(*(f.forms for f in self.files if f.state != "duplicate"))

    @property
    def name(self) -> str:
        """How it is shown: its label, or its file's name, or 医学院.xlsx 等 3 个文件."""
        if self.label:
            return self.label
        if len(self.files) == 1:
            return self.files[0].name
        return f"{self.files[0].name} 等 {len(self.files)} 个文件" if self.files else "（没有文件）"


def now() -> str:
    return datetime.now().replace(microsecond=0).isoformat(sep=" ")


class Ledger:
    """An open ledger. Use as a context manager; ``with ledger.write():`` is one transaction."""

    def __init__(self, folder: Path, connection: sqlite3.Connection):
        self.folder = Path(folder)
        self.db = connection

    # ------------------------------------------------------------------ open / create
    @classmethod
    def open(cls, folder: Path, *, create: bool = False) -> Ledger:
        folder = Path(folder)
        path = folder / DB_NAME
        if not path.exists() and not create:
            raise LedgerError(f"{folder} 中没有报送台账 {DB_NAME}：请先在该文件夹运行 netreg init，"
                              "或用 --campaign 指定活动文件夹")
        created, db = create and not path.exists(), None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=60, isolation_level=None)
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA journal_mode = WAL")  # readers (status, serve) never wait for a writer
            ledger = cls(folder, db)
            ledger._migrate()
        except (sqlite3.DatabaseError, OSError) as exc:
            if db is not None:
                db.close()
            for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal") if created else ():
                (folder / name).unlink(missing_ok=True)  # a ledger this run could not create is not left half-made
            if isinstance(exc, OSError):
                raise LedgerError(f"报送台账 {path} 无法打开：{os_reason(exc)}") from None
            raise LedgerError(f"报送台账 {path} 无法打开（{_db_reason(exc)}）") from None
        return ledger

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > VERSION:
            raise LedgerError(f"报送台账 {self.folder / DB_NAME} 由更新版本的 netreg 创建（版本 {version}），"
                              "请升级 netreg 后再使用")
        if version == VERSION:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]  # another run may have migrated
            for n in range(version, VERSION):
                if MIGRATIONS[n] == "regroup":
                    _regroup(self.db)
                for statement in _statements(MIGRATIONS[n]) if MIGRATIONS[n] != "regroup" else ():
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {n + 1}")
            if version == 0:
                self.db.execute("INSERT INTO meta VALUES ('created', ?)", (now(),))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write(self):
        return _Transaction(self.db)

    @property
    def store(self) -> Path:
        return self.folder / STORE_NAME

    def created(self) -> date:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'created'").fetchone()
        return datetime.fromisoformat(row[0]).date() if row else date.today()

    # ------------------------------------------------------------------ files
    def keep(self, data: bytes, name: str) -> tuple[str, str]:
        """Store ``data`` read-only in 收件/ (once per content); returns (sha256, stored name)."""
        digest = hashlib.sha256(data).hexdigest()
        suffix = "".join(Path(name).suffixes[-1:]).lower()[:12]
        stored = digest + suffix
        target = self.store / stored
        if not target.exists():
            from ..util.atomic import atomic_path

            self.store.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                tmp.write_bytes(data)
            os.chmod(target, stat.S_IREAD | stat.S_IRGRP | stat.S_IROTH)
        return digest, stored

    def path_of(self, sub: File) -> Path:
        return self.store / sub.stored

    # ------------------------------------------------------------------ submissions and their files
    def first_with(self, sha256: str) -> int | None:
        """The file that first brought these bytes."""
        row = self.db.execute("SELECT id FROM submissions WHERE sha256 = ? AND state != 'duplicate' ORDER BY id LIMIT 1",
                              (sha256,)).fetchone()
        return row[0] if row else None

    def add_delivery(self, *, received: datetime, sender: str | None, origin: str, label: str, unit: str | None,
                     message: int | None = None) -> int:
        cur = self.db.execute(
            "INSERT INTO deliveries (received, recorded, sender, origin, label, unit, message) VALUES (?,?,?,?,?,?,?)",
            (received.replace(microsecond=0).isoformat(sep=" "), now(), sender, origin, label, unit, message))
        return cur.lastrowid

    def add(self, *, delivery: int, received: datetime, sender: str | None, name: str, sha256: str, size: int,
            stored: str | None, format: str | None, unit: str | None, unit_forced: bool,
            forms: frozenset[int], state: str, duplicate_of: int | None, origin: str,
            message: int | None = None) -> int:
        """Record one file of submission ``delivery``; its file number."""
        cur = self.db.execute(
            "INSERT INTO submissions (received, recorded, sender, name, sha256, size, stored, format, unit,"
            " unit_forced, forms, state, duplicate_of, origin, message, delivery)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (received.replace(microsecond=0).isoformat(sep=" "), now(), sender, name, sha256, size, stored, format,
             unit, int(unit_forced), ",".join(str(f) for f in sorted(forms)), state, duplicate_of, origin, message,
             delivery))
        return cur.lastrowid

    def files(self, fid: int | None = None) -> list[File]:
        """Every file (or only file ``fid``), in the order recorded, with its submission's
        received time and exclusion."""
        excluded = self._excluded()
        rows = self.db.execute(
            "SELECT s.id, d.received, d.sender, s.name, s.sha256, s.size, s.stored, s.format, s.unit, s.forms,"
            " s.state, s.duplicate_of, d.origin, s.delivery FROM submissions s JOIN deliveries d ON d.id = s.delivery"
            + (" WHERE s.id = ?" if fid is not None else "") + " ORDER BY s.delivery, s.id",
            () if fid is None else (fid,)).fetchall()
        return [File(r[0], datetime.fromisoformat(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                     frozenset(int(f) for f in r[9].split(",") if f), r[10], r[11], r[12], excluded.get(r[13]), r[13])
                for r in rows]

    def submissions(self) -> list[Submission]:
        """Every submission (delivery) with its files, in the order recorded."""
        excluded = self._excluded()
        files: dict[int, list[File]] = {}
        for f in self.files():
            files.setdefault(f.delivery, []).append(f)
        rows = self.db.execute("SELECT id, received, sender, origin, label, unit FROM deliveries ORDER BY id").fetchall()
        return [Submission(r[0], datetime.fromisoformat(r[1]), r[2], r[3], r[4], r[5], tuple(files.get(r[0], ())),
                           excluded.get(r[0])) for r in rows]

    def get(self, sid: int) -> Submission | None:
        return next((s for s in self.submissions() if s.id == sid), None)

    def file(self, fid: int) -> File | None:
        """One file by its number (intake asks this for every repeat: one row, not the ledger)."""
        found = self.files(fid)
        return found[0] if found else None

    def round_of(self, unit: str, sid: int) -> int:
        """第 N 次报送: the submission's place among the unit's submissions that brought something new."""
        return self.db.execute(
            "SELECT COUNT(*) FROM deliveries d WHERE d.unit = ? AND d.id <= ? AND EXISTS"
            " (SELECT 1 FROM submissions s WHERE s.delivery = d.id AND s.state != 'duplicate')",
            (unit, sid)).fetchone()[0]

    def _excluded(self) -> dict[int, str]:
        latest: dict[int, tuple[str, str]] = {}
        for sid, action, reason in self.db.execute("SELECT delivery, action, reason FROM overrides ORDER BY id"):
            latest[sid] = (action, reason)
        return {sid: reason for sid, (action, reason) in latest.items() if action == "exclude"}

    def overrides(self, sid: int) -> list[tuple[str, str, str]]:
        """(action, reason, at) of every exclude/include of submission ``sid``, oldest first."""
        return self.db.execute("SELECT action, reason, at FROM overrides WHERE delivery = ? ORDER BY id",
                               (sid,)).fetchall()

    def override(self, sid: int, action: str, reason: str) -> None:
        first = self.db.execute("SELECT MIN(id) FROM submissions WHERE delivery = ?", (sid,)).fetchone()[0]
        self.db.execute("INSERT INTO overrides (submission, action, reason, at, delivery) VALUES (?,?,?,?,?)",
                        (first, action, reason, now(), sid))

    # ------------------------------------------------------------------ what letters asked
    def ask(self, unit: str, kind: str, status_key: str, made: date, due: date) -> bool:
        """Remember that a letter asked ``unit`` for something by ``due``; False when a letter
        with the same content was already remembered (its date stands)."""
        if self.db.execute("SELECT 1 FROM asked WHERE status_key = ?", (status_key,)).fetchone():
            return False
        self.db.execute("INSERT INTO asked (unit, kind, status_key, made, due) VALUES (?,?,?,?,?)",
                        (unit, kind, status_key, made.isoformat(), due.isoformat()))
        return True

    def asked(self) -> dict[str, tuple[date, date]]:
        """Per unit, (made, due) of the latest letter that asked it for something."""
        out: dict[str, tuple[date, date]] = {}
        for unit, made, due in self.db.execute("SELECT unit, made, due FROM asked ORDER BY made, id"):
            out[unit] = (date.fromisoformat(made), date.fromisoformat(due))
        return out

    # ------------------------------------------------------------------ paper copies
    def paper(self) -> dict[str, date]:
        latest: dict[str, str | None] = {}
        for unit, received in self.db.execute("SELECT unit, received FROM paper ORDER BY id"):
            latest[unit] = received
        return {u: date.fromisoformat(d) for u, d in latest.items() if d}

    def set_paper(self, unit: str, day: date | None) -> None:
        self.db.execute("INSERT INTO paper (unit, received, at) VALUES (?,?,?)",
                        (unit, day.isoformat() if day else None, now()))

    # ------------------------------------------------------------------ mailbox
    def message_seen(self, folder: str, uidvalidity: int, uid: int) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE folder = ? AND uidvalidity = ? AND uid = ? AND done >= 1",
                               (folder, uidvalidity, uid)).fetchone() is not None

    def add_message(self, folder: str, msg, attachments: int) -> int:
        """Record a message being taken in (again, if a run was cut short); its rowid."""
        received = msg.received.astimezone().replace(tzinfo=None) if msg.received.tzinfo else msg.received
        self.db.execute(
            "INSERT INTO messages (folder, uidvalidity, uid, message_id, sender, subject, received, attachments, fetched)"
            " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (folder, uidvalidity, uid) DO UPDATE SET fetched = excluded.fetched",
            (folder, msg.uidvalidity, msg.uid, msg.message_id, msg.sender, msg.subject,
             received.replace(microsecond=0).isoformat(sep=" "), attachments, now()))
        return self.db.execute("SELECT rowid FROM messages WHERE folder = ? AND uidvalidity = ? AND uid = ?",
                               (folder, msg.uidvalidity, msg.uid)).fetchone()[0]

    def message_done(self, rowid: int) -> None:
        self.db.execute("UPDATE messages SET done = 1 WHERE rowid = ?", (rowid,))

    def message_set_aside(self, rowid: int, kept: str) -> None:
        """A message that could not be recorded: never fetched again, kept whole as ``kept``."""
        self.db.execute("UPDATE messages SET done = 2, kept = ? WHERE rowid = ?", (kept, rowid))

    def messages(self) -> list[tuple]:
        """(sender, subject, received, attachments) of every message taken in, oldest first."""
        return self.db.execute("SELECT sender, subject, received, attachments FROM messages ORDER BY received").fetchall()


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")  # the write lock now: a second intake waits here
        return self.db

    def __exit__(self, kind, exc, tb) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _regroup(db: sqlite3.Connection) -> None:
    """Ledger v5: the files recorded so far become submissions — the files of one message, or
    of one zip received at one time, are one; any other file is one of its own — split by
    unit. Numbered in the order their first file was recorded; every exclusion follows its
    file to its submission. No file is dropped."""
    rows = db.execute("SELECT id, received, recorded, sender, name, unit, origin, message FROM submissions"
                      " ORDER BY id").fetchall()
    groups: dict[tuple, int] = {}
    for fid, received, recorded, sender, name, unit, origin, message in rows:
        head, sep, _rest = name.partition("/")
        if message is not None:
            key = ("mail", message, unit)
        elif sep and head.lower().endswith(".zip"):
            key = ("zip", head, received, unit)
        else:
            key = ("file", fid)
        if key not in groups:
            label = head if key[0] == "zip" else ""
            if message is not None:
                got = db.execute("SELECT subject FROM messages WHERE rowid = ?", (message,)).fetchone()
                label = got[0] if got and got[0] else ""
            groups[key] = db.execute(
                "INSERT INTO deliveries (received, recorded, sender, origin, label, unit, message) VALUES (?,?,?,?,?,?,?)",
                (received, recorded, sender, origin, label, unit, message)).lastrowid
        db.execute("UPDATE submissions SET delivery = ? WHERE id = ?", (groups[key], fid))
    db.execute("UPDATE overrides SET delivery = (SELECT delivery FROM submissions WHERE id = overrides.submission)")


def _statements(script: str) -> list[str]:
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _db_reason(exc: sqlite3.DatabaseError) -> str:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return "另一个 netreg 正在使用它，请稍后再试"
    if "not a database" in text or "malformed" in text:
        return "文件已损坏或不是 netreg 的台账"
    if "readonly" in text or "read-only" in text:
        return "文件或文件夹是只读的"
    return "数据库错误"


def find_campaign(folder: Path | None) -> Path | None:
    """The campaign folder: ``folder`` if given, else the current folder when it holds a ledger."""
    if folder is not None:
        return Path(folder)
    here = Path.cwd()
    return here if (here / DB_NAME).exists() else None
