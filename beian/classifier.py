"""A learned entry classifier: which entry does a question's wording belong to?

The matcher's lexical scores compare a question with each phrasing on its own terms; they cannot
learn that 假的 points to note-authenticity or 17岁 to faq-individual-limits. This is a linear
(multinomial logistic) model over the question's units and unit bigrams — the matcher's own
normalised units, so synonyms and homophone typos are already folded — fitted offline by
`benchmarks/fit_classifier.py` on the KB's phrasings, the labelled development questions
(benchmarks/dev_questions.yaml) and the out-of-scope examples (one class of their own), and
stored in `knowledge/classifier.npz`. The matcher blends its probabilities into the ranking and
the gate reads the best entry's probability (docs/MATCHING.md §3 has the measurements).

    clf = EntryClassifier.load(path)        # None when the file is absent or unreadable
    clf.probabilities(normalizer.unit_names(units))   # {class: p}: entry ids and OUT_OF_SCOPE, summing to 1
"""
from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .kb import MODEL_FILES

CLASSIFIER_PATH = "knowledge/classifier.npz"  # written by benchmarks/fit_classifier.py --write
OUT_OF_SCOPE = "__out_of_scope__"  # the class of the out-of-scope examples
FORMAT = 2  # bump when the features change: an older file then no longer loads

log = logging.getLogger(__name__)
if CLASSIFIER_PATH not in MODEL_FILES:
    MODEL_FILES.append(CLASSIFIER_PATH)


def grams(names: Sequence[str]) -> Counter:
    """The features of a question: each unit and each pair of adjacent units, by the units'
    stable names (Normalizer.unit_names: bei, ~icp …; a pair is "bei an")."""
    out = Counter(names)
    out.update(f"{a} {b}" for a, b in zip(names, names[1:]))
    return out


def fingerprint(rows: Iterable[tuple[Sequence[str], str]]) -> str:
    """What a model was fitted on — (unit names, class) rows — so that a test can tell a stale
    file (content, synonyms or development questions changed since) from a current one."""
    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    for names, label in rows:
        h.update(f"{label}\t{' '.join(names)}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


@dataclass(frozen=True)
class Vocabulary:
    """Feature strings and their idf (smoothed: log((1 + n) / (1 + df)) + 1)."""

    index: dict[str, int]
    idf: np.ndarray

    @classmethod
    def fit(cls, texts: Sequence[Sequence[str]], min_df: int = 2) -> Vocabulary:
        df = Counter()
        for names in texts:
            df.update(grams(names).keys())
        kept = sorted(g for g, n in df.items() if n >= min_df)
        idf = np.array([math.log((1 + len(texts)) / (1 + df[g])) + 1.0 for g in kept], dtype=np.float64)
        return cls({g: i for i, g in enumerate(kept)}, idf)

    def vector(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Feature ids and values of one question's unit names: (1 + log tf) × idf, L2-normalised."""
        ids, vals = [], []
        for g, tf in grams(names).items():
            i = self.index.get(g)
            if i is not None:
                ids.append(i)
                vals.append((1.0 + math.log(tf)) * self.idf[i])
        v = np.asarray(vals, dtype=np.float64)
        norm = math.sqrt(float(v @ v)) if v.size else 0.0
        return np.asarray(ids, dtype=np.int64), (v / norm if norm else v)


@dataclass(frozen=True)
class EntryClassifier:
    vocabulary: Vocabulary
    classes: tuple[str, ...]
    weights: np.ndarray  # (features, classes)
    bias: np.ndarray  # (classes,)
    trained_on: str  # fingerprint() of the training rows

    def probabilities(self, names: Sequence[str]) -> dict[str, float]:
        ids, vals = self.vocabulary.vector(names)
        z = self.bias + (vals @ self.weights[ids] if ids.size else 0.0)
        p = np.exp(z - z.max())
        p /= p.sum()
        return dict(zip(self.classes, p.tolist()))

    def save(self, path: Path) -> None:
        feats = sorted(self.vocabulary.index, key=self.vocabulary.index.get)
        np.savez_compressed(
            path, format=np.array(FORMAT), features=np.array(feats), idf=self.vocabulary.idf.astype(np.float32),
            classes=np.array(self.classes), weights=self.weights.astype(np.float16), bias=self.bias.astype(np.float32),
            trained_on=np.array(self.trained_on))

    @classmethod
    def load(cls, path: Path) -> EntryClassifier | None:
        """The stored model, or None (logged) when the file is absent, unreadable or of another
        format: the matcher then ranks on its lexical scores alone."""
        if not Path(path).exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as f:  # no pickles: a model file cannot run code
                if int(f["format"]) != FORMAT:
                    raise ValueError(f"format {int(f['format'])}, expected {FORMAT}")
                feats, idf = [str(x) for x in f["features"]], f["idf"].astype(np.float64)
                classes = tuple(str(x) for x in f["classes"])
                weights, bias = f["weights"].astype(np.float64), f["bias"].astype(np.float64)
                trained_on = str(f["trained_on"])
            if weights.shape != (len(feats), len(classes)) or bias.shape != (len(classes),) or idf.shape != (len(feats),):
                raise ValueError("arrays of mismatched shapes")
            if not (np.isfinite(weights).all() and np.isfinite(bias).all() and np.isfinite(idf).all()):
                raise ValueError("non-finite weights")
        except Exception as exc:  # noqa: BLE001 - any damage to the file means: rank without it
            log.warning("%s is unreadable (%s); answering without the learned classifier — "
                        "re-run benchmarks/fit_classifier.py --write", path, exc)
            return None
        return cls(Vocabulary({g: i for i, g in enumerate(feats)}, idf), classes, weights, bias, trained_on)
