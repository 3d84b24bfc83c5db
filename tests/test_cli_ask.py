"""`python -m beian ask` (and `eval`, `bench`) as scripts call them: the DESIGN.md JSON contract,
one JSON object per stdin line, bad bytes, and the exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from beian.cli import main

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = {"answered": bool, "id": (str, type(None)), "kind": (str, type(None)), "title": (str, type(None)),
            "answer": (str, type(None)), "score": (int, float), "source": (str, type(None)), "suggestions": list}


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}  # a hostile locale must not break UTF-8 output
    return subprocess.run([sys.executable, "-m", "beian", *args], cwd=ROOT, input=stdin, capture_output=True,
                          timeout=120, env=env)


def _check_contract(obj: dict) -> None:
    for key, kind in CONTRACT.items():
        assert isinstance(obj[key], kind), f"{key}: {obj[key]!r}"
    assert 0 <= obj["score"] <= 100
    for s in obj["suggestions"]:
        assert isinstance(s["id"], str) and isinstance(s["title"], str) and isinstance(s["score"], (int, float))


def test_ask_json_answers_in_the_contract_shape_and_in_time():
    start = time.perf_counter()
    proc = _run("ask", "二级域名需要单独备案吗", "--json")
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout.decode("utf-8"))
    _check_contract(data)
    assert data["answered"] is True and data["id"] == "faq-subdomain-separate-filing"
    assert elapsed < 5  # the budget is 1.5 s on a quiet machine; tests run beside other work


def test_ask_jsonl_one_object_per_line_in_order_even_for_blank_and_bad_lines():
    lines = [
        "二级域名需要单独备案吗".encode(),
        b"",  # a blank line: an unanswered result, not a crash
        b"\xff\xfe\x80 \xe5\xa4",  # invalid UTF-8
        "\ufeff备案审核要多久".encode(),  # BOM
        "今天天气怎么样\r".encode(),  # CRLF
        b"   ",
    ]
    proc = _run("ask", "--jsonl", stdin=b"\n".join(lines) + b"\n")
    assert proc.returncode == 0, proc.stderr.decode()
    out = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert len(out) == len(lines)
    for obj in out:
        _check_contract(obj)
    assert out[0]["id"] == "faq-subdomain-separate-filing"
    assert (out[1]["answered"], out[1]["reason"]) == (False, "empty")
    assert out[2]["answered"] is False
    assert out[3]["answered"] and out[3]["question"] == "备案审核要多久"
    assert out[4]["answered"] is False and out[4]["question"] == "今天天气怎么样"
    assert out[5]["reason"] == "empty"


def test_ask_jsonl_with_empty_stdin_prints_nothing():
    proc = _run("ask", "--jsonl", stdin=b"")
    assert proc.returncode == 0 and proc.stdout == b""


def test_ask_readable_output_for_people(capsys):
    assert main(["ask", "备案审核要多久"]) == 0
    out = capsys.readouterr().out
    assert "第五步" in out or "审核" in out
    assert "来源：" in out


def test_ask_declines_readably_with_suggestions(capsys):
    assert main(["ask", "备案"]) == 0
    assert "您是不是想问" in capsys.readouterr().out


def test_ask_without_a_question_is_a_usage_error(capsys):
    assert main(["ask"]) == 2
    assert capsys.readouterr().err.startswith("Error: ")


def test_ask_long_question_is_cut_with_a_notice(capsys):
    assert main(["ask", "备案要多久" * 200, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["notice"] and len(data["question"]) == 500


def test_eval_prints_the_figures_and_every_miss(tmp_path, capsys):
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "questions:\n"
        "  - {q: 二级域名需要单独备案吗, expect: faq-subdomain-separate-filing, category: short}\n"
        "  - {q: 红烧肉怎么做, expect: null, category: out_of_scope}\n"
        "  - {q: 备案审核要多久, expect: faq-fee, category: short}\n", encoding="utf-8")
    assert main(["eval", "--file", str(questions), "--no-peers"]) == 0
    out = capsys.readouterr().out
    assert "top-1 in scope:" in out and "declined out of scope: 100.0%" in out
    assert "misses (1):" in out and "'备案审核要多久': expected faq-fee" in out


def test_eval_rejects_unknown_ids(tmp_path, capsys):
    questions = tmp_path / "q.yaml"
    questions.write_text("questions:\n  - {q: 备案, expect: no-such-entry, category: short}\n", encoding="utf-8")
    assert main(["eval", "--file", str(questions), "--no-peers"]) == 2
    assert "no-such-entry" in capsys.readouterr().err


def test_bench_runs_at_a_small_scale(capsys):
    assert main(["bench", "--scales", "1", "2", "--questions", "20"]) == 0
    out = capsys.readouterr().out
    assert "1×" in out and "2×" in out and "p95" in out
