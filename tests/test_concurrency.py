"""Nothing lost: the question log under concurrent writers — threads and separate processes — and
when its file is read-only, locked past the busy timeout, or corrupt. In every failure the app goes
on answering, says so once, and no row written before is touched.

(The CLI never writes the log: `ask` answers whatever state the file is in; checked here too.)
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_app import _env, ask, assistant_messages, new_app  # noqa: F401 (_env: autouse, own data dir)

from beian import feedback
from beian.cli import main
from beian.feedback import FeedbackError, FeedbackLog
from ui.engine import LOG_NOTICE

WRITERS, WRITES = 8, 500
SEEDED = 40  # rows in the log before it breaks


def payload(writer: int, i: int) -> str:
    return f"writer {writer} · question {i} · 备案要多久？"


def write_many(path: str, writer: int, writes: int = WRITES) -> None:
    """One writer: `writes` questions, each through its own FeedbackLog call (as the app does)."""
    log = FeedbackLog(path)
    for i in range(writes):
        log.log_question(payload(writer, i), answered=bool(i % 2), score=float(i % 100), origin="test",
                         session=f"writer-{writer}")


def _threads(path: Path) -> None:
    errors: list[BaseException] = []

    def run(writer: int) -> None:
        try:
            write_many(str(path), writer)
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []


def _processes(path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no lock or connection inherited
    procs = [ctx.Process(target=write_many, args=(str(path), w)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * WRITERS


@pytest.mark.parametrize("how", [_threads, _processes], ids=["threads", "processes"])
def test_concurrent_writers_lose_nothing(how: Callable[[Path], None], tmp_path: Path, capsys):
    path = tmp_path / "fresh" / "feedback.sqlite3"  # not created yet: the writers race to create it too
    start = time.perf_counter()
    how(path)
    seconds = time.perf_counter() - start
    rows = FeedbackLog(path).all()
    written = WRITERS * WRITES
    with capsys.disabled():
        print(f"\n[log] {WRITERS} {how.__name__.strip('_')} x {WRITES} writes: {written} rows written, "
              f"{len(rows)} rows read ({seconds:.2f} s)")
    assert len(rows) == written
    assert len({r.id for r in rows}) == written
    assert sorted(r.question for r in rows) == sorted(payload(w, i) for w in range(WRITERS) for i in range(WRITES))
    for w in range(WRITERS):  # each writer's rows are in the order it wrote them
        mine = [r for r in sorted(rows, key=lambda r: r.id) if r.question.startswith(f"writer {w} ")]
        assert [r.question for r in mine] == [payload(w, i) for i in range(WRITES)]


# -- a broken log ----------------------------------------------------------------------------------

def seed(path: Path) -> None:
    log = FeedbackLog(path)
    for i in range(SEEDED):
        row = log.log_question(f"老问题 {i}", answered=bool(i % 3), entry_id="faq-fee" if i % 3 else None, score=70.0)
        if i % 5 == 0:
            log.set_feedback(row, i % 2)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows_digest(path: Path) -> tuple[int, str]:
    """Row count and a checksum of every row, read with a plain connection (not the code under test)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT * FROM questions ORDER BY id").fetchall()
    return len(rows), hashlib.sha256(repr(rows).encode("utf-8")).hexdigest()


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """The file cannot be opened for writing: chmod for a user, the immutable flag for root (who
    ignores permissions)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o444)
        undo = lambda: path.chmod(mode)  # noqa: E731
    else:
        chattr = shutil.which("chattr")
        if not chattr or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("cannot make a file read-only as root here (chattr +i is not available)")
        undo = lambda: subprocess.run([chattr, "-i", str(path)], check=True)  # noqa: E731
    try:
        with pytest.raises(OSError):
            path.open("r+b").close()
        yield
    finally:
        undo()


@contextmanager
def locked(path: Path, monkeypatch) -> Iterator[None]:
    """Another connection holds an exclusive transaction for longer than the busy timeout (shortened
    from 5 s to 0.2 s so the test is quick)."""
    monkeypatch.setattr(feedback, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(FeedbackError, match="locked"):
            FeedbackLog(path).log_question("blocked", answered=False)
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextmanager
def corrupt(path: Path) -> Iterator[None]:
    """Every page after the header page overwritten in part: a damaged disk, not a stray text file."""
    raw = bytearray(path.read_bytes())
    page = 4096
    for start in range(page, len(raw), page):
        raw[start:start + 64] = b"\xde\xad\xbe\xef" * 16
    path.write_bytes(bytes(raw))
    with pytest.raises(FeedbackError, match="malformed|not a database"):
        FeedbackLog(path).stats()
    yield


BREAKAGES = {"read-only": lambda path, mp: read_only(path), "locked": locked, "corrupt": lambda path, mp: corrupt(path)}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_log_never_stops_answers_and_keeps_its_rows(breakage: str, tmp_path: Path, monkeypatch, capsys):
    path = tmp_path / "data" / "feedback.sqlite3"  # the app's log (BEIAN_DATA_DIR, set by _env)
    seed(path)
    before = rows_digest(path)
    with BREAKAGES[breakage](path, monkeypatch):
        damaged = file_digest(path)
        at = ask(new_app(), "二级域名需要单独备案吗")
        (first,) = assistant_messages(at)
        assert first.markdown and "二级域名" in first.markdown[0].value  # answered
        assert [t.value for t in at.toast] == [LOG_NOTICE]  # reported…
        at.feedback[0].set_value(0)
        at = ask(at.run(), "备案要多久")
        assert len(assistant_messages(at)) == 2 and assistant_messages(at)[1].markdown
        assert not at.toast  # …once
        assert main(["ask", "备案要多久", "--json"]) == 0 and '"answered": true' in capsys.readouterr().out
        assert file_digest(path) == damaged  # nothing written, truncated or recreated
    if breakage == "corrupt":
        kept = "file byte-for-byte unchanged"  # left exactly as found, for a person to recover
    else:
        after = rows_digest(path)
        assert after == before and after[0] == SEEDED
        kept = f"{after[0]} rows after, same checksum"
        FeedbackLog(path).log_question("恢复以后", answered=True)  # once the file is usable again, logging goes on
        assert rows_digest(path)[0] == SEEDED + 1
    with capsys.disabled():
        print(f"\n[log] {breakage}: {before[0]} rows before, {kept}; the app answered both questions, notice shown once")
