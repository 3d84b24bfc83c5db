"""The durable feedback log (beian/feedback.py) and the plain helpers the maintainers page uses."""
from __future__ import annotations

import csv
import io
import re
import sqlite3
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from beian.answer import Answer, Suggestion
from beian.feedback import THUMBS_DOWN, THUMBS_UP, FeedbackError, FeedbackLog, default_db_path
from beian.presenters import (
    escape_markdown,
    group_similar,
    phrasing_snippet,
    phrasing_yaml,
    rows_to_csv,
)


@pytest.fixture
def fl(tmp_path: Path) -> FeedbackLog:
    return FeedbackLog(tmp_path / "data" / "feedback.sqlite3")


def test_created_on_first_use_in_wal_mode(fl: FeedbackLog):
    assert not fl.path.exists()
    assert fl.stats().total == 0
    assert fl.path.exists()
    with sqlite3.connect(fl.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1


def test_default_path_and_env_overrides(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("BEIAN_DB", raising=False)
    monkeypatch.delenv("BEIAN_DATA_DIR", raising=False)
    assert default_db_path() == Path(__file__).resolve().parent.parent / "data" / "feedback.sqlite3"
    monkeypatch.setenv("BEIAN_DATA_DIR", str(tmp_path / "d"))
    assert default_db_path() == tmp_path / "d" / "feedback.sqlite3"
    assert FeedbackLog().path == tmp_path / "d" / "feedback.sqlite3"
    monkeypatch.setenv("BEIAN_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"


def test_question_answer_and_feedback_are_tied(fl: FeedbackLog):
    answer = Answer(answered=True, id="faq-fee", kind="faq", title="收费吗", answer="不收费", score=91.5,
                    source="指南 › 常见问题解答", question="备案要钱吗")
    row = fl.log_answer(answer, origin="typed", session="s1")
    declined = Answer(answered=False, id=None, kind=None, title=None, answer=None, score=31.0, source=None,
                      suggestions=(Suggestion("faq-fee", "收费吗", 55.0),), reason="low_score", question="今天天气")
    row2 = fl.log_answer(declined, origin="typed")
    assert row2 == row + 1
    assert fl.set_feedback(row, THUMBS_DOWN) is True
    got = fl.get(row)
    assert (got.question, got.answered, got.entry_id, got.score, got.feedback) == ("备案要钱吗", True, "faq-fee", 91.5, 0)
    assert got.feedback_at
    assert [r.id for r in fl.disliked()] == [row]
    assert [(r.question, r.suggestion, r.reason) for r in fl.unanswered()] == [("今天天气", "faq-fee", "low_score")]
    fl.set_feedback(row, THUMBS_UP)
    assert fl.get(row).feedback == 1 and fl.disliked() == []
    fl.set_feedback(row, None)
    assert fl.get(row).feedback is None and fl.get(row).feedback_at is None
    stats = fl.stats()
    assert (stats.total, stats.answered, stats.unanswered) == (2, 1, 1)
    assert fl.set_feedback(9999, THUMBS_UP) is False
    with pytest.raises(ValueError):
        fl.set_feedback(row, 5)


def test_recent_is_newest_first_and_limited(fl: FeedbackLog):
    for i in range(5):
        fl.log_question(f"q{i}", answered=True, entry_id="faq-fee", score=90)
    assert [r.question for r in fl.recent(3)] == ["q4", "q3", "q2"]


def test_hostile_text_is_stored_verbatim(fl: FeedbackLog):
    nasty = "'); DROP TABLE questions; --  <img src=x onerror=alert(1)> \x00 🙂"
    row = fl.log_question(nasty, answered=False)
    assert fl.get(row).question == nasty
    assert fl.stats().total == 1  # the table is still there


def test_empty_questions_are_not_listed_as_unanswered(fl: FeedbackLog):
    fl.log_question("", answered=False, reason="empty")
    fl.log_question("天气", answered=False, reason="low_score")
    assert [r.question for r in fl.unanswered()] == ["天气"]


def test_long_question_is_capped(fl: FeedbackLog):
    row = fl.log_question("长" * 50_000, answered=False)
    assert len(fl.get(row).question) == 2000


def test_concurrent_writers_lose_nothing(fl: FeedbackLog):
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                row = FeedbackLog(fl.path).log_question(f"t{n}-{i}", answered=bool(i % 2))
                FeedbackLog(fl.path).set_feedback(row, i % 2)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stats = fl.stats()
    assert stats.total == 200 and stats.thumbs_up + stats.thumbs_down == 200


def test_corrupt_file_is_reported_and_left_alone(tmp_path: Path):
    path = tmp_path / "feedback.sqlite3"
    garbage = b"this is not a database, but it is somebody's file\n" * 100
    path.write_bytes(garbage)
    fl = FeedbackLog(path)
    with pytest.raises(FeedbackError, match="not a database"):
        fl.log_question("备案要多久", answered=True)
    with pytest.raises(FeedbackError):
        fl.stats()
    assert path.read_bytes() == garbage  # never dropped, truncated or recreated


def test_unwritable_location_is_a_feedback_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(FeedbackError):
        FeedbackLog(blocker / "sub" / "feedback.sqlite3").log_question("q", answered=True)


def test_existing_rows_survive_an_older_schema(tmp_path: Path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE questions (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at TEXT NOT NULL,"
                     " question TEXT NOT NULL, answered INTEGER NOT NULL, entry_id TEXT, score REAL NOT NULL DEFAULT 0)")
        conn.execute("INSERT INTO questions (asked_at, question, answered) VALUES ('2026-01-01T00:00:00+00:00', '老问题', 0)")
    fl = FeedbackLog(path)
    new = fl.log_question("新问题", answered=True, entry_id="faq-fee", score=88)
    fl.set_feedback(new, THUMBS_UP)
    assert [r.question for r in fl.all()] == ["新问题", "老问题"]


def test_source_uses_only_parameterised_sql():
    source = (Path(__file__).resolve().parent.parent / "beian" / "feedback.py").read_text(encoding="utf-8")
    assert "DROP" not in source.upper().replace("NEVER DROP", "")
    assert "DELETE FROM" not in source.upper()
    assert ".format(" not in source and "% (" not in source


# -- presenters used by the maintainers page -----------------------------------------------------

def test_group_similar_groups_near_duplicates():
    rows = [SimpleNamespace(question=q, suggestion=s) for q, s in [
        ("备案要多久", "step-review"), ("备案需要多久？", "step-review"), ("备案要多久", None),
        ("ICP 备案多少钱", "faq-fee"), ("icp备案多少钱", "faq-fee"), ("怎么做红烧肉", None), ("  ", None)]]
    groups = group_similar(rows)
    assert [(g.representative, g.count, g.suggestion) for g in groups] == [
        ("备案要多久", 3, "step-review"), ("ICP 备案多少钱", 2, "faq-fee"), ("怎么做红烧肉", 1, None)]
    assert groups[0].questions == ["备案要多久", "备案需要多久？"]
    assert group_similar([]) == []


@pytest.mark.parametrize("question", ["备案要多久", "备案: 要多久 #1", "it's \"quoted\"", "- 列表？", "a\nb", "@at", "yes"])
def test_phrasing_yaml_round_trips(question):
    line = phrasing_yaml(question)
    assert line.startswith("      - ")
    doc = "questions:\n" + line + "\n"
    assert yaml.safe_load(doc) == {"questions": [" ".join(question.split())]}


def test_phrasing_snippet_names_where_it_goes():
    snippet = phrasing_snippet("备案要多久", "step-review", ("knowledge/steps.yaml", 120))
    assert "knowledge/steps.yaml:120" in snippet and "step-review" in snippet
    assert snippet.splitlines()[-1] == "      - 备案要多久"


def test_csv_export_keeps_chinese_and_defuses_formulas():
    data = rows_to_csv([{"question": "=HYPERLINK(\"http://x\")", "entry": "faq-fee"}, {"question": "备案要多久", "entry": ""}])
    assert data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0]["question"].startswith("'=") and rows[1]["question"] == "备案要多久"


def test_escape_markdown_neutralises_markup():
    text = escape_markdown("<img src=x onerror=alert(1)> [a](http://x) ![i](http://y) :red[z] $x$")
    assert re.search(r"(?<!\\)[<>\[\]()!:$]", text) is None  # every markup character is escaped
