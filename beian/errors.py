"""Typed errors the engine raises. The CLI and the app translate them once, at the edge."""
from __future__ import annotations

from dataclasses import dataclass


class BeianError(Exception):
    """Base of every error the engine raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One content problem, located so an editor can jump to it."""

    file: str  # path relative to the content root, e.g. "faq/faq.yaml"
    line: int | None  # 1-based, when the YAML gives one
    where: str  # e.g. "faq[id=faq-fee] › answer"; empty for whole-file problems
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        return f"{place} › {self.where}: {self.message}" if self.where else f"{place}: {self.message}"


class ContentError(BeianError):
    """The YAML content is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InputError(BeianError):
    """What a user typed cannot be used (empty, unparseable, unknown choice); the message says why."""
