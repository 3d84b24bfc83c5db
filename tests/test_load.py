"""A small run of benchmarks/load_app.py in the default suite: 3 concurrent browser sessions x 2
questions against a real `streamlit run`, no error, every question answered on screen and logged.
The full run (10 x 5, printing p50/p95) is `.venv/bin/python benchmarks/load_app.py`."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.load_app import CHROMIUM, run

pytestmark = [pytest.mark.browser, pytest.mark.load]
SESSIONS, QUESTIONS = 3, 2
P95_LIMIT_MS = 5000.0  # generous: two cores run the server and four chromium processes


def test_concurrent_sessions_all_get_their_answers(capsys):
    pytest.importorskip("playwright")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"chromium not found at {CHROMIUM} (CI is set: the load test must run)")
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    lines: list[str] = []
    result = run(SESSIONS, QUESTIONS, timeout_s=90, out=lines.append)
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert result.errors == []
    assert len(result.answer_ms) == SESSIONS * QUESTIONS and result.logged == SESSIONS * QUESTIONS
    assert result.pct(0.95) < P95_LIMIT_MS
