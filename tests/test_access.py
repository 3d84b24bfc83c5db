"""Access: the maintainers' view shows what users typed, so it stays closed without the admin token —
whatever the query string says — and a wrong token is refused without revealing anything. No query
parameter reads or writes a file outside the data folder. (AppTest; test_app.py has the happy paths.)
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest
from google.protobuf import text_format
from test_app import _env, ask, new_app, ok, user_texts  # noqa: F401 (_env: autouse, own data dir)

from beian.feedback import FeedbackLog
from ui.admin import AUTH_KEY
from ui.common import ADMIN

TOKEN = "s3cret-token-0123456789"
SECRET_QUESTIONS = ("我的身份证号是110101199001011234怎么备案", "公司内部域名 intranet.secret.example 要备案吗")
DIGEST = hashlib.sha256(TOKEN.encode()).hexdigest()

QUERY_ATTACKS = {  # name -> query parameters a visitor can put in a link
    "tab": {"tab": ADMIN},
    "admin flag": {"admin": "1"},
    "admin and tab": {"admin": "true", "tab": ADMIN},
    "token": {"token": TOKEN},
    "token and tab": {"token": TOKEN, "tab": ADMIN},
    "the token's widget key": {"admin_token_input": TOKEN, "tab": ADMIN},
    "the session key": {AUTH_KEY: DIGEST, "tab": ADMIN},
    "the environment variable": {"BEIAN_ADMIN_TOKEN": TOKEN, "tab": ADMIN},
    "a deep link to a question": {"q": "备案要多久", "tab": ADMIN, "token": TOKEN},
}
WRONG_TOKENS = {
    "wrong": "wrong", "empty": "", "blank": "   ", "trailing space": TOKEN + " ", "upper case": TOKEN.upper(),
    "one character short": TOKEN[:-1], "with a NUL": TOKEN + "\x00", "the digest": DIGEST, "SQL": "' OR '1'='1",
    "script": "<script>alert(1)</script>", "10 000 characters": "x" * 10_000, "full-width": TOKEN.upper().translate(
        {c: c + 0xFEE0 for c in range(0x21, 0x7F)}),
}


@pytest.fixture
def secrets(tmp_path: Path) -> tuple[str, ...]:
    log = FeedbackLog(tmp_path / "data" / "feedback.sqlite3")
    for q in SECRET_QUESTIONS:
        log.log_question(q, answered=False, reason="low_score", suggestion="faq-fee")
    return SECRET_QUESTIONS


def page_text(at) -> str:
    """Every element on the page, as text (protobuf text format, UTF-8): what the browser would get."""
    out = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(text_format.MessageToString(proto, as_utf8=True))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def assert_closed(at, secrets) -> None:
    """The maintainers' view is not open: none of its widgets, and no user question anywhere."""
    assert not at.dataframe and not at.metric and not at.code
    assert not [b for b in at.get("download_button") if "CSV" in b.proto.label]
    text = page_text(at)
    for secret in secrets:
        assert secret not in text and secret[:8] not in text


@pytest.mark.parametrize("name", QUERY_ATTACKS)
def test_no_token_configured_means_no_maintainers_view(name: str, secrets):
    at = ok(new_app(**QUERY_ATTACKS[name]))
    assert ADMIN not in [t.label for t in at.tabs]
    assert_closed(at, secrets)


@pytest.mark.parametrize("name", QUERY_ATTACKS)
def test_query_parameters_never_open_it(name: str, secrets, monkeypatch):
    monkeypatch.setenv("BEIAN_ADMIN_TOKEN", TOKEN)
    at = ok(new_app(**QUERY_ATTACKS[name]))
    assert ADMIN in [t.label for t in at.tabs]
    assert_closed(at, secrets)
    at.session_state["tab"] = ADMIN  # even with the tab open, only the login form
    at = ok(at.run())
    assert at.text_input(key="admin_token_input")
    assert_closed(at, secrets)


@pytest.mark.parametrize("name", WRONG_TOKENS)
def test_a_wrong_token_is_refused_and_reveals_nothing(name: str, secrets, monkeypatch):
    monkeypatch.setenv("BEIAN_ADMIN_TOKEN", TOKEN)
    at = ok(new_app(tab=ADMIN))
    at.text_input(key="admin_token_input").input(WRONG_TOKENS[name])
    at.form_submit_button[0].click()
    at = ok(at.run())
    assert [e.value for e in at.error] == ["口令不正确。"]  # the same words whatever was typed
    assert AUTH_KEY not in at.session_state
    assert_closed(at, secrets)
    if WRONG_TOKENS[name].strip():  # not echoed back (the password box itself is cleared in the browser)
        assert WRONG_TOKENS[name] not in page_text(at)
    assert TOKEN not in page_text(at)


def test_the_right_token_opens_it_and_a_new_token_closes_it(secrets, monkeypatch):
    monkeypatch.setenv("BEIAN_ADMIN_TOKEN", TOKEN)
    at = ok(new_app(tab=ADMIN))
    at.text_input(key="admin_token_input").input(TOKEN)
    at.form_submit_button[0].click()
    at = ok(at.run())
    assert at.metric and secrets[0] in page_text(at)
    assert at.session_state[AUTH_KEY] != TOKEN  # the session keeps a digest, never the token itself
    monkeypatch.setenv("BEIAN_ADMIN_TOKEN", "a-rotated-token")  # rotating the token logs everyone out
    at = ok(at.run())
    assert_closed(at, secrets)


# -- files -----------------------------------------------------------------------------------------

_EVENTS: list[tuple[str, tuple]] | None = None  # recorded while a test sets it to a list


def _audit(event: str, args: tuple) -> None:
    if _EVENTS is not None and event in ("open", "sqlite3.connect", "os.remove", "os.rename", "os.mkdir",
                                         "shutil.rmtree", "os.chmod", "os.truncate"):
        _EVENTS.append((event, args))


_HOOKED = False


def _record() -> list[tuple[str, tuple]]:
    """Start recording file events (an audit hook, installed once: hooks cannot be removed)."""
    global _EVENTS, _HOOKED
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED = True
    _EVENTS = []
    return _EVENTS


def _stop() -> None:
    global _EVENTS
    _EVENTS = None


def _writes(event: str, args: tuple) -> bool:
    if event != "open":
        return True
    mode, flags = (args + (None, None))[1:3]
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))


def _path(args: tuple) -> Path | None:
    target = args[0] if args else None
    if isinstance(target, bytes):
        target = os.fsdecode(target)
    return Path(os.path.abspath(target)) if isinstance(target, (str, os.PathLike)) else None


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


def test_query_parameters_have_no_file_effect(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BEIAN_ADMIN_TOKEN", TOKEN)
    data = tmp_path / "data"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x").write_text("keep me")
    params = {
        "db": "../../etc/passwd", "q": "../../x", "file": str(outside / "x"), "path": "../outside/x",
        "data": str(outside), "BEIAN_DATA_DIR": str(outside), "BEIAN_DB": str(outside / "evil.sqlite3"),
        "BEIAN_CONTENT_ROOT": str(outside), "root": "/", "tab": "../../etc/passwd", "download": "../../etc/shadow",
    }
    outside_before = _tree(outside)
    events = _record()
    try:
        at = ok(new_app(**params))
        at = ask(at, "备案要多久")
    finally:
        _stop()
    assert user_texts(at) == ["../../x", "备案要多久"]  # ?q= is a question, nothing more
    connects = {str(_path(args)) for event, args in events if event == "sqlite3.connect"}
    assert connects == {str(data / "feedback.sqlite3")}
    for event, args in events:
        path = _path(args)
        if path is None:
            continue
        assert "passwd" not in str(path) and "shadow" not in str(path) and outside not in path.parents, (event, args)
        if _writes(event, args):
            assert data in path.parents or path == data, (event, args)
    assert _tree(outside) == outside_before  # (writes anywhere else are caught by the audit events above)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "outside"]
    assert [r.question for r in FeedbackLog(data / "feedback.sqlite3").all()] == ["备案要多久", "../../x"]
