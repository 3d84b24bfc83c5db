"""The eligibility checker: a hostname and a few answers -> Verdict (code, reasons tied to rules and
sources, next steps). The rules are data (knowledge/eligibility.yaml, suffix data in
knowledge/suffixes.yaml); this module registers those files with the KB loader, checks them across
the KB at load time, and evaluates them. Precedence is documented in the header of eligibility.yaml.

    check(domain="blog.example.com.cn", server="mainland", main_filed="other", same_subject=True)
    -> Verdict(verdict="access_filing", main_domain="example.com.cn", …)
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .domains import ParsedDomain, parent_suffixes, parse_host, public_suffix_of
from .domains import _show as _shown  # user text in a message: printable (no ANSI, no newline), short
from .eligibility_model import FACTS, PLACEHOLDERS, VERDICTS, Industry, Rule, SuffixRecord, strongest, weakest
from .errors import InputError, Problem
from .kb import CROSS_CHECKS, EXTRA_FILES, FileSpec, KnowledgeBase, load_kb
from .models import CONFIDENCE_LABELS
from .yamlio import line_of, read_yaml

RULES_FILE = FileSpec("knowledge/eligibility.yaml", "rules", Rule)
SUFFIXES_FILE = FileSpec("knowledge/suffixes.yaml", "suffixes", SuffixRecord)

SERVERS = FACTS["server"].values
MAIN_FILED = FACTS["main_filed"].values
SUBJECTS = ("individual", "enterprise")
NO_INDUSTRY = "none"
_RANK = {v: i for i, v in enumerate(VERDICTS)}  # lower wins

VERDICT_TEXT: Mapping[str, tuple[str, str]] = {  # code -> (label, summary template)
    "not_required": ("无需 ICP 备案", "服务器不在中国内地：{host} 无需 ICP 备案。"),
    "not_eligible": ("目前不能备案", "按你的情况，{host} 目前不能在阿里云备案：先解决下面标为“阻断”的问题。"),
    "new_filing": ("需要先为域名备案", "{filing_target} 还没有可用的备案：要先为它办理 ICP 备案（首次备案或新增网站），"
                                      "通过后 {host} 才能在阿里云中国内地服务器上使用。"),
    "access_filing": ("需要办理接入备案", "主域名 {main_domain} 已在其他接入商备案：要在阿里云为它办理接入备案（新增接入）。"),
    "no_new_filing": ("无需新的备案", "主域名 {main_domain} 已在阿里云备案：把 {host} 解析到阿里云中国内地实例即可，无需再备案。"),
}


@dataclass(frozen=True)
class Reason:
    rule: str
    message: str
    blocking: bool
    source: str
    # added beyond the DESIGN.md contract
    effect: str  # verdict | block | advise
    entry: str  # knowledge-base entry id the rule rests on
    confidence: str  # H | M | L | UNVERIFIED
    sources: tuple[str, ...]  # every source behind this reason (suffix record first, then the rule)
    moot: bool = False  # a block made irrelevant by a not_required verdict; shown for information

    def to_json(self) -> dict:
        return {"rule": self.rule, "message": self.message, "blocking": self.blocking, "source": self.source,
                "effect": self.effect, "entry": self.entry, "confidence": self.confidence,
                "sources": list(self.sources), "moot": self.moot}


@dataclass(frozen=True)
class NextStep:
    text: str
    rule: str
    source: str
    entry: str
    confidence: str

    def to_json(self) -> dict:
        return {"text": self.text, "rule": self.rule, "source": self.source, "entry": self.entry,
                "confidence": self.confidence}


@dataclass(frozen=True)
class Verdict:
    verdict: str  # not_required | no_new_filing | access_filing | new_filing | not_eligible
    host: str
    main_domain: str
    is_subdomain: bool
    reasons: tuple[Reason, ...]
    next_steps: tuple[str, ...]
    # added beyond the DESIGN.md contract
    label: str  # the verdict in Chinese
    summary: str  # one sentence in Chinese
    confidence: str  # of the verdict: the surest of its deciding reasons (any one of them suffices)
    verdict_if_resolved: str | None  # for not_eligible: the path once the blocks are resolved
    filing_target: str | None  # the name a filing is made for (main domain, or the host for .gov.cn subdomains)
    host_ascii: str
    main_domain_ascii: str
    suffix: str
    suffix_status: str  # fileable | not_fileable | unverified | unknown
    suffix_record: str | None  # id in knowledge/suffixes.yaml
    platform_suffix: str | None
    answers: tuple[tuple[str, Any], ...]  # the facts as evaluated
    step_details: tuple[NextStep, ...]

    @property
    def blocking(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.blocking)

    def to_json(self) -> dict:
        return {
            "verdict": self.verdict, "host": self.host, "main_domain": self.main_domain,
            "is_subdomain": self.is_subdomain, "reasons": [r.to_json() for r in self.reasons],
            "next_steps": list(self.next_steps),
            "label": self.label, "summary": self.summary, "confidence": self.confidence,
            "verdict_if_resolved": self.verdict_if_resolved, "filing_target": self.filing_target,
            "host_ascii": self.host_ascii, "main_domain_ascii": self.main_domain_ascii,
            "suffix": self.suffix, "suffix_status": self.suffix_status, "suffix_record": self.suffix_record,
            "platform_suffix": self.platform_suffix, "answers": dict(self.answers),
            "step_details": [s.to_json() for s in self.step_details],
        }


# --- the checker -----------------------------------------------------------------------------


def check(*, domain: str, server: str, main_filed: str, same_subject: bool | str, subject: str | None = None,
          industry: str | None = None, preapproval: bool | str | None = None,
          kb: KnowledgeBase | None = None, root: Path | str | None = None) -> Verdict:
    """Decide whether `domain` can be filed and what to do next. Raises InputError for bad answers
    (before the KB is loaded, so a bad hostname is reported even when the content is broken)."""
    answers = {
        "server": _choice("--server", server, SERVERS),
        "main_filed": _choice("--main-filed", main_filed, MAIN_FILED),
        "same_subject": _yes_no("--same-subject", same_subject),
        "subject": _choice("--subject", subject, SUBJECTS) if subject is not None else "unknown",
    }
    pre = _yes_no("--preapproval", preapproval) if preapproval is not None else None
    answers["preapproval"] = {True: "yes", False: "no", None: "unknown"}[pre]
    parsed = parse_host(domain)
    kb = kb if kb is not None else load_kb(root)
    chosen = find_industry(kb, industry)
    answers["industry"] = chosen.key if chosen else NO_INDUSTRY
    answers["industry_status"] = chosen.status if chosen else "none"
    return _evaluate(kb, parsed, answers)


def _evaluate(kb: KnowledgeBase, parsed: ParsedDomain, answers: Mapping[str, Any]) -> Verdict:
    """Apply the rules to a parsed host and the answers check() validated."""
    record = suffix_record(kb, parsed.suffix)
    facts = {
        **answers,
        "is_subdomain": parsed.is_subdomain,
        "on_platform": parsed.platform_suffix is not None,
        "suffix": parsed.suffix,
        "suffix_status": record.status if record else "unknown",
        "suffix_confidence": record.confidence if record else "none",
    }
    rules = rules_of(kb)
    deciding = [r for r in rules if r.effect in ("verdict", "block") and r.when.holds(facts)]
    verdict, winners, if_resolved = _decide(deciding)
    facts["verdict"] = verdict
    won = {r.id for r in winners}
    lost = {r.id for r in deciding if r.effect == "verdict"} - won  # outranked, e.g. main-filed-alibaba under .gov.cn
    moot = {r.id for r in deciding if r.effect == "block"} if verdict == "not_required" else set()
    fired = {r.id for r in deciding} - lost | {r.id for r in rules if r.effect in ("advise", "step") and r.when.holds(facts)}

    files_host = any(r.files == "host" for r in winners)
    filing_target = (parsed.host if files_host else parsed.main_domain) if verdict in ("new_filing", "access_filing") else None
    values = {
        "host": parsed.host, "main_domain": parsed.main_domain, "filing_target": filing_target or parsed.main_domain,
        "subdomain": parsed.subdomain, "suffix": parsed.suffix, "suffix_note": record.note if record else "",
        "platform_suffix": parsed.platform_suffix or "",
    }
    assert set(values) == set(PLACEHOLDERS)

    reasons, steps = [], []
    order = {r.id: i for i, r in enumerate(rules)}
    for rule in sorted((r for r in rules if r.id in fired and r.effect != "step"),
                       key=lambda r: (0 if r.id in won else 1 if r.effect == "block" else 2, order[r.id])):
        use_record = rule.evidence == "suffix" and record is not None
        reasons.append(Reason(
            rule=rule.id, message=rule.message.format_map(values), blocking=rule.effect == "block" and rule.id not in moot,
            source=record.source if use_record else rule.source, effect=rule.effect, entry=rule.entry,
            confidence=weakest((rule.confidence, record.confidence)) if use_record else rule.confidence,
            sources=(record.source, rule.source) if use_record else (rule.source,), moot=rule.id in moot))
    for rule in rules:  # next steps in file order: the file lists them in the order a user does them
        if rule.id in fired and rule.id not in moot:
            steps += [NextStep(s.format_map(values), rule.id, rule.source, rule.entry, rule.confidence) for s in rule.steps]

    decisive = [r for r in reasons if r.effect == "verdict" or r.blocking]
    label, summary = VERDICT_TEXT[verdict]
    return Verdict(
        verdict=verdict, host=parsed.host, main_domain=parsed.main_domain, is_subdomain=parsed.is_subdomain,
        reasons=tuple(reasons), next_steps=tuple(s.text for s in steps),
        label=label, summary=summary.format_map(values), confidence=strongest(r.confidence for r in decisive),
        verdict_if_resolved=if_resolved, filing_target=filing_target,
        host_ascii=parsed.host_ascii, main_domain_ascii=parsed.main_domain_ascii, suffix=parsed.suffix,
        suffix_status=facts["suffix_status"], suffix_record=record.id if record else None,
        platform_suffix=parsed.platform_suffix,
        answers=tuple((k, facts[k]) for k in FACTS if k in facts), step_details=tuple(steps),
    )


def _decide(fired: list[Rule]) -> tuple[str, list[Rule], str | None]:
    """(verdict, the verdict rules that decided it, verdict once blocks are resolved) — see eligibility.yaml."""
    proposals = [r for r in fired if r.effect == "verdict"]
    best = min((_RANK[r.verdict] for r in proposals), default=None)
    if best is None:  # validate guarantees a verdict rule fires for every combination of answers
        raise RuntimeError("no eligibility verdict rule fired; run 'python -m beian validate'")
    path = VERDICTS[best]
    winners = [r for r in proposals if r.verdict == path]
    if path != "not_required" and any(r.effect == "block" for r in fired):
        return "not_eligible", [], path
    return path, winners, None


# --- data access ------------------------------------------------------------------------------


def rules_of(kb: KnowledgeBase) -> tuple[Rule, ...]:
    return kb.sections.get(RULES_FILE.key, ())


def industries(kb: KnowledgeBase) -> tuple[Industry, ...]:
    """The special industries declared by the rules, in file order (keys for --industry)."""
    return tuple(r.industry for r in rules_of(kb) if r.industry is not None)


def find_industry(kb: KnowledgeBase, name: str | None) -> Industry | None:
    """The industry with this key (or Chinese name); None for no industry; InputError if unknown."""
    if name is None or name.strip().lower() in ("", NO_INDUSTRY):
        return None
    wanted = name.strip()
    for ind in industries(kb):
        if wanted.lower() == ind.key or wanted in (ind.name, ind.name.split("（")[0]):
            return ind
    keys = ", ".join((*(i.key for i in industries(kb)), NO_INDUSTRY))
    raise InputError(f"未知的行业 “{_shown(wanted)}”（--industry）：可选 {keys} (unknown industry key)")


def suffix_record(kb: KnowledgeBase, suffix: str) -> SuffixRecord | None:
    """The record for a public suffix: its own, or a not_fileable parent's (see knowledge/suffixes.yaml)."""
    table = _suffix_table(kb)
    for i, candidate in enumerate(parent_suffixes(suffix)):
        record = table.get(candidate)
        if record is not None and (i == 0 or record.status == "not_fileable"):
            return record
    return None


def _suffix_table(kb: KnowledgeBase) -> dict[str, SuffixRecord]:
    cached = kb.__dict__.get("_suffix_table_cache")
    if cached is None:
        cached = {}
        for record in kb.sections.get(SUFFIXES_FILE.key, ()):
            for s in record.suffixes:
                cached.setdefault(public_suffix_of(s) or s, record)
        object.__setattr__(kb, "_suffix_table_cache", cached)
    return cached


def _choice(flag: str, value: object, allowed: tuple[str, ...]) -> str:
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in allowed:
        raise InputError(f"{flag} 的取值 {str(value)[:40]!r} 无效：可选 {', '.join(allowed)} (invalid choice)")
    return text


def _yes_no(flag: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else None
    if text in ("yes", "y", "true", "是"):
        return True
    if text in ("no", "n", "false", "否"):
        return False
    raise InputError(f"{flag} 的取值 {str(value)[:40]!r} 无效：可选 yes, no (invalid choice)")


# --- readable output --------------------------------------------------------------------------


def format_verdict(v: Verdict) -> str:
    """Plain text for the terminal."""
    what = f"{v.host}（主域名 {v.main_domain}{'，是子域名' if v.is_subdomain else ''}）"
    lines = [what, f"结论：{v.label} [{v.verdict}]，把握：{CONFIDENCE_LABELS[v.confidence]}", f"  {v.summary}"]
    if v.verdict_if_resolved:
        lines.append(f"  解决阻断问题后：{VERDICT_TEXT[v.verdict_if_resolved][0]} [{v.verdict_if_resolved}]")
    lines.append("")
    lines.append("原因：")
    for r in v.reasons:
        mark = "✗ 阻断" if r.blocking else "○ 仅供参考（服务器在境外，不影响结论）" if r.moot else "✓ 依据" if r.effect == "verdict" else "! 提示"
        lines.append(f"  {mark} [{r.rule}] {r.message}")
        lines.append(f"      来源：{r.source}（可信度 {r.confidence}；参见 {r.entry}）")
    if v.next_steps:
        lines.append("")
        lines.append("下一步：")
        lines += [f"  {i}. {s}" for i, s in enumerate(v.next_steps, 1)]
    return "\n".join(lines)


# --- load-time checks across the KB -------------------------------------------------------------


def check_content(kb: KnowledgeBase) -> list[Problem]:
    """Problems in eligibility.yaml / suffixes.yaml that need the whole KB (or all rules) to see."""
    rules = rules_of(kb)
    records = kb.sections.get(SUFFIXES_FILE.key, ())
    where = _Locator(kb.root)
    problems: list[Problem] = []
    entry_ids = {e.id for e in kb.entries}

    seen: set[str] = set()
    keys: dict[str, str] = {}
    for rule in rules:
        if rule.id in seen:
            problems.append(where.problem(RULES_FILE, rule.id, (), f"duplicate rule id '{rule.id}'", nth=2))
        seen.add(rule.id)
        if entry_ids and rule.entry not in entry_ids:
            problems.append(where.problem(RULES_FILE, rule.id, ("entry",), f"unknown entry id '{rule.entry}' (see docs/ENTRIES.md)"))
        if rule.industry is not None:
            if rule.industry.key in keys:
                problems.append(where.problem(RULES_FILE, rule.id, ("industry", "key"),
                                              f"industry '{rule.industry.key}' is already declared by rule '{keys[rule.industry.key]}'"))
            keys.setdefault(rule.industry.key, rule.id)
    for rule in rules:
        for value in sorted(rule.when.values_of("industry") - set(keys) - {NO_INDUSTRY}):
            problems.append(where.problem(RULES_FILE, rule.id, ("when",),
                                          f"unknown industry {value!r}; declared: {', '.join(keys) or 'none'}"))
        for value in sorted(rule.when.values_of("suffix")):
            if public_suffix_of(value) != value:
                problems.append(where.problem(RULES_FILE, rule.id, ("when",),
                                              f"{value!r} is not a public suffix (write e.g. gov.cn, com.cn or 中国, no leading dot)"))
    problems += _coverage(rules, where)

    owner: dict[str, str] = {}
    for record in records:
        if entry_ids and record.entry not in entry_ids:
            problems.append(where.problem(SUFFIXES_FILE, record.id, ("entry",), f"unknown entry id '{record.entry}' (see docs/ENTRIES.md)"))
        for s in record.suffixes:
            canonical = public_suffix_of(s)
            if canonical is None:
                problems.append(where.problem(SUFFIXES_FILE, record.id, ("suffixes",),
                                              f"{s!r} is not a public suffix in the bundled Public Suffix List (check the spelling)"))
            elif canonical in owner:
                problems.append(where.problem(SUFFIXES_FILE, record.id, ("suffixes",),
                                              f"suffix {s!r} is also listed by '{owner[canonical]}'; list each suffix once"))
            else:
                owner[canonical] = record.id
    return problems


def _coverage(rules: Iterable[Rule], where: _Locator) -> list[Problem]:
    """Every combination of the facts the verdict rules read must fire at least one verdict rule."""
    verdict_rules = [r for r in rules if r.effect == "verdict"]
    if not verdict_rules:
        return [where.problem(RULES_FILE, None, (), "no rule with effect 'verdict': the checker could never decide")]
    read = sorted({f for r in verdict_rules for f in r.reads})
    domains = []
    for name in read:
        fact = FACTS[name]
        if fact.kind == "bool":
            domains.append((True, False))
        elif fact.values is not None:
            domains.append(fact.values)
        else:  # an open fact: the values the rules name, plus one they do not
            domains.append((*sorted({v for r in verdict_rules for v in r.when.values_of(name)}), "(any other)"))
    gaps = [combo for combo in itertools.product(*domains)
            if not any(r.when.holds(dict(zip(read, combo))) for r in verdict_rules)]
    if not gaps:
        return []
    shown = "; ".join(", ".join(f"{k}={v}" for k, v in zip(read, combo)) for combo in gaps[:3])
    more = f" (and {len(gaps) - 3} more)" if len(gaps) > 3 else ""
    return [where.problem(RULES_FILE, None, (), f"no verdict rule fires when {shown}{more}; add a rule or widen a condition")]


class _Locator:
    """Line numbers for cross-check problems, read from the YAML only when a problem is found."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._nodes: dict[str, Any] = {}

    def problem(self, spec: FileSpec, item_id: str | None, loc: tuple, message: str, *, nth: int = 1) -> Problem:
        if item_id is None:
            return Problem(spec.path, None, spec.key, message)
        label = f"{spec.key}[id={item_id}]" + "".join(f" › {step}" for step in loc)
        return Problem(spec.path, self._line(spec, item_id, loc, nth), label, message)

    def _line(self, spec: FileSpec, item_id: str, loc: tuple, nth: int) -> int | None:
        if spec.path not in self._nodes:
            try:
                self._nodes[spec.path] = read_yaml(self.root / spec.path, spec.path)
            except Exception:  # the loader has already reported the file itself
                self._nodes[spec.path] = (None, None)
        data, node = self._nodes[spec.path]
        items = data.get(spec.key) if isinstance(data, dict) else None
        matches = [i for i, item in enumerate(items or ()) if isinstance(item, dict) and item.get("id") == item_id]
        if len(matches) < nth:
            return None
        return line_of(node, (spec.key, matches[nth - 1], *loc))


def _register() -> None:
    for spec in (RULES_FILE, SUFFIXES_FILE):
        if all(s.path != spec.path for s in EXTRA_FILES):
            EXTRA_FILES.append(spec)
    mine = (check_content.__module__, check_content.__qualname__)
    if all((getattr(c, "__module__", None), getattr(c, "__qualname__", None)) != mine for c in CROSS_CHECKS):
        CROSS_CHECKS.append(check_content)


_register()
