"""`python -m beian eval`: how well does `ask` do on labelled questions it has never seen?

Reads eval/questions.yaml (questions: [{q, expect: id|null, category}]) and prints, for our
matcher and two peers on the same content:

- top-1 in scope (answered with the expected entry), top-3 in scope (expected entry among the
  answer and the suggestions), decline rate on out-of-scope questions, and wrong answers;
- the same per category; every miss, with what was answered or suggested instead.

Peers (so the figures mean something):
- naive:  rapidfuzz `process.extractOne(q, all phrasings, scorer=WRatio, processor=default_process,
          score_cutoff=C)` — the textbook FAQ matcher;
- bm25:   bm25s over jieba word tokens of all phrasings, answering when the BM25 score ≥ T.
Each peer's cutoff (C, T) is chosen *fairly*, the same way our own thresholds were: the value
that maximises accuracy on the development data (see `development_questions`) — never on the
eval set.

`--loo` prints the same report for that development data instead (what tuning looks at; the
learned classifier was fitted on it, so the honest figures there come from benchmarks/fit_gate.py).
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import InputError
from .kb import OUT_OF_SCOPE_FILE, PROJECT_ROOT, KnowledgeBase
from .matcher import Matcher

DEV_QUESTIONS_FILE = PROJECT_ROOT / "benchmarks" / "dev_questions.yaml"
OUT_OF_SCOPE = "(out of scope)"


@dataclass(frozen=True)
class Question:
    q: str
    expect: str | None
    category: str
    exclude_row: int | None = None  # leave-one-out: the phrasing row this question was taken from
    exclude_example: int | None = None  # leave-one-out: the out-of-scope example this question is

    @property
    def left_out(self) -> dict[str, tuple[int, ...]]:
        """Keyword arguments for Matcher.measures / _ask: what this question must not match itself."""
        return {"exclude_rows": () if self.exclude_row is None else (self.exclude_row,),
                "exclude_examples": () if self.exclude_example is None else (self.exclude_example,)}


@dataclass(frozen=True)
class Prediction:
    id: str | None  # answered entry, or None when declined
    top3: tuple[str, ...]  # best three entries, answered one first
    reason: str = ""


@dataclass
class Report:
    name: str
    rows: list[tuple[Question, Prediction]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def in_scope(self):
        return [(q, p) for q, p in self.rows if q.expect is not None]

    @property
    def out_of_scope(self):
        return [(q, p) for q, p in self.rows if q.expect is None]

    def top1(self) -> float:
        return _pct(sum(p.id == q.expect for q, p in self.in_scope), len(self.in_scope))

    def top3(self) -> float:
        return _pct(sum(q.expect in p.top3 for q, p in self.in_scope), len(self.in_scope))

    def declined_oos(self) -> float:
        return _pct(sum(p.id is None for _, p in self.out_of_scope), len(self.out_of_scope))

    def wrong_answers(self) -> int:
        return sum(p.id is not None and p.id != q.expect for q, p in self.rows)

    def declined_in_scope(self) -> int:
        return sum(p.id is None for _, p in self.in_scope)

    def accuracy(self) -> float:
        return _pct(sum(p.id == q.expect for q, p in self.rows), len(self.rows))

    def categories(self) -> dict[str, tuple[int, int]]:
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for q, p in self.rows:
            out[q.category][0] += p.id == q.expect
            out[q.category][1] += 1
        return {k: (v[0], v[1]) for k, v in out.items()}

    def misses(self) -> list[tuple[Question, Prediction]]:
        return [(q, p) for q, p in self.rows if p.id != q.expect]


def _pct(a: int, b: int) -> float:
    return 100.0 * a / b if b else 0.0


# ------------------------------------------------------------------------------ questions

def load_questions(path: Path, kb: KnowledgeBase) -> list[Question]:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise InputError(f"{path}: expected 'questions:' holding a list of {{q, expect, category}}")
    ids = {e.id for e in kb.entries}
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            raise InputError(f"{path}: questions[{i}]: expected a mapping with a text 'q'")
        expect = item.get("expect")
        if expect is not None and expect not in ids:
            raise InputError(f"{path}: questions[{i}] expects unknown id {expect!r}")
        out.append(Question(item["q"], expect, str(item.get("category") or ("out_of_scope" if expect is None else "other"))))
    return out


def development_questions(matcher: Matcher) -> list[Question]:
    """Development data — what thresholds, the gate and the peers' cutoffs are tuned on, never
    eval/: benchmarks/dev_questions.yaml (in scope; categories prefixed "dev_"), leave-one-out
    over every phrasing of every entry ("loo_…") and over every out-of-scope example of
    knowledge/out_of_scope.yaml ("dev_near_domain", "dev_unrelated")."""
    out = []
    if DEV_QUESTIONS_FILE.exists():
        out += [replace(q, category=f"dev_{q.category}") for q in load_questions(DEV_QUESTIONS_FILE, matcher.kb)]
    for row, (text, eid) in enumerate(zip(matcher._row_text, matcher.row_entry_ids)):
        lang = "english" if text.isascii() else "chinese"
        out.append(Question(text, eid, f"loo_{lang}", exclude_row=row))
    for i, example in enumerate(matcher.kb.sections.get(OUT_OF_SCOPE_FILE.key, ())):
        out.append(Question(example.q, None, f"dev_{example.kind}", exclude_example=i))
    return out


# ---------------------------------------------------------------------------------- peers

class OwnPeer:
    name = "ours"

    def __init__(self, matcher: Matcher):
        self.matcher = matcher

    def predict(self, q: Question) -> Prediction:
        a = self.matcher._ask(q.q, **q.left_out)
        top = ([a.id] if a.answered else []) + [s.id for s in a.suggestions]
        return Prediction(a.id if a.answered else None, tuple(top[:3]), a.reason)


class _ThresholdPeer:
    """A peer that ranks rows by a score and answers when the best score reaches a cutoff."""

    name = "peer"
    cutoff = 0.0

    def __init__(self, matcher: Matcher):
        self.row_text = list(matcher._row_text)
        self.row_entry = list(matcher.row_entry_ids)

    def scored(self, q: Question) -> list[tuple[str, float]]:  # (entry id, score), best first, unique entries
        raise NotImplementedError

    def predict(self, q: Question) -> Prediction:
        ranked = self.scored(q)
        top = tuple(e for e, _ in ranked[:3])
        if ranked and ranked[0][1] >= self.cutoff:
            return Prediction(ranked[0][0], top)
        return Prediction(None, top)

    def calibrate(self, dev: Sequence[Question], grid: Sequence[float], rule: str = "accuracy") -> float:
        """Choose the cutoff on the development data, by one of two rules:
        "accuracy": the cutoff maximising accuracy (answer right, or decline out-of-scope);
        "decline95": ours — the smallest cutoff declining ≥95% of the out-of-scope questions."""
        best = [(self.scored(q)[:1] or [(None, float("-inf"))])[0] for q in dev]
        n_out = sum(q.expect is None for q in dev) or 1
        scores = []
        for c in grid:
            ok = sum((e == q.expect and s >= c) if q.expect else not (e is not None and s >= c)
                     for q, (e, s) in zip(dev, best))
            declined = sum(not (e is not None and s >= c) for q, (e, s) in zip(dev, best) if q.expect is None)
            if rule == "decline95":
                if declined >= 0.95 * n_out:
                    self.cutoff = c
                    return c
                continue
            scores.append((ok, -c))
        if rule == "decline95":
            self.cutoff = grid[-1]
            return self.cutoff
        ok, neg_c = max(scores)
        self.cutoff = -neg_c
        return self.cutoff

    def _unique(self, pairs) -> list[tuple[str, float]]:
        seen, out = set(), []
        for row, score in pairs:
            eid = self.row_entry[row]
            if eid not in seen:
                seen.add(eid)
                out.append((eid, float(score)))
        return out


class NaivePeer(_ThresholdPeer):
    name = "naive rapidfuzz (extractOne, WRatio, default_process)"

    def scored(self, q: Question) -> list[tuple[str, float]]:
        from rapidfuzz import fuzz, process, utils

        hits = process.extract(q.q, self.row_text, scorer=fuzz.WRatio, processor=utils.default_process, limit=40)
        return self._unique((row, s) for _, s, row in hits if row != q.exclude_row)

    def predict(self, q: Question) -> Prediction:
        from rapidfuzz import fuzz, process, utils

        if q.exclude_row is not None:  # leave-one-out needs the ranked list
            return super().predict(q)
        best = process.extractOne(q.q, self.row_text, scorer=fuzz.WRatio, processor=utils.default_process,
                                  score_cutoff=self.cutoff)
        ranked = self.scored(q)
        top = tuple(e for e, _ in ranked[:3])
        return Prediction(self.row_entry[best[2]] if best else None, top)


class BM25Peer(_ThresholdPeer):
    name = "BM25 (bm25s over jieba tokens)"

    def __init__(self, matcher: Matcher):
        super().__init__(matcher)
        import logging

        import bm25s
        import jieba  # slow to import: only here, never in the ask path

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba
        self.retriever = bm25s.BM25()
        corpus = [self.tokens(t) or ["<empty>"] for t in self.row_text]
        self.retriever.index(corpus, show_progress=False)
        self.vocab = set(self.retriever.vocab_dict)

    def tokens(self, text: str) -> list[str]:
        return [t for t in self._jieba.lcut(text.lower()) if t.strip() and any(ch.isalnum() for ch in t)]

    def scored(self, q: Question) -> list[tuple[str, float]]:
        toks = [t for t in self.tokens(q.q) if t in self.vocab]
        if not toks:
            return []
        k = min(40, len(self.row_text))
        docs, scores = self.retriever.retrieve([toks], k=k, show_progress=False, n_threads=1)
        return self._unique((int(r), float(s)) for r, s in zip(docs[0], scores[0]) if int(r) != q.exclude_row and s > 0)


# -------------------------------------------------------------------------------- running

def run(peer, questions: Sequence[Question]) -> Report:
    start = time.perf_counter()
    report = Report(peer.name, [(q, peer.predict(q)) for q in questions])
    report.seconds = time.perf_counter() - start
    return report


def format_report(report: Report, *, misses: bool = True, title: str | None = None) -> str:
    lines = [f"== {title or report.name} =="]
    n_in, n_out = len(report.in_scope), len(report.out_of_scope)
    lines.append(f"top-1 in scope:        {report.top1():5.1f}%  ({sum(p.id == q.expect for q, p in report.in_scope)}/{n_in})")
    lines.append(f"top-3 in scope:        {report.top3():5.1f}%  ({sum(q.expect in p.top3 for q, p in report.in_scope)}/{n_in})")
    lines.append(f"declined out of scope: {report.declined_oos():5.1f}%  ({sum(p.id is None for _, p in report.out_of_scope)}/{n_out})")
    lines.append(f"overall accuracy:      {report.accuracy():5.1f}%  (wrong answers {report.wrong_answers()}, "
                 f"in-scope declined {report.declined_in_scope()}; {1000 * report.seconds / max(len(report.rows), 1):.2f} ms/question)")
    lines.append("per category:")
    for cat, (ok, n) in sorted(report.categories().items()):
        lines.append(f"  {cat:<18} {_pct(ok, n):5.1f}%  ({ok}/{n})")
    if misses:
        miss = report.misses()
        lines.append(f"misses ({len(miss)}):")
        for q, p in miss:
            got = p.id or f"declined:{p.reason or '-'}"
            lines.append(f"  [{q.category}] {q.q!r}: expected {q.expect or OUT_OF_SCOPE}, got {got}; top-3 {list(p.top3)}")
    return "\n".join(lines)


def threshold_sweep(matcher: Matcher, questions: Sequence[Question], thresholds: Sequence[float],
                    on: str = "score") -> list[tuple[float, float, float]]:
    """(threshold, top-1 in scope %, out-of-scope declined %) for each threshold; see
    `threshold_sweep_detail`."""
    return [(t, top1, declined) for t, top1, declined, _ in threshold_sweep_detail(matcher, questions, thresholds, on)]


def threshold_sweep_detail(matcher: Matcher, questions: Sequence[Question], thresholds: Sequence[float],
                           on: str = "score") -> list[tuple[float, float, float, float]]:
    """For each threshold: top-1 in scope %, out-of-scope declined %, and a utility: share
    answered right − 2 × share answered wrong (in scope, wrong entry) − 2 × share of
    out-of-scope answered (a wrong answer misleads; a declined question still shows the right
    entry among its suggestions nearly always). `on="gate"` sweeps gate_threshold with the fitted
    gate; `on="score"` sweeps a plain score threshold with no gate (to compare scoring variants
    on one scale, as benchmarks/ablation.py does). Empty, vague and ambiguous questions are
    declined as configured."""
    tops = []
    for q in questions:
        ranked, measures = matcher.measures(q.q, **q.left_out)
        if measures is None:
            tops.append((q, None, 0.0, 0.0, 0.0))
            continue
        gap = ranked[0].score - (ranked[1].score if len(ranked) > 1 else 0.0)
        p = matcher.gate.probability(measures) if (on == "gate" and matcher.gate) else None
        tops.append((q, matcher.entries[ranked[0].index].id, ranked[0].score, gap, p))
    n_in = sum(q.expect is not None for q in questions) or 1
    n_out = sum(q.expect is None for q in questions) or 1
    out = []
    for t in thresholds:
        gate = replace(matcher.settings, gate_threshold=t) if on == "gate" else replace(matcher.settings, score_floor=t)
        answered = [(q, top if (top and not gate.decline_reason(s, g, p)) else None) for q, top, s, g, p in tops]
        right = sum(a == q.expect for q, a in answered if q.expect)
        wrong = sum(a is not None and a != q.expect for q, a in answered if q.expect)
        oos_answered = sum(a is not None for q, a in answered if not q.expect)
        utility = right / n_in - 2 * wrong / n_in - 2 * oos_answered / n_out
        out.append((t, 100.0 * right / n_in, 100.0 * (n_out - oos_answered) / n_out, utility))
    return out


def evaluate(kb: KnowledgeBase, path: Path | None, *, loo: bool = False, peers: bool = True,
             out: Callable[[str], None] = print) -> dict[str, Report]:
    matcher = Matcher.build(kb)
    dev = development_questions(matcher)
    questions = dev if loo else load_questions(path or PROJECT_ROOT / "eval" / "questions.yaml", kb)
    label = "development data (leave-one-phrasing-out + dev out-of-scope)" if loo else str(path or "eval/questions.yaml")
    out(f"evaluating on {label}: {len(questions)} questions "
        f"({sum(q.expect is not None for q in questions)} in scope, {sum(q.expect is None for q in questions)} out of scope)")
    reports = {"ours": run(OwnPeer(matcher), questions)}
    out(format_report(reports["ours"], title="ours (beian.matcher; thresholds from knowledge/matching.yaml)"))
    if loo:
        if matcher.learned is not None:
            # the classifier was fitted on these very questions: flattering figures, for regressions only
            out("note: the learned classifier (knowledge/classifier.npz) was fitted on this development data, so these "
                "figures flatter it; benchmarks/fit_gate.py measures each question with a classifier fitted without it.")
        out("")
        st = matcher.settings
        out(f"gate_threshold sweep on this data (now {st.gate_threshold:g}; score_floor {st.score_floor:g}; "
            f"ambiguity_margin {st.ambiguity_margin:g}; the gate's own cross-validated sweep: benchmarks/fit_gate.py):")
        out("  threshold  top-1 in scope  out-of-scope declined  utility (right − 2×wrong)")
        for t, top1, declined, utility in threshold_sweep_detail(matcher, questions, [x / 20 for x in range(1, 20)], on="gate"):
            mark = "  <- now" if abs(t - st.gate_threshold) < 1e-9 else ""
            out(f"  {t:9.2f}  {top1:13.1f}%  {declined:20.1f}%  {utility:24.3f}{mark}")
    if peers:
        rules = (("accuracy", "cutoff with the best accuracy on development data"),
                 ("decline95", "cutoff chosen like ours: ≥95% of development out-of-scope declined"))
        for cls, grid in ((NaivePeer, range(0, 101)), (BM25Peer, [x / 4 for x in range(0, 161)])):
            peer = cls(matcher)
            for rule, how in rules:
                cutoff = peer.calibrate(dev, list(grid), rule)
                key = f"{peer.name} [{rule}]"
                reports[key] = rep = run(peer, questions)
                rep.name = key
                out("")
                out(format_report(rep, title=f"peer: {peer.name}, cutoff {cutoff:g} ({how})"))
        out("")
        ours = reports["ours"]
        peers_ = [r for k, r in reports.items() if k != "ours"]
        best_peer = max(peers_, key=lambda r: r.top1())
        out("== summary ==")
        out(f"{'':<66} {'top-1':>7} {'top-3':>7} {'OOS declined':>13} {'wrong':>6}")
        for r in reports.values():
            out(f"{r.name[:66]:<66} {r.top1():6.1f}% {r.top3():6.1f}% {r.declined_oos():12.1f}% {r.wrong_answers():>6}")
        out(f"ours vs the peer with the best top-1 ({best_peer.name}): top-1 {ours.top1() - best_peer.top1():+.1f} points, "
            f"out-of-scope declined {ours.declined_oos() - best_peer.declined_oos():+.1f} points, "
            f"overall accuracy {ours.accuracy() - best_peer.accuracy():+.1f} points")
        same_rule = [r for r in peers_ if r.name.endswith("[decline95]")]
        best_same = max(same_rule, key=lambda r: r.top1())
        out(f"ours vs the best peer under our own cutoff rule ({best_same.name}): top-1 {ours.top1() - best_same.top1():+.1f} points")
    return reports
