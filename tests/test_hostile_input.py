"""Hostile questions through every door: `ask`, `ask --jsonl` and `check` as subprocesses (the way
scripts and people call them) and the app through AppTest. One catalogue; every entry goes through
every door it fits. Each must give a valid result or one clear line (exit 2 where the input cannot
be used), never a traceback, within a few seconds; markup and escapes come back inert. Properties
(hypothesis) close the gaps: normalisation, matching and the checker raise nothing but their typed
errors, and the same input always gives the same output.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_app import _env, assistant_messages, new_app, ok, submit_check, user_texts  # noqa: F401 (_env: autouse)

import beian.cli  # noqa: F401  (registers every content file, as the CLI does)
from beian.errors import InputError
from beian.kb import load_kb
from beian.matcher import Matcher, question_from_bytes
from beian.presenters import decline_text, escape_markdown
from beian.text import clean, cut

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = {"answered": bool, "id": (str, type(None)), "kind": (str, type(None)), "title": (str, type(None)),
            "answer": (str, type(None)), "score": (int, float), "source": (str, type(None)), "suggestions": list}
SUBPROCESS_LIMIT_S = 6.0  # one CLI run, start-up (~1 s) included, two at a time on two cores
ENGINE_LIMIT_S = 1.0  # one question in-process
CHECK_ARGS = ["--server", "mainland", "--main-filed", "other", "--same-subject", "yes"]


@dataclass(frozen=True)
class Hostile:
    """One hostile input. `raw` is the bytes on argv/stdin; `text` what the engine and the app see."""

    name: str
    raw: bytes
    argv: bool = False  # also tried as `ask ARG` and `check --domain ARG` in a process of its own (every
    #                     one-line input goes through `ask --jsonl`; argv is for what its transport changes:
    #                     bytes, escapes, size — and cannot carry a NUL or a 200 000-character argument)
    same_as: str | None = None  # a plain question it must be answered like (same entry)
    host: str | None = None  # as a --domain: the host it must give; None = refused with exit 2

    @property
    def text(self) -> str:
        return question_from_bytes(self.raw)

    @property
    def one_line(self) -> bool:  # can be one line of `ask --jsonl`
        return b"\n" not in self.raw


def H(name: str, text: str, **kw) -> Hostile:
    return Hostile(name, text.encode("utf-8"), **kw)


SUBDOMAIN_Q, REVIEW_Q, FEE_Q = "二级域名要单独备案吗", "备案要多久", "备案要收费吗"
CATALOGUE: tuple[Hostile, ...] = (
    H("empty", "", argv=True),
    H("blank", " \t\u3000\u00a0 "),
    H("200 000 characters", SUBDOMAIN_Q * 20_000),
    H("100 000 characters on the command line", "x" * 100_000, argv=True),
    H("50 000 repeated words", "filing " * 50_000),
    H("50 000 repeated Chinese words", "备案 " * 50_000),
    H("control characters", "\x01\x02\x07\x08\x7f备案审核要多久\x1f"),
    H("ANSI escapes", "\x1b[2J\x1b[31m二级域名要单独备案吗\x1b[0m\x1b]0;pwned\x07", argv=True),
    H("NUL bytes", "\x00备案要多久\x00", same_as=REVIEW_Q),
    Hostile("invalid UTF-8", b"\xff\xfe\xe5\xa4\x87\xe6\xa1\x88\xe8\xa6\x81\xe5\xa4\x9a\xe4\xb9\x85\xc3", argv=True,
            same_as=REVIEW_Q),
    H("BOM", "\ufeff" + SUBDOMAIN_Q, argv=True, same_as=SUBDOMAIN_Q),
    H("emoji", f"🙂🙂 {SUBDOMAIN_Q}？👍🏻🇨🇳", same_as=SUBDOMAIN_Q),
    H("traditional characters", "二級域名需要單獨備案嗎", argv=True, same_as=SUBDOMAIN_Q),
    H("full-width", "ＩＣＰ备案要收费吗？", argv=True, same_as=FEE_Q),
    H("bidi override and zero-width", "\u202e\u200b二级域名\u200d要单独备案吗\u2066", same_as=SUBDOMAIN_Q),
    H("line separators", "备案\r要多久\u2028\u2029\x85", same_as=REVIEW_Q),
    H("HTML and script", "<script>alert(1)</script><img src=x onerror=alert(1)>"),
    H("Markdown", "[点我](javascript:alert(1)) ![i](http://127.0.0.1:9/x.png) **粗** :red[红] $x$ <b>b</b>"),
    H("SQL", "'; DROP TABLE questions; -- \" OR 1=1"),
    H("templates and format strings", "{{7*7}} ${7*7} %s%n {0.__class__} \\N{BELL}"),
    H("shell metacharacters", "$(touch /tmp/beian-pwned); `id` | rm -rf / && echo"),
    H("path traversal", "../../etc/passwd"),
    H("2 000 questions pasted as one", "\n".join([REVIEW_Q] * 2000), argv=True),
)
DOMAINS: tuple[Hostile, ...] = (  # hostile input shaped like what `check` expects
    H("host with a BOM", "\ufeffblog.example.com", host="blog.example.com"),
    H("full-width host", "ｂｌｏｇ．ｅｘａｍｐｌｅ．ｃｏｍ", host="blog.example.com"),
    H("traditional IDN", "部落格.例子.中國", host="部落格.例子.中國"),
    H("URL carrying a script", "https://blog.example.com/<script>alert(1)</script>?q='--",
      host="blog.example.com"),
    H("host in ANSI escapes", "\x1b[31mblog.example.com\x1b[0m"),
    H("host with a newline", "blog.example.com\nevil.example.com"),
    Hostile("host in invalid UTF-8", b"blog.\xff\xfe.com"),
    H("emoji host", "🙂.example.com"),
    H("SQL in a host", "blog.example.com'; DROP TABLE x; --"),
    H("IPv6 URL", "http://[::1]:8501/"),
    H("8 193 characters", "a" * 8193),
)
ARGV = [c for c in CATALOGUE if c.argv]
CHECKED = [*ARGV, *DOMAINS]
JSONL = [c for c in CATALOGUE if c.one_line]
ODD_STREAMS = {"no input": b"", "only a BOM": b"\xef\xbb\xbf", "UTF-16": "备案要多久\n".encode("utf-16")}
HOSTILE_CHOICES = {"--industry": "news\n\x1b[31mX", "--subject": "\x1b[2Jcompany", "--server": "<script>",
                   "--preapproval": "y\u202ees"}
NARROW_TERMINAL = {  # runs under PYTHONIOENCODING=ascii
    "ask": ("ask", SUBDOMAIN_Q), "export": ("export", "--json"),
    "check": ("check", "--domain", "部落格.例子.中國", *CHECK_ARGS),
    "check --json": ("check", "--json", "--domain", "博客.例子.中国", *CHECK_ARGS),
}


def _ids(cases) -> list[str]:
    return [c.name for c in cases]


def _batch() -> list[bytes]:
    """2 000 lines for one `ask --jsonl`: the labelled questions and every one-line hostile input, cycled."""
    import yaml

    real = [q["q"] for q in yaml.safe_load((ROOT / "eval" / "questions.yaml").read_text(encoding="utf-8"))["questions"]]
    pool = [q.encode("utf-8") for q in real] + [c.raw for c in JSONL if len(c.raw) < 20_000]
    return [pool[i % len(pool)] for i in range(2000)]


# -- running the CLI -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    code: int
    out: bytes
    err: bytes
    seconds: float

    def json(self):
        return json.loads(self.out.decode("utf-8"))


def _env_vars(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEIAN_", "PYTHONIOENCODING"))}
    env.update(extra)
    return env


def beian(*args: str | bytes, stdin: bytes = b"", **env) -> Run:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "beian", *args], input=stdin, capture_output=True, cwd=ROOT,
                          env=_env_vars(**env), timeout=120)
    return Run(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)


def no_traceback(run: Run) -> None:
    assert b"Traceback" not in run.err and b"Traceback" not in run.out, run.err.decode("utf-8", "replace")[-2000:]


def one_error_line(run: Run) -> str:
    """Exit 2 and one clear line on stderr, nothing on stdout, no escape replayed to the terminal."""
    err = run.err.decode("utf-8")
    assert (run.code, run.out) == (2, b""), err
    assert err.startswith("Error: ") and err.count("\n") == 1 and "\x1b" not in err, err
    return err


@pytest.fixture(scope="module")
def cli() -> dict[tuple[str, str], Run]:
    """Every CLI process this module needs, started two at a time (each pays ~0.8 s of start-up)."""
    jobs: dict[tuple[str, str], tuple[tuple, bytes, dict]] = {}  # (door, case) -> (arguments, stdin, env)
    for c in ARGV:
        jobs["ask", c.name] = (("ask", c.raw, "--json"), b"", {})
    for c in CHECKED:
        jobs["check", c.name] = (("check", "--json", "--domain", c.raw, *CHECK_ARGS), b"", {})
    jobs["ask-readable", "ANSI escapes"] = (("ask", next(c.raw for c in ARGV if c.name == "ANSI escapes")), b"", {})
    jobs["jsonl", "catalogue"] = (("ask", "--jsonl"), b"".join(c.raw + b"\n" for c in JSONL), {})
    jobs["jsonl", "batch"] = (("ask", "--jsonl"), b"\n".join(_batch()), {})  # the last line without its newline
    for name, stdin in ODD_STREAMS.items():
        jobs["jsonl", name] = (("ask", "--jsonl"), stdin, {})
    for flag, value in HOSTILE_CHOICES.items():
        jobs["choice", flag] = (("check", "--domain", "blog.example.com", *CHECK_ARGS, flag, value), b"", {})
    for name, args in NARROW_TERMINAL.items():
        jobs["ascii", name] = (args, b"", {"PYTHONIOENCODING": "ascii"})
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        # the longest first, so the pool ends together
        order = sorted(jobs, key=lambda k: k != ("jsonl", "batch"))
        futures = {key: pool.submit(beian, *jobs[key][0], stdin=jobs[key][1], **jobs[key][2]) for key in order}
        return {key: f.result() for key, f in futures.items()}


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.build(load_kb(ROOT))


def expected_json(matcher: Matcher, text: str) -> dict:
    """What the CLI must print for `text`: the engine's own answer, as JSON sees it."""
    return json.loads(json.dumps(matcher.ask(text).to_json(), ensure_ascii=False))


def assert_contract(data: dict) -> None:
    for key, kind in CONTRACT.items():
        assert isinstance(data[key], kind), (key, data[key])
    assert 0 <= data["score"] <= 100
    assert all({"id", "title", "score"} <= set(s) for s in data["suggestions"])
    assert data["answered"] == (data["id"] is not None)


# -- the engine, in-process (what every door relies on) -------------------------------------------

@pytest.mark.parametrize("case", CATALOGUE, ids=_ids(CATALOGUE))
def test_engine_answers_or_declines_quickly(case: Hostile, matcher: Matcher):
    start = time.perf_counter()
    answer = matcher.ask(case.text)
    assert time.perf_counter() - start < ENGINE_LIMIT_S
    assert_contract(answer.to_json())
    assert matcher.ask(case.text) == answer
    if not case.text.strip():
        assert (answer.answered, answer.reason) == (False, "empty")
    if case.same_as:
        plain = matcher.ask(case.same_as)
        assert plain.answered and (answer.answered, answer.id) == (True, plain.id)
    if len(case.text.strip()) > matcher.settings.max_question_chars:
        assert answer.notice and len(answer.question) == matcher.settings.max_question_chars


# -- ask "…" --json ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ARGV, ids=_ids(ARGV))
def test_ask_argument(case: Hostile, cli, matcher: Matcher):
    run = cli["ask", case.name]
    no_traceback(run)
    assert (run.code, run.err) == (0, b"")
    assert run.seconds < SUBPROCESS_LIMIT_S
    data = run.json()
    assert_contract(data)
    assert data == expected_json(matcher, question_from_bytes(case.raw))


def test_ask_readable_output_never_replays_escapes(cli):
    run = cli["ask-readable", "ANSI escapes"]
    assert run.code == 0 and run.out.strip()
    assert b"\x1b" not in run.out + run.err


# -- ask --jsonl ---------------------------------------------------------------------------------

def test_ask_jsonl_one_line_per_question_in_order(cli, matcher: Matcher):
    run = cli["jsonl", "catalogue"]
    no_traceback(run)
    assert (run.code, run.err) == (0, b"")
    assert run.seconds < SUBPROCESS_LIMIT_S
    lines = run.out.decode("utf-8").splitlines()
    assert len(lines) == len(JSONL)
    for case, line in zip(JSONL, lines):
        data = json.loads(line)
        assert_contract(data)
        assert data == expected_json(matcher, case.text), case.name


def test_ask_jsonl_two_thousand_questions(cli, matcher: Matcher):
    run = cli["jsonl", "batch"]
    no_traceback(run)
    assert (run.code, run.err) == (0, b"")
    out = run.out.decode("utf-8").splitlines()
    assert len(out) == 2000
    expected: dict[bytes, dict] = {}
    for raw, line in zip(_batch(), out):
        if raw not in expected:
            expected[raw] = expected_json(matcher, question_from_bytes(raw))
        assert json.loads(line) == expected[raw]
    print(f"\n[hostile] ask --jsonl: 2000 questions in {run.seconds:.2f} s (process start-up included)")
    assert run.seconds < 15


@pytest.mark.parametrize("name", ODD_STREAMS)
def test_ask_jsonl_odd_streams(name: str, cli):
    stdin, run = ODD_STREAMS[name], cli["jsonl", name]
    no_traceback(run)
    assert (run.code, run.err) == (0, b"")
    lines = run.out.decode("utf-8").splitlines()
    assert len(lines) == stdin.count(b"\n") + (0 if not stdin or stdin.endswith(b"\n") else 1)
    for line in lines:
        assert_contract(json.loads(line))


# -- check --domain --------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CHECKED, ids=_ids(CHECKED))
def test_check_domain(case: Hostile, cli):
    run = cli["check", case.name]
    no_traceback(run)
    assert run.seconds < SUBPROCESS_LIMIT_S
    if case.host is None:
        one_error_line(run)
    else:
        assert run.code == 0, run.err
        assert run.json()["host"] == case.host
        assert b"\x1b" not in run.out + run.err


@pytest.mark.parametrize("flag", HOSTILE_CHOICES)
def test_check_hostile_choices_are_one_clean_line(flag: str, cli):
    run = cli["choice", flag]
    no_traceback(run)
    one_error_line(run)


@pytest.mark.parametrize("name", NARROW_TERMINAL)
def test_a_terminal_that_cannot_show_chinese_gets_no_traceback(name: str, cli):
    """PYTHONIOENCODING=ascii (an old terminal, a misconfigured cron job): the output is still UTF-8."""
    run = cli["ascii", name]
    no_traceback(run)
    assert run.code == 0 and run.out.strip()
    run.out.decode("utf-8")


# -- the app ----------------------------------------------------------------------------------------

def assert_inert(at, *needles: str) -> None:
    """Nothing the page renders as Markdown (where markup takes effect) holds a needle unescaped."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for kind in ("error", "warning", "info", "success") for e in getattr(at, kind)]
    rendered = "\n".join(parts)
    for needle in ("\x1b", *needles):
        assert not re.search(r"(?<!\\)" + re.escape(needle), rendered), needle


@pytest.mark.parametrize("case", CATALOGUE, ids=_ids(CATALOGUE))
def test_app_chat(case: Hostile, matcher: Matcher):
    at = new_app()
    at.chat_input(key="chat_prompt").set_value(case.text)
    start = time.perf_counter()
    at = ok(at.run())
    assert time.perf_counter() - start < SUBPROCESS_LIMIT_S
    if not case.text.strip():  # nothing to ask: the page stays as it was
        assert not at.chat_message and any(b.key == "example-0" for b in at.button)
        return
    expected = matcher.ask(case.text)
    assert user_texts(at) == [expected.question]  # st.text: shown as typed (cut), never interpreted
    (reply,) = assistant_messages(at)
    assert not reply.error
    if expected.answered:
        assert escape_markdown(expected.title) in "\n".join(m.value for m in reply.markdown)
    else:
        assert decline_text(expected.reason) in "\n".join(m.value for m in reply.markdown)
    assert_inert(at, "<script", "<img", "<b>", "](javascript:", "](http://127.0.0.1:9")


@pytest.mark.parametrize("case", [c for c in (*CATALOGUE, *DOMAINS) if len(c.text) <= 2048],
                         ids=_ids(c for c in (*CATALOGUE, *DOMAINS) if len(c.text) <= 2048))
def test_app_eligibility_form(case: Hostile):
    at = submit_check(ok(new_app(tab="资格自查")), case.text)
    if case.host is None:
        (err,) = at.error
        assert err.value and "\x1b" not in err.value
    else:
        assert not at.error
        assert case.host in "\n".join(m.value for m in at.markdown) + "\n".join(
            a.value for kind in ("error", "warning", "info", "success") for a in getattr(at, kind))
    assert_inert(at, "<script", "<img")


# -- properties --------------------------------------------------------------------------------------

ANY_CHAR = st.characters(codec=None, exclude_categories=())  # every code point: surrogates, controls, private use
PIECES = st.sampled_from([
    "备案", "二级域名", "被案", "吗", "不", "能不能", "需不需要", "ICP", "filing", "files", "\u0301", "\u1100", "ﷺ", "㎏",
    "ǅ", "\x00", "\n", "\r", "\u2028", "\ufeff", "🙂", "👍🏻", "𠀀", "\udcff", "Ａ", "。", "<script>", "'--", " ", "\x1b[31m",
])
HOSTILE_TEXT = st.one_of(st.text(ANY_CHAR, max_size=120),
                         st.lists(st.one_of(PIECES, st.text(ANY_CHAR, max_size=3)), max_size=40).map("".join))
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def busy_matcher(matcher: Matcher) -> Matcher:
    """A second index over the same content, to show an answer does not depend on what was asked before."""
    return Matcher.build(matcher.kb)


@PROPERTY
@given(HOSTILE_TEXT)
def test_normalisation_never_raises_and_is_deterministic(matcher, text):
    norm = matcher.normalizer
    first = (clean(text), norm.normalize(text), norm.units(text), norm.tokens(text), cut(text))
    assert (clean(text), norm.normalize(text), norm.units(text), norm.tokens(text), cut(text)) == first
    assert "\n" not in first[0] and first[0] == first[0].strip()


@PROPERTY
@given(HOSTILE_TEXT, st.lists(HOSTILE_TEXT, max_size=3))
def test_matching_never_raises_and_does_not_depend_on_history(matcher, busy_matcher, text, others):
    answer = matcher.ask(text)
    for other in others:
        busy_matcher.ask(other)
    assert busy_matcher.ask(text) == answer == matcher.ask(text)
    assert_contract(answer.to_json())
    ids = {e.id for e in matcher.entries}
    assert answer.id is None or answer.id in ids
    assert {s.id for s in answer.suggestions} <= ids and len(answer.suggestions) <= 3
    assert answer.answered or answer.reason in {"empty", "too_vague", "low_score", "out_of_scope", "ambiguous"}


CHOICE = st.one_of(st.sampled_from(["mainland", "hk", "overseas", "no", "alibaba", "other", "yes", " YES ", "是", ""]),
                   st.text(ANY_CHAR, max_size=8))


@PROPERTY
@given(HOSTILE_TEXT, CHOICE, CHOICE, CHOICE, st.one_of(st.none(), CHOICE))
def test_the_checker_raises_only_input_errors_and_is_deterministic(matcher, domain, server, main_filed, same, industry):
    from beian.eligibility import check

    def outcome():
        try:
            return check(domain=domain, server=server, main_filed=main_filed, same_subject=same, industry=industry,
                         kb=matcher.kb).to_json()
        except InputError as exc:  # any other exception fails the test
            message = str(exc)
            assert "\n" not in message and "\x1b" not in message
            return ("error", message)

    assert outcome() == outcome()
