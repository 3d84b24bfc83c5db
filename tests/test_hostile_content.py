"""Hostile content a careless or malicious editor could save: validate names the file, in bounded
time and memory, and never runs anything; the app shows the same lines instead of itself."""
from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from test_app import _env, new_app, ok  # noqa: F401 (_env: autouse, own data dir)
from test_validate import BAD, _header

from beian.cli import main
from beian.errors import ContentError
from beian.kb import load_kb
from beian.presenters import escape_markdown
from beian.yamlio import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, read_yaml


def _validate(root: Path, capsys) -> tuple[int, str, float]:
    start = time.perf_counter()
    code = main(["validate", str(root)])
    return code, capsys.readouterr().err, time.perf_counter() - start


HOSTILE_FILES = [  # (name, faq/faq.yaml's bytes, the line validate must print)
    ("huge file", b"faq:\n" + b"  - x\n" * 400_000, "faq/faq.yaml: file is too large"),
    ("deep nesting", b"faq: " + b"[" * 50_000 + b"]" * 50_000, "faq/faq.yaml"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "faq/faq.yaml: file contains NUL bytes"),
    ("billion laughs", b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nfaq: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
     "faq/faq.yaml:2: anchors and aliases"),
    ("empty file", b"", "faq/faq.yaml:1: expected a mapping with a list under 'faq:', got nothing (empty)"),
    ("only a comment", b"# nothing here\n", "faq/faq.yaml:1: expected a mapping"),
    ("scalar entries", b"faq:\n  - just a string\n", "faq/faq.yaml:2 › faq[0]: expected a mapping (an entry with fields), got text"),
    ("BOM and CRLF still fine except content", "\ufefffaq:\r\n  - 42\r\n".encode("utf-8"), "faq/faq.yaml:2 › faq[0]: expected a mapping"),
    ("set tag", b"faq: !!set {a, b}\n", "faq/faq.yaml:1: expected a mapping with a list under 'faq:', got set"),
    ("python name tag", b"faq: !!python/name:os.system\n", "faq/faq.yaml:1: tag !!python/name:os.system is not allowed"),
]


@pytest.mark.parametrize("name, payload, expected", HOSTILE_FILES)
def test_hostile_faq_file_is_refused_quickly(content_copy: Path, capsys, name, payload, expected):
    (content_copy / "faq/faq.yaml").write_bytes(payload)
    code, err, seconds = _validate(content_copy, capsys)
    assert code == 1
    assert any(line.startswith(expected) for line in err.splitlines()), err[:2000]
    assert "Traceback" not in err
    assert seconds < 5, f"{name} took {seconds:.1f}s"


def test_unreadable_root_is_a_content_error_not_a_crash(tmp_path: Path):
    with pytest.raises(ContentError) as info:
        load_kb(tmp_path / "does-not-exist")
    assert "knowledge/overview.yaml: file is missing" in str(info.value)


# -- bounded memory and time, under the size cap too ---------------------------------------------

NEAR_CAP = [  # (name, payload just under MAX_FILE_BYTES, expected line): each would take seconds and
    # hundreds of MB to compose in full; the value and depth caps stop them early
    ("a million-byte list", b"faq:\n" + b"  - x\n" * ((MAX_FILE_BYTES - 10) // 6), f"more than {MAX_NODES:,}"),
    ("a million-byte flow list", b"faq: [" + b"x," * ((MAX_FILE_BYTES - 10) // 2) + b"]\n", f"more than {MAX_NODES:,}"),
    ("billion laughs", next(p for n, p, _ in HOSTILE_FILES if n == "billion laughs"), "anchors and aliases"),
    ("deep nesting under the cap", b"faq: " + b"[" * 400_000 + b"]" * 400_000, f"more than {MAX_DEPTH} levels"),
    ("block nesting", b"faq:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 200)), f"more than {MAX_DEPTH} levels"),
    ("one long scalar", b"faq: '" + b"x" * (MAX_FILE_BYTES - 20) + b"'\n", "expected a mapping"),
]
PEAK_LIMIT_MB = 40.0  # before the caps: 142 MB for the list, 417 MB for the flow list (and 5-12 s)


@pytest.mark.parametrize("name, payload, expected", NEAR_CAP, ids=[n for n, _, _ in NEAR_CAP])
def test_validate_stays_bounded_in_time(content_copy: Path, capsys, name, payload, expected):
    assert len(payload) <= MAX_FILE_BYTES
    (content_copy / "faq/faq.yaml").write_bytes(payload)
    code, err, seconds = _validate(content_copy, capsys)
    assert code == 1 and expected in err and "Traceback" not in err, err[:2000]
    assert seconds < 3, f"{name} took {seconds:.1f}s"


@pytest.mark.parametrize("name, payload, expected", NEAR_CAP[:3], ids=[n for n, _, _ in NEAR_CAP[:3]])
def test_reading_a_hostile_file_stays_bounded_in_memory(tmp_path: Path, capsys, name, payload, expected):
    path = tmp_path / "faq.yaml"
    path.write_bytes(payload)
    tracemalloc.start()
    try:
        with pytest.raises(ContentError, match=expected):
            read_yaml(path, "faq/faq.yaml")
        peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    with capsys.disabled():
        print(f"\n[content] {name}: {len(payload):,} bytes refused, peak {peak_mb:.1f} MB allocated")
    assert peak_mb < PEAK_LIMIT_MB


# -- the app shows the same lines ------------------------------------------------------------------

APP_CASES = {p.stem: p.read_bytes() for p in BAD} | {  # every fixture, and the hostile files unlike them
    n: b for n, b, _ in HOSTILE_FILES if n in ("huge file", "deep nesting", "binary", "empty file")}


@pytest.mark.parametrize("name", APP_CASES)
def test_the_app_shows_the_validation_lines(content_copy: Path, monkeypatch, name):
    payload = APP_CASES[name]
    target = _header(payload, "target") if payload.startswith(b"# target:") else "faq/faq.yaml"
    (content_copy / target).write_bytes(payload)
    with pytest.raises(ContentError) as info:  # the problems `validate` prints, one a line
        load_kb(content_copy)
    monkeypatch.setenv("BEIAN_CONTENT_ROOT", str(content_copy))
    at = ok(new_app())
    assert not at.tabs and not at.chat_input  # the page is not shown over broken content
    (err,) = at.error
    for problem in info.value.problems:
        assert f"- {escape_markdown(str(problem))}" in err.value, str(problem)
