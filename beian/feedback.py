"""Durable log of the questions users ask, whether they were answered, and their 👍/👎.

SQLite in WAL mode, one connection per operation (so any thread, any Streamlit session, and the
CLI can use the same file safely), parameterised queries only, a busy timeout, and no statement
that could destroy rows: the schema is only ever created (`IF NOT EXISTS`) or extended
(`ALTER TABLE … ADD COLUMN`). A file that is not a database is reported (FeedbackError) and left
exactly as it is.

Where the file lives, first match wins:
  $BEIAN_DB                   the database file itself
  $BEIAN_DATA_DIR/feedback.sqlite3
  <project>/data/feedback.sqlite3
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import BeianError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DB_FILENAME = "feedback.sqlite3"
MAX_QUESTION_CHARS = 2000  # what we keep of one question; the matcher cuts earlier anyway
BUSY_TIMEOUT_S = 5.0
SCHEMA_VERSION = 1

THUMBS_DOWN, THUMBS_UP = 0, 1  # the values st.feedback("thumbs") returns

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at    TEXT    NOT NULL,             -- UTC, ISO 8601
    question    TEXT    NOT NULL,
    answered    INTEGER NOT NULL,             -- 1 answered, 0 declined
    entry_id    TEXT,                         -- the entry answered with
    score       REAL    NOT NULL DEFAULT 0,
    reason      TEXT    NOT NULL DEFAULT '',  -- why declined: empty | too_vague | low_score | out_of_scope | ambiguous
    suggestion  TEXT,                         -- best suggestion id when declined
    origin      TEXT    NOT NULL DEFAULT '',  -- typed | example | suggestion | related | link | cli
    session     TEXT    NOT NULL DEFAULT '',
    feedback    INTEGER,                      -- 1 👍, 0 👎, NULL none
    feedback_at TEXT
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions(asked_at);
CREATE INDEX IF NOT EXISTS questions_answered ON questions(answered);
"""


class FeedbackError(BeianError):
    """The log cannot be read or written (disk full, read-only, not a database, locked too long)."""


@dataclass(frozen=True)
class LoggedQuestion:
    id: int
    asked_at: str
    question: str
    answered: bool
    entry_id: str | None
    score: float
    reason: str
    suggestion: str | None
    origin: str
    feedback: int | None
    feedback_at: str | None

    def to_row(self) -> dict:
        return {
            "id": self.id, "asked_at": self.asked_at, "question": self.question,
            "answered": self.answered, "entry_id": self.entry_id or "", "score": round(self.score, 1),
            "reason": self.reason, "suggestion": self.suggestion or "", "origin": self.origin,
            "feedback": {THUMBS_UP: "up", THUMBS_DOWN: "down"}.get(self.feedback, ""),
            "feedback_at": self.feedback_at or "",
        }


@dataclass(frozen=True)
class Stats:
    total: int
    answered: int
    thumbs_up: int
    thumbs_down: int

    @property
    def unanswered(self) -> int:
        return self.total - self.answered


_COLUMNS = "id, asked_at, question, answered, entry_id, score, reason, suggestion, origin, feedback, feedback_at"


def default_db_path() -> Path:
    if os.environ.get("BEIAN_DB"):
        return Path(os.environ["BEIAN_DB"]).expanduser()
    if os.environ.get("BEIAN_DATA_DIR"):
        return Path(os.environ["BEIAN_DATA_DIR"]).expanduser() / DB_FILENAME
    return PROJECT_ROOT / "data" / DB_FILENAME


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _storable(question: object) -> str:
    """What we keep of a question: at most MAX_QUESTION_CHARS, valid UTF-8 (a lone surrogate, which
    SQLite cannot store, becomes "?")."""
    return str(question)[:MAX_QUESTION_CHARS].encode("utf-8", "replace").decode("utf-8")


class FeedbackLog:
    """The log at one path. Cheap to create; the file and schema are made on first use."""

    _ready: set[str] = set()  # paths whose schema this process has already ensured
    _ready_lock = threading.Lock()

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else default_db_path()

    # -- plumbing ---------------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection for one operation, committed on success and always closed."""
        try:
            self._ensure_schema()
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")  # per connection; with WAL a crash loses nothing committed
            with conn:  # a transaction: commit, or roll back on error
                yield conn
        except sqlite3.Error as exc:
            if "no such table" in str(exc):  # the file was replaced under us: make the schema again next time
                self._ready.discard(str(self.path.resolve()))
            raise self._error(exc) from exc
        finally:
            conn.close()

    def _error(self, exc: BaseException) -> FeedbackError:
        return FeedbackError(f"feedback log {self.path}: {exc}")

    def _ensure_schema(self) -> None:
        key = str(self.path.resolve())
        if key in self._ready:
            return
        with self._ready_lock:
            if key in self._ready:
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._error(exc) from exc
            try:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise sqlite3.OperationalError(f"could not switch to WAL mode (got {mode})")
                with conn:
                    conn.executescript(_SCHEMA)
                    self._migrate(conn)
            except sqlite3.Error as exc:  # e.g. "file is not a database": report, never recreate
                raise self._error(exc) from exc
            finally:
                conn.close()
            self._ready.add(key)

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        """Additive only: bring an older file up to this schema without touching its rows."""
        have = {row[1] for row in conn.execute("PRAGMA table_info(questions)")}
        wanted = {"reason": "TEXT NOT NULL DEFAULT ''", "suggestion": "TEXT",
                  "origin": "TEXT NOT NULL DEFAULT ''", "session": "TEXT NOT NULL DEFAULT ''",
                  "feedback": "INTEGER", "feedback_at": "TEXT"}
        for column, decl in wanted.items():
            if column not in have:
                conn.execute(f"ALTER TABLE questions ADD COLUMN {column} {decl}")  # names are ours, not input
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- writing ----------------------------------------------------------------------------------

    def log_question(self, question: str, *, answered: bool, entry_id: str | None = None,
                     score: float = 0.0, reason: str = "", suggestion: str | None = None,
                     origin: str = "", session: str = "") -> int:
        """Record one question; returns its row id (to tie feedback to it)."""
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO questions (asked_at, question, answered, entry_id, score, reason,"
                " suggestion, origin, session) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_now(), _storable(question), int(bool(answered)), entry_id,
                 float(score), reason or "", suggestion, origin or "", session or ""),
            )
            return int(cur.lastrowid)

    def log_answer(self, answer, *, origin: str = "", session: str = "", question: str | None = None) -> int:
        """Record what the matcher returned (a beian.answer.Answer)."""
        return self.log_question(
            question if question is not None else (answer.question or ""),
            answered=answer.answered, entry_id=answer.id, score=answer.score, reason=answer.reason,
            suggestion=answer.suggestions[0].id if answer.suggestions else None,
            origin=origin, session=session,
        )

    def set_feedback(self, row_id: int, value: int | None) -> bool:
        """Set (1 👍 / 0 👎) or clear (None) the feedback on one question; False if no such row."""
        if value not in (THUMBS_UP, THUMBS_DOWN, None):
            raise ValueError(f"feedback must be {THUMBS_UP}, {THUMBS_DOWN} or None, got {value!r}")
        with self._connect() as conn:
            cur = conn.execute("UPDATE questions SET feedback = ?, feedback_at = ? WHERE id = ?",
                               (value, _now() if value is not None else None, int(row_id)))
            return cur.rowcount == 1

    # -- reading ----------------------------------------------------------------------------------

    def _select(self, where: str = "", params: tuple = (), limit: int | None = None) -> list[LoggedQuestion]:
        sql = f"SELECT {_COLUMNS} FROM questions {where} ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params = (*params, int(limit))
        with self._connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [LoggedQuestion(r[0], r[1], r[2], bool(r[3]), r[4], float(r[5] or 0), r[6] or "", r[7],
                               r[8] or "", r[9], r[10]) for r in rows]

    def get(self, row_id: int) -> LoggedQuestion | None:
        rows = self._select("WHERE id = ?", (int(row_id),))
        return rows[0] if rows else None

    def recent(self, limit: int = 100) -> list[LoggedQuestion]:
        return self._select(limit=limit)

    def unanswered(self, limit: int | None = 1000) -> list[LoggedQuestion]:
        return self._select("WHERE answered = 0 AND reason != 'empty'", limit=limit)

    def disliked(self, limit: int | None = 1000) -> list[LoggedQuestion]:
        return self._select("WHERE feedback = ?", (THUMBS_DOWN,), limit=limit)

    def all(self) -> list[LoggedQuestion]:
        return self._select()

    def stats(self) -> Stats:
        with self._connect() as conn:
            total, answered, up, down = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(answered), 0),"
                " COALESCE(SUM(feedback = ?), 0), COALESCE(SUM(feedback = ?), 0) FROM questions",
                (THUMBS_UP, THUMBS_DOWN),
            ).fetchone()
        return Stats(int(total), int(answered), int(up), int(down))
