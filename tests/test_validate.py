"""Content validation: every bad fixture produces its promised message; the real content is clean."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from beian import yamlio
from beian.cli import main

ROOT = Path(__file__).resolve().parent.parent
BAD = sorted((ROOT / "tests" / "fixtures" / "bad").glob("*.yaml"))


def _header(raw: bytes, name: str) -> str:
    match = re.search(rb"^# " + name.encode() + rb": (.+)$", raw, re.M)
    assert match, f"fixture lacks a '# {name}:' line"
    return match.group(1).decode("utf-8").strip()


def test_project_content_validates(capsys):
    assert main(["validate", str(ROOT)]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


@pytest.mark.parametrize("fixture", BAD, ids=[p.stem for p in BAD])
def test_bad_fixture_is_reported_with_its_place(fixture: Path, content_copy: Path, capsys):
    raw = fixture.read_bytes()
    target, expected = _header(raw, "target"), _header(raw, "expect")
    (content_copy / target).write_bytes(raw)

    assert main(["validate", str(content_copy)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert any(line.startswith(expected) for line in lines), f"expected a line starting {expected!r}, got:\n" + "\n".join(lines)


def test_every_problem_is_reported_not_just_the_first(content_copy: Path, capsys):
    for name, target in (("missing_answer.yaml", "faq/faq.yaml"), ("wrong_shape.yaml", "knowledge/notes.yaml")):
        (content_copy / target).write_bytes((ROOT / "tests/fixtures/bad" / name).read_bytes())
    assert main(["validate", str(content_copy)]) == 1
    err = capsys.readouterr().err
    assert "faq/faq.yaml:4 › faq[id=faq-no-answer] › answer: required field is missing" in err
    assert "knowledge/notes.yaml:1: expected a mapping" in err


def test_python_tag_is_never_executed(content_copy: Path, tmp_path: Path):
    marker = tmp_path / "pwned"
    payload = (ROOT / "tests/fixtures/bad/python_tag.yaml").read_text(encoding="utf-8").replace("/tmp/beian-pwned", str(marker))
    (content_copy / "faq/faq.yaml").write_text(payload, encoding="utf-8")
    assert main(["validate", str(content_copy)]) == 1
    assert not marker.exists()


def test_missing_file_is_named(content_copy: Path, capsys):
    (content_copy / "knowledge/steps.yaml").unlink()
    assert main(["validate", str(content_copy)]) == 1
    assert "knowledge/steps.yaml: file is missing" in capsys.readouterr().err


def test_validate_command_exit_codes_from_a_shell(content_copy: Path):
    ok = subprocess.run([sys.executable, "-m", "beian", "validate", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    (content_copy / "faq/faq.yaml").write_text("faq: [", encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "beian", "validate", str(content_copy)], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1
    assert "faq/faq.yaml:1: YAML syntax error" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_export_lists_every_entry_with_all_phrasings(kb, capsys):
    assert main(["export", "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert len(exported) >= 30
    assert {"id", "kind", "title", "questions", "answer"} <= set(exported[0])
    by_id = {e["id"]: e for e in exported}
    assert set(by_id) == {e.id for e in kb.entries}
    for entry in kb.entries:
        assert by_id[entry.id]["questions"] == list(entry.phrasings)
        assert by_id[entry.id]["answer"].strip()


def _node_marks(node, out):
    out.append((type(node).__name__, node.tag, node.start_mark.line, node.start_mark.column))
    for item in node.value if isinstance(node.value, list) else ():
        for child in item if isinstance(item, tuple) else (item,):
            _node_marks(child, out)
    return out


@pytest.mark.skipif(yamlio._StrictFastLoader is None, reason="PyYAML without libyaml")
@pytest.mark.parametrize("path", sorted((ROOT / "knowledge").glob("*.yaml")) + sorted((ROOT / "faq").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_the_fast_loader_reads_every_content_file_exactly_like_the_checked_one(path):
    # libyaml parses, our Python composer applies the same checks: same values, same line numbers
    text = path.read_text(encoding="utf-8")
    fast, fast_node = yamlio._load(yamlio._StrictFastLoader, text)
    slow, slow_node = yamlio._load(yamlio._StrictSafeLoader, text)
    assert fast == slow
    assert _node_marks(fast_node, []) == _node_marks(slow_node, [])
