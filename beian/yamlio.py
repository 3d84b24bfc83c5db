"""Read one YAML file safely and keep the node tree, so problems can be reported with line numbers.

Safe means: `yaml.SafeLoader` only (no `!!python/...` tag is ever constructed), no anchors or
aliases (an alias bomb cannot blow up memory), no duplicate keys (PyYAML would silently keep the
last one), a size cap, a cap on values and on nesting (a megabyte of `[x,x,x…]` would otherwise
take seconds and hundreds of MB to compose), and UTF-8 only. Every refusal is a `Problem` naming
the file and line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from .errors import ContentError, Problem

MAX_FILE_BYTES = 1_000_000  # the whole guide is ~60 KB; a megabyte means a mistake, not content
MAX_NODES = 20_000  # values (scalars, lists, mappings) in one file; the largest real file has ~1 500
MAX_DEPTH = 20  # nesting levels; the content uses at most 7


class _Strict:
    """What a content loader refuses on top of SafeLoader: aliases, duplicate mapping keys, and
    too many or too deeply nested values (checked while composing, so a hostile file is dropped
    after its first MAX_NODES values, not after all of them)."""

    _nodes = 0
    _depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (*name) are not allowed in content files; write the text out",
                problem_mark=event.start_mark,
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise yaml.MarkedYAMLError(
                problem=f"too many values (more than {MAX_NODES:,} in one file): split it or remove pasted data",
                problem_mark=event.start_mark,
            )
        if self._depth >= MAX_DEPTH:
            raise yaml.MarkedYAMLError(
                problem=f"nesting is too deep to be content (more than {MAX_DEPTH} levels)",
                problem_mark=event.start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):  # noqa: ANN001
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key; the base class reports it properly
                break
            if duplicate:
                raise yaml.MarkedYAMLError(
                    problem=f"duplicate key {key!r} (the earlier value would be silently lost)",
                    problem_mark=key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _StrictSafeLoader(_Strict, yaml.SafeLoader):
    """The pure-Python strict loader: its error messages are the ones editors see."""


if getattr(yaml, "__with_libyaml__", False):
    class _StrictFastLoader(_Strict, yaml.composer.Composer, yaml.cyaml.CParser,  # type: ignore[misc]
                            yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """The same checks over libyaml's C scanner and parser (events), composed in Python:
        ~4× faster on the content, which is most of the app's cold start spent in YAML."""

        def __init__(self, stream):  # noqa: ANN001
            yaml.cyaml.CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            yaml.composer.Composer.__init__(self)
else:  # pragma: no cover - PyYAML built without libyaml
    _StrictFastLoader = None


def _load(loader_class, text: str) -> tuple[Any, Node | None]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def read_yaml(path: Path, rel: str) -> tuple[Any, Node | None]:
    """Return (data, root node) of a YAML file, or raise ContentError with one located problem."""

    def fail(message: str, line: int | None = None) -> ContentError:
        return ContentError([Problem(rel, line, "", message)])

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable") from None
    if len(raw) > MAX_FILE_BYTES:
        raise fail(f"file is too large ({len(raw):,} bytes, limit {MAX_FILE_BYTES:,}); split it or remove pasted data")
    if b"\x00" in raw:
        raise fail("file contains NUL bytes: it looks binary, not YAML text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise fail(f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8", line) from None

    if _StrictFastLoader is not None:
        try:
            return _load(_StrictFastLoader, text)
        except (yaml.YAMLError, RecursionError):
            pass  # read it again below, for the pure-Python loader's located, familiar message
    try:
        data, node = _load(_StrictSafeLoader, text)
    except yaml.MarkedYAMLError as exc:
        # An unclosed quote or bracket is found at the end of the file; where it opened is more useful.
        at_end = "end of stream" in (exc.problem or "")
        mark = (exc.context_mark if at_end else None) or exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise fail(_describe_yaml_error(exc), line) from None
    except yaml.YAMLError as exc:
        raise fail(f"YAML error: {exc}") from None
    except RecursionError:
        raise fail("nesting is too deep to be content") from None
    return data, node


def _describe_yaml_error(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or str(exc)
    if "constructor for the tag" in problem:
        tag = problem.split("tag", 1)[1].strip(" '").replace("tag:yaml.org,2002:", "!!")
        return f"tag {tag} is not allowed (content is plain data; tags such as !!python/... are refused, never run)"
    if "'\\t'" in problem:
        return "a tab character: YAML indents with spaces only; replace the tab with spaces"
    if problem.startswith(("anchors and aliases", "duplicate key", "too many values", "nesting is too deep")):
        return problem  # our own refusals, already a full sentence
    context = f"{exc.context}: " if exc.context else ""
    return f"YAML syntax error: {context}{problem}"


def line_of(node: Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the value at `loc` (keys and list indexes) in a composed node tree.

    Stops at the deepest node that exists, so a missing field points at its parent entry.
    """
    if node is None:
        return None
    current = node
    line = node.start_mark.line + 1
    for step in loc:
        child = None
        if isinstance(current, MappingNode):
            for key_node, value_node in current.value:
                if key_node.value == step:
                    child = value_node
                    # a block value starts on the line after its key; the key's line is where to look
                    line = key_node.start_mark.line + 1
                    break
        elif isinstance(current, SequenceNode) and isinstance(step, int) and 0 <= step < len(current.value):
            child = current.value[step]
        if child is None:
            break
        if not isinstance(current, MappingNode):
            line = child.start_mark.line + 1
        current = child
    return line
