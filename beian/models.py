"""Typed, frozen shapes of the content files. Validation of *one* file lives here; checks across
files (unique ids, related ids exist, …) live in kb.py."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]
Confidence = Literal["H", "M", "L", "UNVERIFIED"]

CONFIDENCE_LABELS = {
    "H": "高（官方文档直接确认）",
    "M": "中（官方摘要或多个一致的二手来源）",
    "L": "低（单一二手或社区来源）",
    "UNVERIFIED": "未经核实",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(Strict):
    """Anything the assistant can answer with: an overview section, a step, a note row, a FAQ entry."""

    kind: ClassVar[str] = "entry"

    id: Id
    title: Phrase
    questions: tuple[Phrase, ...] = Field(min_length=5)
    questions_en: tuple[Phrase, ...] = Field(min_length=1)
    answer: Text
    source: Text
    related: tuple[Id, ...] = ()
    confidence: Confidence | None = None

    @property
    def phrasings(self) -> tuple[str, ...]:
        """Every way of asking for this entry: the title first."""
        return (self.title, *self.questions, *self.questions_en)


class Overview(Entry):
    kind: ClassVar[str] = "overview"


class Step(Entry):
    kind: ClassVar[str] = "step"

    order: int = Field(ge=1, le=6)
    where: tuple[Phrase, ...] = Field(min_length=1)
    expect: Text


class ChecklistItem(Strict):
    id: Id
    text: Text
    required: Literal["always", "conditional", "optional"]
    note: Text | None = None


class Materials(Entry):
    kind: ClassVar[str] = "materials"

    subject: Literal["enterprise", "individual", "all"]
    items: tuple[ChecklistItem, ...] = Field(min_length=1)


class Note(Entry):
    kind: ClassVar[str] = "note"

    label: Phrase
    detail: Text


class Faq(Entry):
    kind: ClassVar[str] = "faq"


class Correction(Strict):
    id: Id
    applies_to: tuple[Id, ...] = Field(min_length=1)
    guide_says: Text
    correction: Text
    sources: tuple[Url, ...] = Field(min_length=1)
    confidence: Confidence
    checked: dt.date


class OutOfScopeExample(Strict):
    """A question this assistant does not answer (knowledge/out_of_scope.yaml). The matcher compares
    every question with these too: one closer to an example than to any entry is more likely off
    topic (a measure of the answer gate)."""

    q: Phrase
    kind: Literal["near_domain", "unrelated"]  # shares the KB's words (服务器, 域名 …) or not


class SynonymGroup(Strict):
    canonical: Phrase
    variants: tuple[Phrase, ...] = Field(min_length=1)


# --- knowledge/matching.yaml: the matcher's thresholds and weights, each with the reason for its value.
MATCHING_NUMBERS: dict[str, tuple[float, float]] = {  # name -> allowed range
    "gate_threshold": (0, 1),
    "score_floor": (0, 100),
    "ambiguity_margin": (0, 50),
    "suggestion_floor": (0, 100),
    "max_question_chars": (20, 5000),
    "prefilter_entries": (1, 10_000),
    "weight_q_cover": (0, 1),
    "weight_p_cover": (0, 1),
    "weight_e_cover": (0, 1),
    "weight_ratio": (0, 1),
    "weight_partial": (0, 1),
    "mass_scale": (0.1, 100),
    "unigram_share_q": (0, 1),
    "unigram_share_p": (0, 1),
    "unigram_share_e": (0, 1),
    "unknown_unit_weight": (0, 5),
    "frame_weight": (0, 1),
    "novel_bigram_weight": (0, 5),
    "learned_weight": (0, 100),
}
MATCHING_LISTS = ("vague_terms", "frame_words", "vague_starting_points")


class MatchingSetting(Strict):
    name: Literal[tuple(MATCHING_NUMBERS) + MATCHING_LISTS]  # type: ignore[valid-type]
    value: float | tuple[Phrase, ...]
    reason: Text

    @model_validator(mode="after")
    def _value_fits_name(self):
        if self.name in MATCHING_LISTS:
            if not isinstance(self.value, tuple):
                raise ValueError(f"{self.name}: expected a list of words")
        else:
            lo, hi = MATCHING_NUMBERS[self.name]
            if isinstance(self.value, tuple) or not lo <= self.value <= hi:
                raise ValueError(f"{self.name}: expected a number in {lo:g}..{hi:g}, got {self.value!r}")
        return self


# What the answer gate (beian/gate.py) reads of the best match, and what each one is.
GATE_MEASURES: tuple[str, ...] = (
    "score",                  # the best entry's score ÷ 100
    "lead",                   # log(1 + points ahead of the runner-up)
    "entry_bigram_cover",     # share of the question's weighted bigrams found in the entry's phrasings
    "entry_unit_cover",       # the same for single units
    "question_bigram_cover",  # share of the question's weighted bigrams in the best phrasing alone
    "ratio",                  # rapidfuzz ratio of the question to the best phrasing, 0..1
    "missing_term",           # heaviest question bigram the entry lacks ÷ the heaviest question bigram
    "matched_mass",           # log(1 + idf mass of the question bigrams the entry has)
    "question_units",         # log(1 + number of units in the normalised question)
    "example_pull",           # (overlap with the closest out-of-scope example × (1 − score))^1.5, all 0..1
    "learned",                # the learned classifier's probability of the best entry (beian/classifier.py)
    "learned_oos",            # its probability that the question is out of scope
)


class GateTerm(Strict):
    """One term of the fitted gate (knowledge/gate.yaml): weight × (measure − center) ÷ scale,
    or the constant `bias`."""

    measure: Literal[tuple(GATE_MEASURES) + ("bias",)]  # type: ignore[valid-type]
    weight: float = Field(ge=-100, le=100)
    center: float = Field(default=0.0, ge=-1000, le=1000)
    scale: float = Field(default=1.0, gt=0, le=1000)
