"""The answer gate: how likely is the best-ranked entry to be the right answer?

The matcher ranks entries well (the right entry is first for ~97% of in-scope questions) but one
score alone separates poorly a paraphrase the KB words differently from an off-topic question
that shares a few words with it. The gate reads several measures of the best match together —
its score and lead, how much of the question the entry covers, the heaviest question term the
entry lacks, how long the question is — through a logistic model fitted on development data
(benchmarks/fit_gate.py; never on eval/), and the matcher answers when the probability reaches
`gate_threshold` (knowledge/matching.yaml).

    gate = Gate.from_kb(kb)            # knowledge/gate.yaml, written by benchmarks/fit_gate.py
    gate.probability(measures)         # 0..1
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import Problem
from .kb import CROSS_CHECKS, EXTRA_FILES, FileSpec, KnowledgeBase
from .models import GATE_MEASURES, GateTerm

GATE_FILE = FileSpec("knowledge/gate.yaml", "gate", GateTerm)  # written by benchmarks/fit_gate.py --write


def _check_gate(kb: KnowledgeBase) -> list[Problem]:
    """Each measure at most once: a repeated one would silently count twice."""
    seen, problems = set(), []
    for term in kb.sections.get(GATE_FILE.key, ()):
        if term.measure in seen:
            problems.append(Problem(GATE_FILE.path, None, f"gate[{term.measure}]",
                                    "appears twice; re-run benchmarks/fit_gate.py --write"))
        seen.add(term.measure)
    return problems


if all(s.path != GATE_FILE.path for s in EXTRA_FILES):
    EXTRA_FILES.append(GATE_FILE)
    CROSS_CHECKS.append(_check_gate)


def measure_values(raw: Mapping[str, float]) -> dict[str, float]:
    """The gate's inputs from the matcher's raw evidence of the best match (see
    models.GATE_MEASURES for what each means). Counts enter as log(1 + x): the tenth shared
    term says less than the first."""
    return {
        "score": raw["score"] / 100.0,
        "lead": math.log1p(max(raw["lead"], 0.0)),
        "entry_bigram_cover": raw["eb"],
        "entry_unit_cover": raw["eu"],
        "question_bigram_cover": raw["qb"],
        "ratio": raw["ratio"],
        "missing_term": raw["kmiss"],
        "matched_mass": math.log1p(max(raw["meb"], 0.0)),
        "question_units": math.log1p(raw["units"]),
        # An out-of-scope example matters as far as the best entry leaves the question unexplained;
        # to the power 1.5, so that a little of it (an example that merely shares the words of a
        # question an entry answers well: 小程序备案审核要多久 for 备案审核要多久) says less.
        # Powers 1, 1.5 and 2 tie on development data (docs/MATCHING.md); 1.5 is the one that
        # both answers the app's example questions and declines the ECS怎么重启.
        # (clamped: the scoring weights sum to 1 only up to float rounding, so a perfect match can
        # score a hair over 100, and a negative base to the power 1.5 is a complex number)
        "example_pull": (raw.get("example", 0.0) / 100.0 * max(1.0 - raw["score"] / 100.0, 0.0)) ** 1.5,
    } | ({"learned": raw["learned"], "learned_oos": raw["learned_oos"]} if "learned" in raw else {})


@dataclass(frozen=True)
class Gate:
    """A fitted logistic model: logit = bias + Σ weight × (measure − center) / scale."""

    bias: float
    terms: tuple[tuple[str, float, float, float], ...]  # (measure, weight, center, scale)

    @classmethod
    def from_kb(cls, kb: KnowledgeBase) -> Gate | None:
        items = kb.sections.get(GATE_FILE.key, ())
        if not items:
            return None
        bias = sum(t.weight for t in items if t.measure == "bias")
        terms = tuple((t.measure, t.weight, t.center, t.scale) for t in items if t.measure != "bias")
        return cls(bias, terms)

    def probability(self, measures: Mapping[str, float]) -> float:
        # A measure the matcher could not take (no classifier file) sits at its center: no evidence either way.
        z = self.bias + sum(w * (measures.get(m, c) - c) / s for m, w, c, s in self.terms)
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def fit(rows: Sequence[Mapping[str, float]], right: Sequence[bool], weights: Sequence[float],
        l2: float = 0.01, measures: Sequence[str] = GATE_MEASURES) -> Gate:
    """Weighted L2-regularised logistic regression (Newton's method) of `right` on the measures,
    standardised so the weights compare. Small and deterministic: no library needed for 9 inputs."""
    x = np.array([[r[m] for m in measures] for r in rows], dtype=float)
    y = np.asarray(right, dtype=float)
    w = np.asarray(weights, dtype=float)
    center, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.column_stack([np.ones(len(x)), (x - center) / scale])
    beta = np.zeros(z.shape[1])
    ridge = l2 * np.eye(beta.size)
    ridge[0, 0] = 0.0  # the bias is not shrunk
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -50, 50)))
        grad = z.T @ (w * (p - y)) + ridge @ beta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + ridge
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    terms = tuple((m, float(b), float(c), float(s)) for m, b, c, s in zip(measures, beta[1:], center, scale))
    return Gate(float(beta[0]), terms)
