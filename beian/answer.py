"""What `ask` returns: the DESIGN.md contract, plus fields the UI needs (added, never renamed)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Suggestion:
    id: str
    title: str
    score: float


@dataclass(frozen=True)
class CorrectionNote:
    """A sourced correction to the guide, shown beside the answer it concerns."""

    id: str
    guide_says: str
    correction: str  # Markdown
    sources: tuple[str, ...]
    confidence: str  # H | M | L | UNVERIFIED
    checked: str  # ISO date


@dataclass(frozen=True)
class Answer:
    answered: bool
    id: str | None
    kind: str | None
    title: str | None
    answer: str | None  # Markdown
    score: float  # 0-100
    source: str | None
    suggestions: tuple[Suggestion, ...] = ()
    # Added fields (free to add; the contract above stays as it is):
    question: str = ""  # the question as used (after trimming / cutting to the length cap)
    reason: str = ""  # why declined: "empty" | "too_vague" | "low_score" | "out_of_scope" | "ambiguous" | "" when answered
    notice: str = ""  # e.g. "问题过长，已截取前 500 个字符"
    confidence: str | None = None  # the entry's fact-sheet confidence, when it has one
    corrections: tuple[CorrectionNote, ...] = ()
    related: tuple[Suggestion, ...] = field(default=())

    def to_json(self) -> dict:
        data = asdict(self)
        data["score"] = round(float(self.score), 1)
        for key in ("suggestions", "related", "corrections"):
            data[key] = list(data[key])
        return data
