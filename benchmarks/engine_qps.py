"""The engine's throughput on this machine: questions answered per second, in-process.

Builds the index once from the project's content, then asks the labelled questions
(eval/questions.yaml and eval/holdout.yaml, in a fixed shuffled order, round and round) for a fixed
time, on 1 thread and on N threads sharing one Matcher (it is thread-safe; numpy and rapidfuzz
release the GIL only part of the time, so threads add little). `python -m beian bench` gives the
per-question latency at 1x..1000x the content; this gives the plain rate at 1x.

    .venv/bin/python benchmarks/engine_qps.py                 # 5 s per run, 1 and 2 threads
    .venv/bin/python benchmarks/engine_qps.py --seconds 10 --threads 1 2 4
"""
from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import beian.eligibility  # noqa: E402,F401  (registers every content file)
from beian.bench import _pct, _questions  # noqa: E402
from beian.kb import load_kb  # noqa: E402
from beian.matcher import Matcher  # noqa: E402


def questions(kb) -> list[str]:
    out = _questions(kb, ROOT / "eval" / "questions.yaml") + _questions(kb, ROOT / "eval" / "holdout.yaml")
    random.Random(3).shuffle(out)
    return out


def measure(matcher: Matcher, qs: list[str], seconds: float, threads: int) -> dict:
    """Every thread asks round the list until `seconds` have passed; returns the counts and latencies."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    answered = [0] * threads
    stop = time.perf_counter() + seconds

    def work(n: int) -> None:
        i = n * 37
        mine = latencies[n]
        while time.perf_counter() < stop:
            q = qs[i % len(qs)]
            t = time.perf_counter()
            answer = matcher.ask(q)
            mine.append(1000 * (time.perf_counter() - t))
            answered[n] += answer.answered
            i += 1

    start = time.perf_counter()
    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - start
    lat = [x for per in latencies for x in per]
    return {"threads": threads, "questions": len(lat), "seconds": wall, "qps": len(lat) / wall,
            "p50_ms": _pct(lat, 0.5), "p95_ms": _pct(lat, 0.95), "answered": sum(answered)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long each run asks (default 5)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to try (default 1 2)")
    args = parser.parse_args(argv)
    t = time.perf_counter()
    kb = load_kb(ROOT)
    matcher = Matcher.build(kb)
    qs = questions(kb)
    print(f"[engine] content: {len(kb.entries)} entries; index built in {time.perf_counter() - t:.2f} s "
          f"(with loading); {len(qs)} labelled questions, asked round and round")
    for q in qs[:50]:
        matcher.ask(q)  # warm-up: lazily filled lookup tables
    for threads in args.threads:
        r = measure(matcher, qs, args.seconds, threads)
        print(f"[engine] {threads} thread{'s' if threads > 1 else ''}: {r['questions']} questions in "
              f"{r['seconds']:.1f} s = {r['qps']:.0f} questions/s (per question p50 {r['p50_ms']:.2f} ms, "
              f"p95 {r['p95_ms']:.2f} ms; {100 * r['answered'] / max(r['questions'], 1):.0f}% answered)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
