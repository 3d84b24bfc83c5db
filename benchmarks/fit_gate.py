"""Fit the answer gate (beian/gate.py) on development data and print how it trades answers for
declines; with --write, store it in knowledge/gate.yaml.

    .venv/bin/python benchmarks/fit_gate.py            # report only
    .venv/bin/python benchmarks/fit_gate.py --write    # and rewrite knowledge/gate.yaml

Development data only — never eval/:
- benchmarks/dev_questions.yaml: in-scope questions written blind to the KB and the eval sets,
  in batches (weight 1: they look like what users type);
- every KB phrasing asked with itself left out (leave-one-out; weight 0.3: phrasings are many
  and written in the KB's own style, so they would otherwise outvote the real-looking questions);
- every out-of-scope example of knowledge/out_of_scope.yaml, asked with itself left out of the
  examples (weight 1).
Out-of-scope rows weigh 3× more: a wrong answer misleads, a declined question still shows the
right entry among its suggestions nearly always. A row is "right" when the best-ranked entry is
the expected one; out-of-scope rows are never right.

The report is cross-validated (5 folds, seeded): each row's probability comes from a gate fitted
without it. Re-run after changing content or the matcher's measures, then choose gate_threshold
in knowledge/matching.yaml from the sweep (and say why there).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import fit_classifier  # noqa: E402  (benchmarks/, beside this script)
from beian.evaluate import development_questions  # noqa: E402
from beian.gate import GATE_FILE, Gate, fit  # noqa: E402
from beian.kb import default_root, load_kb  # noqa: E402
from beian.matcher import Matcher, lead  # noqa: E402
from beian.models import GATE_MEASURES  # noqa: E402

LOO_WEIGHT, OOS_WEIGHT, L2, FOLDS, SEED = 0.3, 3.0, 0.01, 5, 20261129


class Row(NamedTuple):
    """One development question as the gate sees it."""

    measures: dict[str, float]
    right: bool  # the best-ranked entry is the expected one
    weight: float
    source: str  # dev_questions | loo | example
    category: str  # the question's category (dev_near_domain, dev_unrelated, loo_english …)
    in_scope: bool
    score: float
    lead: float


def rows(matcher: Matcher) -> list[Row]:
    """Every development question the gate sees (empty and vague questions are declined before it),
    each measured with a learned classifier that was not fitted on it (fit_classifier.folds)."""
    questions = development_questions(matcher)
    training = fit_classifier.training_rows(matcher, questions) if matcher.learned else []  # one per question
    models, fold = fit_classifier.folds(training) if training else ([], {})
    by_fold = [matcher.with_classifier(m) for m in models]
    out = []
    for i, q in enumerate(questions):
        source = "loo" if q.exclude_row is not None else "example" if q.exclude_example is not None else "dev_questions"
        ranked, measures = (by_fold[fold[training[i].key]] if by_fold else matcher).measures(q.q, **q.left_out)
        if measures is None:
            continue
        right = q.expect is not None and matcher.entries[ranked[0].index].id == q.expect
        weight = (LOO_WEIGHT if source == "loo" else 1.0) * (OOS_WEIGHT if q.expect is None else 1.0)
        out.append(Row(measures, right, weight, source, q.category, q.expect is not None, ranked[0].score, lead(ranked)))
    return out


def fit_rows(data: list[Row]) -> Gate:
    return fit([d.measures for d in data], [d.right for d in data], [d.weight for d in data], L2)


def cross_validated(data) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    fold = rng.integers(0, FOLDS, len(data))
    p = np.zeros(len(data))
    for k in range(FOLDS):
        gate = fit_rows([d for d, f in zip(data, fold) if f != k])
        for i in np.flatnonzero(fold == k):
            p[i] = gate.probability(data[i].measures)
    return p


UTILITY_TIE = 0.005  # utilities closer than this are a tie: ~10 development questions, the noise between folds


def sweep(data, p, floor: float, margin: float) -> float:
    """Print the cross-validated sweep; return the threshold the rule picks: among those declining
    ≥95% of the out-of-scope examples, the lowest whose utility is within UTILITY_TIE of the best
    (on a flat stretch of the curve the tie goes to answering)."""
    src = np.array([d.source for d in data])
    cat = np.array([d.category for d in data])
    in_scope = np.array([d.in_scope for d in data])
    right = np.array([d.right for d in data])
    score = np.array([d.score for d in data])
    lead = np.array([d.lead for d in data])
    print(f"{'threshold':>9} | {'dev_questions right':>19} {'wrong':>5} | {'leave-one-out right':>19} {'wrong':>5} | "
          f"{'OOS declined: near_domain':>25} {'unrelated':>9} {'all':>6} | {'utility':>7}")
    eligible = {}
    for t in (0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8):
        ans = (p >= t) & (score >= floor) & (lead >= margin)
        cells = []
        for s in ("dev_questions", "loo"):
            m = (src == s) & in_scope
            cells.append(f"{100 * (ans & m & right).sum() / max(int(m.sum()), 1):18.1f}% {int((ans & m & ~right).sum()):5d}")
        declined = [100 * (~ans[(cat == c) & ~in_scope]).mean() for c in ("dev_near_domain", "dev_unrelated")]
        all_oos = ~in_scope
        dq = (src == "dev_questions") & in_scope
        utility = ((ans & dq & right).sum() - 2 * (ans & dq & ~right).sum()) / max(dq.sum(), 1) - 2 * ans[all_oos].mean()
        print(f"{t:9.2f} | {cells[0]} | {cells[1]} | {declined[0]:24.1f}% {declined[1]:8.1f}% {100 * (~ans[all_oos]).mean():5.1f}% |"
              f" {utility:7.3f}")
        if (~ans[all_oos]).mean() >= 0.95:
            eligible[t] = utility
    print("(right: share of in-scope questions answered with the right entry; wrong: in-scope answered with another;"
          " OOS: the out-of-scope examples, each asked with itself left out; questions declined before the gate —"
          " empty, vague — are not counted here; utility: share of dev_questions right − 2 × share wrong − 2 × share"
          " of out-of-scope answered)")
    best = max(eligible.values(), default=None)
    return min((t for t, u in eligible.items() if u >= best - UTILITY_TIE), default=float("nan"))


def write(gate: Gate, n: int) -> Path:
    path = default_root() / GATE_FILE.path
    lines = [
        "# 回答闸门（beian/gate.py）：拟合的逻辑回归。由 benchmarks/fit_gate.py 生成，请勿手改；内容或匹配度量变化后重新运行。",
        "# The answer gate (beian/gate.py): a fitted logistic model. WRITTEN BY benchmarks/fit_gate.py — do not",
        "# edit by hand; re-run it after changing content or the matcher's measures, and re-check gate_threshold",
        "# in knowledge/matching.yaml. logit = bias + Σ weight × (measure − center) ÷ scale; the measures are",
        "# described in beian/models.py (GATE_MEASURES). Fitted on development data only (benchmarks/",
        f"# dev_questions.yaml, leave-one-out over the KB phrasings and over knowledge/out_of_scope.yaml): {n} rows,",
        f"# {dt.date.today().isoformat()}.",
        "gate:",
        f"  - measure: bias\n    weight: {gate.bias:.6g}",
    ]
    for m, w, c, s in gate.terms:
        lines.append(f"  - measure: {m}\n    weight: {w:.6g}\n    center: {c:.6g}\n    scale: {s:.6g}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="rewrite knowledge/gate.yaml with the gate fitted on all rows")
    args = ap.parse_args(argv)
    kb = load_kb(default_root())
    matcher = Matcher.build(kb)
    data = rows(matcher)
    print(f"{len(data)} development rows; measures: {', '.join(GATE_MEASURES)}")
    p = cross_validated(data)
    s = matcher.settings
    print(f"cross-validated sweep of gate_threshold (score_floor {s.score_floor:g}, ambiguity_margin {s.ambiguity_margin:g};"
          f" now {s.gate_threshold:g}):")
    pick = sweep(data, p, s.score_floor, s.ambiguity_margin)
    print(f"the rule picks gate_threshold {pick:g} (knowledge/matching.yaml has {s.gate_threshold:g})")
    gate = fit_rows(data)
    print("fitted on all rows: bias %.3f; " % gate.bias + ", ".join(f"{m} {w:+.3f}" for m, w, _, _ in gate.terms))
    if args.write:
        print(f"wrote {write(gate, len(data))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
