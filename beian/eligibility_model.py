"""Shapes of knowledge/eligibility.yaml (rules) and knowledge/suffixes.yaml (suffix data), with the
registries the rules are checked against: the facts a rule may read and the operators it may use.

A rule's condition is business-rules style data:

    when: {all: [{fact: server, op: in, value: [hk, overseas]}, {not: {fact: same_subject, op: is_true}}]}

Unknown fact or operator names, a value outside a fact's domain, an operator that does not fit the
fact (is_true on an enumeration, eq on a yes/no fact) are errors of the file, found at load time and
located like every other content problem.
"""
from __future__ import annotations

import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .kb import GUIDE_SOURCE_PREFIX
from .models import CONFIDENCE_LABELS, Confidence, Id, Phrase, Strict, Text

CONFIDENCE_ORDER = tuple(CONFIDENCE_LABELS)  # H, M, L, UNVERIFIED: strongest first

# The five verdicts, in precedence order (see the header of knowledge/eligibility.yaml).
VERDICTS = ("not_required", "not_eligible", "new_filing", "access_filing", "no_new_filing")
RULE_VERDICTS = ("not_required", "new_filing", "access_filing", "no_new_filing")  # not_eligible comes from `block` rules


@dataclass(frozen=True)
class Fact:
    """A fact the checker knows about a case. `values` is its domain; None = open (checked against data)."""

    kind: Literal["enum", "bool", "open"]
    values: tuple[str, ...] | None
    doc: str
    after_verdict: bool = False  # only rules that run once the verdict is known may read it


FACTS: Mapping[str, Fact] = {
    "server": Fact("enum", ("mainland", "hk", "overseas"), "where the site's server is"),
    "main_filed": Fact("enum", ("no", "alibaba", "other"), "is the main domain filed, and with which access provider"),
    "same_subject": Fact("bool", None, "the filing subject is the main domain's holder"),
    "subject": Fact("enum", ("individual", "enterprise", "unknown"), "who files"),
    "industry": Fact("open", None, "special-industry key declared by a rule's `industry:` block, or none"),
    "industry_status": Fact("enum", ("none", "required", "cancelled", "local"),
                            "the pre-approval status of the chosen industry"),
    "preapproval": Fact("enum", ("yes", "no", "unknown"), "holds the industry's pre-approval"),
    "is_subdomain": Fact("bool", None, "the host is below its main domain"),
    "on_platform": Fact("bool", None, "the host is on a platform's shared domain (PSL private section)"),
    "suffix": Fact("open", None, "the host's ICANN public suffix, e.g. com.cn, gov.cn, 中国"),
    "suffix_status": Fact("enum", ("fileable", "not_fileable", "unverified", "unknown"),
                          "what knowledge/suffixes.yaml says of the suffix"),
    "suffix_confidence": Fact("enum", (*CONFIDENCE_ORDER, "none"), "how sure that suffix record is"),
    "verdict": Fact("enum", VERDICTS, "the verdict, for advisories and next steps", after_verdict=True),
}


@dataclass(frozen=True)
class Operator:
    arity: Literal["none", "scalar", "list"]
    test: Callable[[Any, Any], bool]
    kinds: tuple[str, ...]  # the fact kinds it applies to


OPERATORS: Mapping[str, Operator] = {
    "eq": Operator("scalar", lambda actual, value: actual == value, ("enum", "open")),
    "ne": Operator("scalar", lambda actual, value: actual != value, ("enum", "open")),
    "in": Operator("list", lambda actual, value: actual in value, ("enum", "open")),
    "not_in": Operator("list", lambda actual, value: actual not in value, ("enum", "open")),
    "is_true": Operator("none", lambda actual, _: actual is True, ("bool",)),
    "is_false": Operator("none", lambda actual, _: actual is False, ("bool",)),
}

# Placeholders a message or step may use; filled from the parsed host and the suffix record.
PLACEHOLDERS = ("host", "main_domain", "filing_target", "subdomain", "suffix", "suffix_note", "platform_suffix")


def _err(kind: str, message: str, /, **ctx: Any) -> PydanticCustomError:
    """A validation error whose text is final (str.format here; pydantic would not expand {x!r})."""
    return PydanticCustomError(kind, message.format(**ctx))


class Condition(Strict):
    """Exactly one of: a test {fact, op, value?}; {all: [...]}; {any: [...]}; {not: {...}}."""

    fact: str | None = None
    op: str | None = None
    value: Any = None
    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(None, alias="not")

    @field_validator("fact")
    @classmethod
    def _known_fact(cls, name: str | None) -> str | None:
        if name is not None and name not in FACTS:
            raise _err("unknown_fact", "unknown fact {fact!r}; known facts: {known}", fact=name, known=", ".join(FACTS))
        return name

    @field_validator("op")
    @classmethod
    def _known_operator(cls, name: str | None, info: ValidationInfo) -> str | None:
        if name is None:
            return name
        op = OPERATORS.get(name)
        if op is None:
            raise _err("unknown_operator", "unknown operator {op!r}; known operators: {known}",
                       op=name, known=", ".join(OPERATORS))
        fact = FACTS.get(info.data.get("fact") or "")
        if fact is not None and fact.kind not in op.kinds:
            fits = ", ".join(n for n, o in OPERATORS.items() if fact.kind in o.kinds)
            raise _err("operator_mismatch", "operator {op!r} does not apply to fact {fact!r} ({what}); use one of {fits}",
                       op=name, fact=info.data["fact"], what="yes/no" if fact.kind == "bool" else "a choice", fits=fits)
        return name

    @field_validator("value")
    @classmethod
    def _fitting_value(cls, value: Any, info: ValidationInfo) -> Any:
        fact, op = FACTS.get(info.data.get("fact") or ""), OPERATORS.get(info.data.get("op") or "")
        if fact is None or op is None:
            return value  # the fact or operator is already reported
        if op.arity == "none":
            raise _err("value_unexpected", "operator {op!r} takes no value; remove 'value'", op=info.data["op"])
        if op.arity == "list" and not (isinstance(value, list) and value):
            raise _err("value_shape", "operator {op!r} needs a non-empty list as value, e.g. [hk, overseas]",
                       op=info.data["op"])
        if op.arity == "scalar" and isinstance(value, list):
            raise _err("value_shape", "operator {op!r} compares with one value; use 'in' for a list", op=info.data["op"])
        for v in value if op.arity == "list" else [value]:
            if isinstance(v, bool):
                raise _err("value_type", "got {v}: YAML reads unquoted yes/no/on/off as true/false; "
                                         "write the value in quotes, e.g. \"yes\"", v=str(v).lower())
            if not isinstance(v, str):
                raise _err("value_type", "expected text as value, got {v!r}", v=v)
            if fact.values is not None and v not in fact.values:
                raise _err("unknown_value", "{v!r} is not a value of fact {fact!r}; expected one of {known}",
                           v=v, fact=info.data["fact"], known=", ".join(fact.values))
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [name for name, v in (("fact", self.fact), ("all", self.all), ("any", self.any), ("not", self.not_))
                 if v is not None]
        if len(forms) != 1:
            raise _err("condition_shape", "a condition is exactly one of {{fact, op, value}}, {{all: [...]}}, "
                                          "{{any: [...]}} or {{not: ...}}; got {got}", got=", ".join(forms) or "none of them")
        if (self.all, self.any) != (None, None) and not (self.all or self.any):
            raise _err("condition_shape", "{form} needs at least one condition", form="all" if self.all is not None else "any")
        if self.fact is None:
            if self.op is not None or "value" in self.model_fields_set:
                raise _err("condition_shape", "'op' and 'value' belong in a {{fact, op, value}} test, not beside all/any/not")
        elif self.op is None:
            raise _err("condition_shape", "a test on fact {fact!r} needs an 'op' ({known})",
                       fact=self.fact, known=", ".join(OPERATORS))
        elif OPERATORS[self.op].arity != "none" and "value" not in self.model_fields_set:
            raise _err("condition_shape", "operator {op!r} needs a 'value'", op=self.op)
        return self

    def holds(self, facts: Mapping[str, Any]) -> bool:
        if self.all is not None:
            return all(c.holds(facts) for c in self.all)
        if self.any is not None:
            return any(c.holds(facts) for c in self.any)
        if self.not_ is not None:
            return not self.not_.holds(facts)
        return OPERATORS[self.op].test(facts[self.fact], self.value)

    def tests(self) -> Iterator[Condition]:
        """Every {fact, op, value} test in this condition."""
        for child in (*(self.all or ()), *(self.any or ()), *((self.not_,) if self.not_ else ())):
            yield from child.tests()
        if self.fact is not None:
            yield self

    def values_of(self, fact: str) -> set[str]:
        """Every value this condition compares `fact` with."""
        out: set[str] = set()
        for t in self.tests():
            if t.fact == fact and t.value is not None:
                out.update(t.value if isinstance(t.value, tuple) else [t.value])
        return out


class Industry(Strict):
    """A special industry (fact sheet §6), declared on the rule that handles it."""

    key: Id  # what --industry takes
    name: Phrase  # Chinese name, shown to users
    status: Literal["required", "cancelled", "local"]  # pre-approval needed / cancelled nationally / ask the local 管局


def _check_source(source: str) -> str:
    if not (source.startswith(GUIDE_SOURCE_PREFIX) or source.startswith(("https://", "http://"))):
        raise _err("bad_source", "expected '{prefix}<section>' or an https:// URL, got {source!r}",
                   prefix=GUIDE_SOURCE_PREFIX, source=source)
    return source


def _check_placeholders(text: str) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise _err("bad_template", "{exc}; write {{{{ and }}}} for a literal brace", exc=str(exc)) from None
    for name in fields:
        if name not in PLACEHOLDERS:
            raise _err("unknown_placeholder", "unknown placeholder {{{name}}}; known: {known} "
                                              "(write {{{{ and }}}} for a literal brace)",
                       name=name, known=", ".join("{" + p + "}" for p in PLACEHOLDERS))


class Rule(Strict):
    """One eligibility rule. See the header of knowledge/eligibility.yaml."""

    id: Id
    when: Condition
    effect: Literal["verdict", "block", "advise", "step"]
    verdict: Literal[RULE_VERDICTS] | None = None  # type: ignore[valid-type]
    files: Literal["main_domain", "host"] = "main_domain"  # what a verdict rule says gets filed
    message: Text | None = None  # the reason shown to the user (not for `step` rules)
    steps: tuple[Text, ...] = ()  # next steps this rule adds, in order
    source: Text
    confidence: Confidence
    entry: Id  # the knowledge-base entry the rule rests on
    evidence: Literal["suffix"] | None = None  # the matched suffix record gives this case's source/confidence
    industry: Industry | None = None

    @model_validator(mode="after")
    def _check(self) -> Rule:
        _check_source(self.source)
        if (self.effect == "verdict") != (self.verdict is not None):
            raise _err("rule_shape", "'verdict' is required for effect 'verdict' and only there")
        if self.files != "main_domain" and self.effect != "verdict":
            raise _err("rule_shape", "'files' belongs to verdict rules only")
        if self.effect == "step":
            if not self.steps:
                raise _err("rule_shape", "a 'step' rule needs a non-empty 'steps' list")
        elif self.message is None:
            raise _err("rule_shape", "a '{effect}' rule needs a 'message'", effect=self.effect)
        reads = {t.fact for t in self.when.tests()}
        if self.effect in ("verdict", "block") and "verdict" in reads:
            raise _err("rule_phase", "a '{effect}' rule cannot read the fact 'verdict' (it decides the verdict); "
                                     "only 'advise' and 'step' rules can", effect=self.effect)
        if self.evidence == "suffix" and "suffix_status" not in reads:
            raise _err("rule_shape", "evidence: suffix needs a condition on 'suffix_status'")
        if self.industry is not None and self.industry.key not in self.when.values_of("industry"):
            raise _err("rule_shape", "the rule declares industry {key!r} but its condition never tests "
                                     "{{fact: industry, value: {key}}}", key=self.industry.key)
        for text in (self.message or "", *self.steps):
            _check_placeholders(text)
        return self

    @property
    def reads(self) -> set[str]:
        return {t.fact for t in self.when.tests()}


class SuffixRecord(Strict):
    """What is known about some domain suffixes (no leading dot; Unicode or xn-- form)."""

    id: Id
    suffixes: tuple[Phrase, ...] = Field(min_length=1)
    status: Literal["fileable", "not_fileable", "unverified"]
    confidence: Confidence
    source: Text
    entry: Id
    note: Text  # Chinese, shown in the reason: what is known and how sure

    @model_validator(mode="after")
    def _check(self) -> SuffixRecord:
        _check_source(self.source)
        for s in self.suffixes:
            if s.startswith("."):
                raise _err("bad_suffix", "write {s!r} without the leading dot", s=s)
            if s != s.lower():
                raise _err("bad_suffix", "write {s!r} in lower case", s=s)
        return self


def weakest(confidences) -> str:
    """The least sure of some confidence tags (UNVERIFIED < L < M < H)."""
    return max(confidences, key=CONFIDENCE_ORDER.index, default="H")


def strongest(confidences) -> str:
    """The surest of some confidence tags."""
    return min(confidences, key=CONFIDENCE_ORDER.index, default="UNVERIFIED")
