"""Load and validate the YAML content into one frozen KnowledgeBase.

Every problem is collected (not just the first) and located as
`faq/faq.yaml:42 › faq[id=faq-fee] › answer: expected text, got a list`.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from markdown_it import MarkdownIt
from pydantic import BaseModel, ValidationError

from .errors import ContentError, Problem
from .models import Correction, Entry, Faq, Materials, Note, OutOfScopeExample, Overview, Step, SynonymGroup
from .models import MATCHING_LISTS, MATCHING_NUMBERS, MatchingSetting
from .yamlio import line_of, read_yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GUIDE_SOURCE_PREFIX = "指南 › "  # sources that cite the guide itself rather than a URL


@dataclass(frozen=True)
class FileSpec:
    """One content file: where it is, the key holding its list, and the shape of each item."""

    path: str
    key: str
    model: type[BaseModel]
    required: bool = True


ENTRY_FILES: tuple[FileSpec, ...] = (
    FileSpec("knowledge/overview.yaml", "overview", Overview),
    FileSpec("knowledge/steps.yaml", "steps", Step),
    FileSpec("knowledge/materials.yaml", "materials", Materials),
    FileSpec("knowledge/notes.yaml", "notes", Note),
    FileSpec("faq/faq.yaml", "faq", Faq),
)
SEE_CORRECTION = "见下方更正"  # how an answer points to the correction the app shows beside it
CORRECTIONS_FILE = FileSpec("knowledge/corrections.yaml", "corrections", Correction)
SYNONYMS_FILE = FileSpec("knowledge/synonyms.yaml", "synonyms", SynonymGroup)

# Other modules (eligibility rules, suffix data, matcher settings) register their files here so
# that `validate` checks them too; each may add a cross-check run on the assembled KB.
EXTRA_FILES: list[FileSpec] = []
MODEL_FILES: list[str] = []  # fitted models that are not YAML (the learned classifier): caches key on them too
CROSS_CHECKS: list[Callable[["KnowledgeBase"], list[Problem]]] = []
MATCHING_FILE = FileSpec("knowledge/matching.yaml", "matching", MatchingSetting)  # the matcher's thresholds
EXTRA_FILES.append(MATCHING_FILE)
# Questions the assistant does not answer: the matcher measures how close a question is to them.
OUT_OF_SCOPE_FILE = FileSpec("knowledge/out_of_scope.yaml", "out_of_scope", OutOfScopeExample, required=False)
EXTRA_FILES.append(OUT_OF_SCOPE_FILE)


@dataclass(frozen=True)
class KnowledgeBase:
    root: Path
    entries: tuple[Entry, ...]
    corrections: tuple[Correction, ...]
    synonyms: tuple[SynonymGroup, ...]
    sections: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # extra files, by key
    locations: Mapping[str, tuple[str, int | None]] = field(default_factory=dict)  # id -> (file, line)

    def entry(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def corrections_for(self, entry_id: str) -> tuple[Correction, ...]:
        return tuple(c for c in self.corrections if entry_id in c.applies_to)

    def of_kind(self, kind: str) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind == kind)

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(sorted((e for e in self.entries if isinstance(e, Step)), key=lambda s: s.order))

    @property
    def _by_id(self) -> dict[str, Entry]:
        cached = self.__dict__.get("_by_id_cache")
        if cached is None:
            cached = {e.id: e for e in self.entries}
            object.__setattr__(self, "_by_id_cache", cached)
        return cached


def default_root() -> Path:
    """The content root: $BEIAN_CONTENT_ROOT, or the project itself."""
    return Path(os.environ.get("BEIAN_CONTENT_ROOT") or PROJECT_ROOT)


def all_specs() -> tuple[FileSpec, ...]:
    return (*ENTRY_FILES, CORRECTIONS_FILE, SYNONYMS_FILE, *EXTRA_FILES)


def content_signature(root: Path | None = None) -> tuple[tuple[str, int, int], ...]:
    """Cheap fingerprint (name, size, mtime) of every content file and fitted model, to key caches on."""
    root = Path(root or default_root())
    sig = []
    for path in (*(spec.path for spec in all_specs()), *MODEL_FILES):
        try:
            st = (root / path).stat()
            sig.append((path, st.st_size, st.st_mtime_ns))
        except OSError:
            sig.append((path, -1, -1))
    return tuple(sig)


def load_kb(root: Path | str | None = None) -> KnowledgeBase:
    """Load and validate all content under `root`; raise ContentError listing every problem."""
    root = Path(root) if root is not None else default_root()
    problems: list[Problem] = []
    loaded: dict[str, list[tuple[Any, int | None]]] = {}  # key -> [(model, line)]
    for spec in all_specs():
        loaded[spec.key] = _load_file(root, spec, problems)

    entries = [(obj, line, spec.path) for spec in ENTRY_FILES for obj, line in loaded[spec.key]]
    kb = KnowledgeBase(
        root=root,
        entries=tuple(e for e, _, _ in entries),
        corrections=tuple(c for c, _ in loaded[CORRECTIONS_FILE.key]),
        synonyms=tuple(s for s, _ in loaded[SYNONYMS_FILE.key]),
        sections=MappingProxyType({s.key: tuple(o for o, _ in loaded[s.key]) for s in EXTRA_FILES}),
        locations=MappingProxyType({e.id: (path, line) for e, line, path in entries}),
    )
    problems += _cross_check(kb, entries, loaded)
    for check in CROSS_CHECKS:
        problems += check(kb)
    if problems:
        raise ContentError(problems)
    return kb


def _load_file(root: Path, spec: FileSpec, problems: list[Problem]) -> list[tuple[Any, int | None]]:
    path = root / spec.path
    if not path.exists():
        if spec.required:
            problems.append(Problem(spec.path, None, "", f"file is missing; it must hold a list under '{spec.key}:'"))
        return []
    try:
        data, node = read_yaml(path, spec.path)
    except ContentError as exc:
        problems.extend(exc.problems)
        return []
    if not isinstance(data, dict) or not isinstance(data.get(spec.key), list):
        got = _type_name(data.get(spec.key)) if isinstance(data, dict) else _type_name(data)
        problems.append(Problem(spec.path, 1, "", f"expected a mapping with a list under '{spec.key}:', got {got}"))
        return []
    unknown = sorted(set(map(str, data)) - {spec.key})
    if unknown:
        problems.append(Problem(spec.path, 1, "", f"unknown top-level key(s) {', '.join(unknown)}; only '{spec.key}:' is read"))
    out = []
    for index, item in enumerate(data[spec.key]):
        label = _label(spec.key, index, item)
        line = line_of(node, (spec.key, index))
        if not isinstance(item, dict):
            problems.append(Problem(spec.path, line, label, f"expected a mapping (an entry with fields), got {_type_name(item)}"))
            continue
        try:
            out.append((spec.model.model_validate(item), line))
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(_problem_from_pydantic(spec, node, index, label, item, err))
    return out


def _label(key: str, index: int, item: Any) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].strip():
        return f"{key}[id={item['id']}]"
    return f"{key}[{index}]"


def _problem_from_pydantic(spec: FileSpec, node, index: int, label: str, item: dict, err: dict) -> Problem:
    loc = tuple(err["loc"])
    where = label
    value: Any = item
    for step in loc:  # name nested items by their id too: items[id=icp-form]
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and step < len(value) else None
            where += f"[id={value['id']}]" if isinstance(value, dict) and isinstance(value.get("id"), str) else f"[{step}]"
        else:
            value = value.get(step) if isinstance(value, dict) else None
            where += f" › {step}"
    return Problem(spec.path, line_of(node, (spec.key, index, *loc)), where, _explain(err))


_TYPE_NAMES = {str: "text", int: "a number", float: "a number", bool: "true/false", list: "a list",
               dict: "a mapping", type(None): "nothing (empty)"}


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _explain(err: dict) -> str:
    """Turn a pydantic error into a sentence a content editor can act on."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling against docs/CONTENT.md)"
    if kind in ("string_type", "string_sub_type"):
        return f"expected text, got {_type_name(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"is too long (over {ctx.get('max_length')} characters)"
    if kind == "string_pattern_mismatch":
        if "a-z0-9" in ctx.get("pattern", ""):
            return f"{value!r} is not a valid id (lowercase letters, digits and hyphens)"
        return f"{value!r} is not an http(s) URL"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length', 0)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {_type_name(value)}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {value!r}"
    if kind in ("int_type", "int_parsing", "greater_than_equal", "less_than_equal"):
        return f"expected a whole number{' in range' if 'equal' in kind else ''}, got {value!r}" + (
            f" (allowed: {ctx.get('ge', '')}..{ctx.get('le', '')})" if "equal" in kind else "")
    if kind.startswith("date"):
        return f"expected a date like 2026-11-28, got {value!r}"
    if kind in ("model_type", "dict_type"):
        return f"expected a mapping, got {_type_name(value)}"
    return err["msg"]


_MARKDOWN = MarkdownIt("commonmark")  # commonmark keeps raw HTML as html_* tokens, so we can refuse it


def markdown_problems(text: str) -> str | None:
    """None if `text` is Markdown without raw HTML, else why it is refused."""
    for token in _MARKDOWN.parse(text):
        for t in (token, *(token.children or ())):
            if t.type in ("html_block", "html_inline"):
                return f"raw HTML {t.content.strip()[:40]!r} is not allowed; use Markdown"
    return None


def _cross_check(kb: KnowledgeBase, entries: list[tuple[Entry, int | None, str]],
                 loaded: Mapping[str, list[tuple[Any, int | None]]]) -> list[Problem]:
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    placed: list[tuple[str, str, Any, int | None, str]] = [  # (id, label, obj, line, file)
        (e.id, f"{_key_of(path)}[id={e.id}]", e, line, path) for e, line, path in entries
    ] + [(c.id, f"corrections[id={c.id}]", c, line, CORRECTIONS_FILE.path) for c, line in loaded[CORRECTIONS_FILE.key]]
    for ident, label, _, line, path in placed:
        if ident in first_seen:
            problems.append(Problem(path, line, label, f"duplicate id '{ident}' (already used in {first_seen[ident]})"))
        else:
            first_seen[ident] = path
    entry_ids = {e.id for e, _, _ in entries}
    phrase_owner: dict[str, str] = {}
    for entry, line, path in entries:
        label = f"{_key_of(path)}[id={entry.id}]"
        for rel in entry.related:
            if rel not in entry_ids:
                problems.append(Problem(path, line, f"{label} › related", f"unknown id '{rel}'"))
        if entry.id in entry.related:
            problems.append(Problem(path, line, f"{label} › related", "an entry cannot be related to itself"))
        if not (entry.source.startswith(GUIDE_SOURCE_PREFIX) or entry.source.startswith(("https://", "http://"))):
            problems.append(Problem(path, line, f"{label} › source",
                                    f"expected '{GUIDE_SOURCE_PREFIX}<section>' or an https:// URL, got {entry.source!r}"))
        for field_name in ("answer", *(("detail",) if isinstance(entry, Note) else ())):
            why = markdown_problems(getattr(entry, field_name))
            if why:
                problems.append(Problem(path, line, f"{label} › {field_name}", why))
        for phrase in entry.phrasings:
            key = phrase.casefold()
            owner = phrase_owner.setdefault(key, entry.id)
            if owner != entry.id:
                problems.append(Problem(path, line, label, f"phrasing {phrase!r} is also a phrasing of '{owner}'; keep it in one entry"))
    for corr, line in loaded[CORRECTIONS_FILE.key]:
        label = f"corrections[id={corr.id}]"
        for target in corr.applies_to:
            if target not in entry_ids:
                problems.append(Problem(CORRECTIONS_FILE.path, line, f"{label} › applies_to", f"unknown id '{target}'"))
        why = markdown_problems(corr.correction)
        if why:
            problems.append(Problem(CORRECTIONS_FILE.path, line, f"{label} › correction", why))
    corrected = {t for corr, _ in loaded[CORRECTIONS_FILE.key] for t in corr.applies_to}
    for entry, line, path in entries:
        # an answer that sends the reader to a correction must have one shown beside it
        if SEE_CORRECTION in entry.answer and entry.id not in corrected:
            problems.append(Problem(path, line, f"{_key_of(path)}[id={entry.id}] › answer",
                                    f"says '{SEE_CORRECTION}' but no correction in {CORRECTIONS_FILE.path} applies_to it"))
    problems += _check_steps(kb, entries)
    problems += _check_synonyms(loaded[SYNONYMS_FILE.key])
    return problems


def _key_of(path: str) -> str:
    return next(s.key for s in ENTRY_FILES if s.path == path)


def _check_steps(kb: KnowledgeBase, entries: Iterable[tuple[Entry, int | None, str]]) -> list[Problem]:
    problems = []
    orders: dict[int, str] = {}
    for entry, line, path in entries:
        if isinstance(entry, Step):
            if entry.order in orders:
                problems.append(Problem(path, line, f"steps[id={entry.id}] › order",
                                        f"order {entry.order} is also used by '{orders[entry.order]}'"))
            orders[entry.order] = entry.id
    return problems


def _check_synonyms(groups: list[tuple[SynonymGroup, int | None]]) -> list[Problem]:
    problems = []
    owner: dict[str, str] = {}
    for group, line in groups:
        for word in (group.canonical, *group.variants):
            key = word.casefold()
            if key in owner and owner[key] != group.canonical:
                problems.append(Problem(SYNONYMS_FILE.path, line, f"synonyms[{group.canonical}]",
                                        f"'{word}' is already in the group of '{owner[key]}'; a word may belong to one group only"))
            owner.setdefault(key, group.canonical)
    return problems


def _check_matching(kb: KnowledgeBase) -> list[Problem]:
    """knowledge/matching.yaml names every setting once and the score weights add up to 1."""
    items = kb.sections.get(MATCHING_FILE.key, ())
    problems, seen = [], set()
    for item in items:
        if item.name in seen:
            problems.append(Problem(MATCHING_FILE.path, None, f"matching[{item.name}]", "is set twice; keep one"))
        seen.add(item.name)
    for name in (*MATCHING_NUMBERS, *MATCHING_LISTS):
        if name not in seen and (kb.root / MATCHING_FILE.path).exists():
            problems.append(Problem(MATCHING_FILE.path, None, f"matching[{name}]", "is missing (every setting needs a value and a reason)"))
    ids = {e.id for e in kb.entries}
    for item in items:
        if item.name == "vague_starting_points":
            for target in item.value:
                if target not in ids:
                    problems.append(Problem(MATCHING_FILE.path, None, f"matching[{item.name}]", f"unknown entry id '{target}'"))
    weights = [i.value for i in items if i.name.startswith("weight_")]
    if weights and abs(sum(weights) - 1.0) > 1e-6:
        problems.append(Problem(MATCHING_FILE.path, None, "matching[weight_*]", f"the score weights must add up to 1, got {sum(weights):g}"))
    return problems


CROSS_CHECKS.append(_check_matching)


def _check_out_of_scope(kb: KnowledgeBase) -> list[Problem]:
    """An out-of-scope example must not also be a way of asking for an entry, nor be listed twice:
    the first would teach the matcher to decline a question the KB answers."""
    owner = {p.casefold(): e.id for e in kb.entries for p in e.phrasings}
    problems, seen = [], set()
    for i, example in enumerate(kb.sections.get(OUT_OF_SCOPE_FILE.key, ())):
        key = example.q.casefold()
        label = f"out_of_scope[{i}]"
        if key in owner:
            problems.append(Problem(OUT_OF_SCOPE_FILE.path, None, label,
                                    f"{example.q!r} is a phrasing of '{owner[key]}'; a question cannot be both answered and out of scope"))
        elif key in seen:
            problems.append(Problem(OUT_OF_SCOPE_FILE.path, None, label, f"{example.q!r} is listed twice; keep one"))
        seen.add(key)
    return problems


CROSS_CHECKS.append(_check_out_of_scope)
