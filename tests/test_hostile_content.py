"""Hostile content a careless or malicious editor could save: validate names the file, in bounded
time and memory, and never runs anything."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from beian.cli import main
from beian.errors import ContentError
from beian.kb import load_kb


def _validate(root: Path, capsys) -> tuple[int, str, float]:
    start = time.perf_counter()
    code = main(["validate", str(root)])
    return code, capsys.readouterr().err, time.perf_counter() - start


@pytest.mark.parametrize("name, payload, expected", [
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
])
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
