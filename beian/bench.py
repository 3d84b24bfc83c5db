"""`python -m beian bench`: per-question latency (p50/p95) and index build time at 1×, 10×, 100×
and 1000× the content, beside bare rapidfuzz `process.extractOne` on the same phrasings.

Synthetic content at N× is N copies of every real entry. Every copy after the first gets its own
id and *genuinely different strings*: each phrasing has one or two extra words mixed in at
random places (words drawn from the answers' own vocabulary, seeded, so runs are repeatable),
so neither the normaliser nor rapidfuzz can reuse work across copies, while the text stays
about the size of the real content (N× the content means N× the text). The run prints how
many of the phrasings are distinct strings.

Questions are those of eval/questions.yaml (latency only; accuracy is `eval`'s job) or, without
that file, every entry's title. Build times are best of three in a warm process, each build after
the previous index is freed (the pinyin table, ~0.2 s, loads once per process and is reported
separately as "first build").
"""
from __future__ import annotations

import gc
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .kb import PROJECT_ROOT, KnowledgeBase
from .matcher import Matcher


@dataclass(frozen=True)
class SyntheticEntry:
    """Stands in for a content entry: just what the matcher reads."""

    id: str
    kind: str
    title: str
    phrasings: tuple[str, ...]
    answer: str
    source: str
    related: tuple[str, ...] = ()
    confidence: str | None = None


def _vocabulary(kb: KnowledgeBase) -> list[str]:
    text = " ".join(e.answer for e in kb.entries)
    zh = {m for chunk in re.findall(r"[\u4e00-\u9fff]+", text) for m in (chunk[i:i + 2] for i in range(0, len(chunk) - 1, 2))}
    en = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)}
    return sorted(zh | en)


def synthetic_entries(kb: KnowledgeBase, scale: int, seed: int = 7) -> list:
    """The real entries, plus scale-1 distinct copies of each (see the module docstring)."""
    rng = random.Random(seed)
    words = _vocabulary(kb)
    out: list = list(kb.entries)
    for copy in range(1, scale):
        for e in kb.entries:
            phrasings = []
            for p in e.phrasings:
                parts = list(p)
                for _ in range(rng.randint(1, 2)):
                    w = rng.choice(words)
                    parts.insert(rng.randint(0, len(parts)), w if not w.isascii() else f" {w} ")
                phrasings.append("".join(parts))
            out.append(SyntheticEntry(f"{e.id}-x{copy}", e.kind, phrasings[0], tuple(phrasings), e.answer, e.source))
    return out


def _questions(kb: KnowledgeBase, path: Path) -> list[str]:
    try:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        qs = [str(q["q"]) for q in data["questions"] if isinstance(q, dict) and q.get("q")]
        if qs:
            return qs
    except Exception:  # noqa: BLE001 - any problem: fall back to the titles
        pass
    return [e.title for e in kb.entries]


def _pct(values: Sequence[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run_bench(kb: KnowledgeBase, scales: Sequence[int] = (1, 10, 100, 1000), questions_per_scale: int = 300,
              extract_questions: int = 30, out=print) -> list[dict]:
    from rapidfuzz import fuzz, process, utils

    questions = _questions(kb, PROJECT_ROOT / "eval" / "questions.yaml")
    rng = random.Random(11)
    start = time.perf_counter()
    Matcher.build(kb)  # first build of the process: loads the pinyin table
    out(f"first build in this process (1×, includes loading the pinyin table): {1000 * (time.perf_counter() - start):.0f} ms")
    out(f"{'scale':>6} {'entries':>8} {'phrasings':>10} {'build s':>8} | {'ask p50 ms':>10} {'p95 ms':>8} {'max ms':>8} "
        f"| {'extractOne p50 ms':>17} {'p95 ms':>8}")
    rows = []
    for scale in scales:
        entries = synthetic_entries(kb, scale)
        all_phrasings = [p for e in entries for p in e.phrasings]
        n_phr = len(all_phrasings)
        n_distinct = len(set(all_phrasings))
        n_chars = sum(map(len, all_phrasings))
        del all_phrasings
        gc.collect()
        builds = []
        for _ in range(3):
            matcher = None  # free the previous index first, as a process rebuilding its index would
            t = time.perf_counter()
            matcher = Matcher.build(kb, entries=entries)
            builds.append(time.perf_counter() - t)
        qs = rng.sample(questions, min(questions_per_scale, len(questions)))
        for q in qs[:5]:
            matcher.ask(q)  # warm-up
        lat = []
        for q in qs:
            t = time.perf_counter()
            matcher.ask(q)
            lat.append(1000 * (time.perf_counter() - t))
        choices = [p for e in entries for p in e.phrasings]
        ext = []
        for q in qs[:extract_questions if scale >= 100 else len(qs)]:
            t = time.perf_counter()
            process.extractOne(q, choices, scorer=fuzz.WRatio, processor=utils.default_process)
            ext.append(1000 * (time.perf_counter() - t))
        row = dict(scale=scale, entries=len(entries), phrasings=n_phr, distinct=n_distinct, chars=n_chars,
                   build_s=min(builds), builds=builds,
                   ask_p50=_pct(lat, 0.5), ask_p95=_pct(lat, 0.95), ask_max=max(lat),
                   extract_p50=_pct(ext, 0.5), extract_p95=_pct(ext, 0.95), n_ask=len(lat), n_extract=len(ext))
        rows.append(row)
        out(f"{scale:>5}× {len(entries):>8} {n_phr:>10} {row['build_s']:>8.2f} | {row['ask_p50']:>10.2f} {row['ask_p95']:>8.2f} "
            f"{row['ask_max']:>8.2f} | {row['extract_p50']:>17.2f} {row['extract_p95']:>8.2f}")
        del matcher, choices
    out("(build: best of 3 builds, all: " + "; ".join(
        f"{r['scale']}× " + "/".join(f"{b:.2f}" for b in r["builds"]) for r in rows) + " s)")
    out(f"(ask: {rows[0]['n_ask']} questions per scale; extractOne: WRatio + default_process over all phrasings, "
        f"{rows[-1]['n_extract']} questions at 100× and above)")
    out("(distinct phrasings / characters: " + "; ".join(
        f"{r['scale']}× {r['distinct']}/{r['phrasings']}, {r['chars'] / 1e6:.2f} M chars" for r in rows) + ")")
    return rows
