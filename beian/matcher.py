"""The answer engine: an index built once from the validated KB; `ask(question) -> Answer`.

    from beian.matcher import Matcher
    m = Matcher.build(kb)
    m.ask("二级域名要单独备案吗") -> Answer(answered=True, id="faq-subdomain-separate-filing", …)

How a question is matched (docs/MATCHING.md has the measurements behind each choice):

1. Tokenise (beian/text.py): every phrasing of every entry, and the question, become *unit
   strings*: one unit per toneless pinyin syllable (fuzzy: zh=z, -ng=-n) or per stemmed Latin
   word, synonyms rewritten to their canonical word, fillers dropped, question frames (什么, 怎么)
   made single low-weight units. Homophone typos (被案 → 备案) disappear here.
2. Candidates: an inverted index unit → entries (built without sorting: presence tables per
   block of entries and a counting sort; ~0.3 s of CPU at 1000× the content) scores entries
   by the idf-weighted units they share with the question; the best `prefilter_entries` go
   on. At 1× that is every entry.
3. Re-rank every phrasing of the candidates, measures all 0..1 (idf weights over entries; a
   bigram weighs the mean of its units, a bigram never seen in the content weighs like an
   unknown unit):
   - q_cover: share of the question's units and bigrams found in the phrasing;
   - p_cover: share of the phrasing found in the question;
   - e_cover: share of the question found anywhere in the entry's phrasings together;
   - ratio / partial: rapidfuzz `fuzz.ratio` / `fuzz.partial_ratio` on the unit strings — edit
     distances counted in syllables and words (Chinese has no spaces for token scorers).
   Phrasing score = weighted sum, or, if higher, 1 − exp(−matched bigram mass / mass_scale):
   a long question covers little of itself but matches much of the right entry. That lexical
   score is blended with the learned classifier's probability of the entry (beian/classifier.py:
   a logistic model over the units, fitted offline on phrasings and labelled development
   questions) as (lexical + learned_weight × p) ÷ (1 + learned_weight). An entry scores its best
   phrasing's score, 0..100.
4. Decide: nothing left after normalisation → "empty"; only vague words (备案, 阿里云 …) →
   "too_vague"; best score under `score_floor`, or the fitted gate (beian/gate.py: a logistic
   model over the best match's measures, the classifier's probabilities among them) giving it
   less than `gate_threshold` → "low_score";
   best two entries within `ambiguity_margin` → "ambiguous" (the UI offers 您是不是想问…);
   otherwise answered (`MatchSettings.decline_reason` is that rule, in one place).
   Declined answers still carry the best suggestions (score ≥ `suggestion_floor`).
"""
from __future__ import annotations

import copy
import itertools
import math
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from .answer import Answer, CorrectionNote, Suggestion
from .classifier import CLASSIFIER_PATH, OUT_OF_SCOPE, EntryClassifier
from .gate import Gate, measure_values
from .kb import OUT_OF_SCOPE_FILE, KnowledgeBase
from .models import Entry
from .text import GATHER_STEP, MAX_QUESTION_CHARS, WORD_UNIT_BASE, Normalizer, cut, gather

_NL = 10
_NCODES = 0x110000
_EAGER_DECODE_UNITS = 2_000_000
_CHUNK_UNITS = 1 << 20  # positions per pass when indexing
_PRESENCE_CELLS = 1 << 23  # cells of the (entries block × units) presence table reused per block
_INDEX_THREADS = 2  # threads building the postings and bigram bitmap (the two cores here)


@dataclass(frozen=True)
class MatchSettings:
    """The matcher's thresholds and weights; the values (and why) live in knowledge/matching.yaml."""

    gate_threshold: float = 0.5
    score_floor: float = 52.0  # with no fitted gate (knowledge/gate.yaml absent) the only gate
    ambiguity_margin: float = 2.0
    suggestion_floor: float = 25.0
    max_question_chars: int = MAX_QUESTION_CHARS
    prefilter_entries: int = 60
    weight_q_cover: float = 0.175
    weight_p_cover: float = 0.22
    weight_e_cover: float = 0.26
    weight_ratio: float = 0.215
    weight_partial: float = 0.13
    mass_scale: float = 8.0
    unigram_share_q: float = 0.0
    unigram_share_p: float = 0.5
    unigram_share_e: float = 0.25
    unknown_unit_weight: float = 1.0
    frame_weight: float = 0.3
    novel_bigram_weight: float = 1.0
    learned_weight: float = 0.0  # weight of the learned classifier's probability against the lexical score (0..1 each)
    vague_terms: tuple[str, ...] = ()
    vague_starting_points: tuple[str, ...] = ()  # entry ids offered first to a too-vague question
    frame_words: tuple[str, ...] = ()

    def decline_reason(self, best: float, lead: float, probability: float | None = None, example: float = 0.0) -> str:
        """The one decision on a ranked question: "" to answer, else "low_score", "out_of_scope"
        or "ambiguous".

        `best` is the best entry's score, `lead` its lead over the runner-up, `probability` the
        fitted gate's estimate that the best entry is right (None without a gate), `example` the
        question's overlap with its closest out-of-scope example (0..100). The best entry is
        answered when it scores at least `score_floor` and the gate gives it at least
        `gate_threshold`, unless the runner-up is within `ambiguity_margin`. A question declined
        for its score that is more like an out-of-scope example than like any entry is
        "out_of_scope": the user can be told it is not a filing question at all."""
        if best < self.score_floor or (probability is not None and probability < self.gate_threshold):
            return "out_of_scope" if example > best else "low_score"
        if lead < self.ambiguity_margin:
            return "ambiguous"
        return ""

    @classmethod
    def from_kb(cls, kb: KnowledgeBase) -> MatchSettings:
        values: dict = {}
        for item in kb.sections.get("matching", ()):
            value = item.value
            values[item.name] = tuple(value) if isinstance(value, (list, tuple)) else value
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in values.items() if k in known}
        if "max_question_chars" in values:
            values["max_question_chars"] = int(values["max_question_chars"])
        if "prefilter_entries" in values:
            values["prefilter_entries"] = int(values["prefilter_entries"])
        return cls(**values)


@dataclass(frozen=True)
class Ranked:
    """One entry's score for a question, with the phrasing that scored best."""

    index: int  # position in Matcher.entries
    score: float
    phrasing: str
    evidence: Mapping[str, float] | None = None  # the measures behind the score (best entry only)


@dataclass(frozen=True)
class _Example:
    """An out-of-scope example as the example index reads it (the index needs only these)."""

    id: str
    phrasings: tuple[str, ...]


@dataclass
class _Query:
    text: str
    units: str
    cut: bool
    vague: bool


class Matcher:
    """Immutable after build; `ask` is thread-safe (the normaliser's lazily filled tables are locked)."""

    def __init__(self, kb: KnowledgeBase, entries: Sequence[Entry], settings: MatchSettings,
                 normalizer: Normalizer, units: np.ndarray | Sequence[np.ndarray], row_entry: np.ndarray, row_text: list[str],
                 build_seconds: float = 0.0, present: np.ndarray | None = None):
        self.kb = kb
        self.gate = Gate.from_kb(kb)
        self.entries = tuple(entries)
        self.settings = settings
        self.normalizer = normalizer
        self.build_seconds = build_seconds
        self._by_id = {e.id: i for i, e in enumerate(self.entries)}
        self._row_text = row_text
        self._examples: Matcher | None = None  # the out-of-scope examples' own index (set by build)
        self.learned: EntryClassifier | None = None  # the learned classifier (set by build; see with_classifier)
        self._prepare(units, row_entry, present)
        self._vague = self._vague_units(settings.vague_terms)

    @property
    def row_entry_ids(self) -> tuple[str, ...]:
        """Entry id of every phrasing row (for evaluation); computed on first use."""
        ids = self.__dict__.get("_row_entry_ids")
        if ids is None:
            ids = tuple(self.entries[i].id for i in self._row_entry.tolist())
            self.__dict__["_row_entry_ids"] = ids
        return ids

    # ------------------------------------------------------------------------------- build
    @classmethod
    def build(cls, kb: KnowledgeBase, settings: MatchSettings | None = None,
              entries: Sequence[Entry] | None = None) -> Matcher:
        """Index every phrasing of every entry (or of `entries`, for benchmarks)."""
        import gc
        import time

        start = time.perf_counter()
        gc_was_enabled = gc.isenabled()
        gc.disable()  # bulk numpy work: a collection over the caller's objects would only cost time
        try:
            return cls._build(kb, settings, entries, start)
        finally:
            if gc_was_enabled:
                gc.enable()

    @classmethod
    def _build(cls, kb: KnowledgeBase, settings: MatchSettings | None, entries: Sequence[Entry] | None,
               start: float) -> Matcher:
        import time

        settings = settings or MatchSettings.from_kb(kb)
        entries = tuple(kb.entries if entries is None else entries)
        normalizer = Normalizer([(g.canonical, g.variants) for g in kb.synonyms], frames=settings.frame_words)
        per_entry = [e.phrasings for e in entries]
        texts = list(itertools.chain.from_iterable(per_entry))  # ~4× faster than a nested comprehension
        row_entry = np.repeat(np.arange(len(entries), dtype=np.int64), [len(p) for p in per_entry])
        present = _Presence()
        chunks = normalizer.units_chunks(texts, each=present.mark)  # joined by _prepare, on two threads
        matcher = cls(kb, entries, settings, normalizer, chunks, row_entry, texts, present=present.union())
        matcher._examples = matcher._example_index()
        matcher.learned = EntryClassifier.load(Path(kb.root) / CLASSIFIER_PATH)
        matcher.build_seconds = time.perf_counter() - start
        return matcher

    def with_classifier(self, learned: EntryClassifier | None) -> Matcher:
        """This index with another classifier (or none): benchmarks/fit_gate.py measures each
        development question with a model that was not fitted on it."""
        other = copy.copy(self)
        other.learned = learned
        return other

    def _example_index(self) -> Matcher | None:
        """The out-of-scope examples (knowledge/out_of_scope.yaml) indexed like entries of their own,
        one example each, so a question's closeness to them is measured the way entries' is —
        but with the content's unit weights: among the examples 备案 is rare and would weigh
        much, while what makes an example off topic (小程序, 商标) is what the content lacks."""
        texts = [x.q for x in self.kb.sections.get(OUT_OF_SCOPE_FILE.key, ())]
        if not texts:
            return None
        examples = [_Example(f"example-{i}", (t,)) for i, t in enumerate(texts)]
        index = type(self)(self.kb, examples, self.settings, self.normalizer, self.normalizer.units_array(texts),
                           np.arange(len(examples), dtype=np.int64), texts)
        where, known = self._unit_ids(index._vocab)
        index._idf = np.where(known, self._idf[where] if self._vocab.size else 0.0, self._unknown_w)
        index._unknown_w = self._unknown_w
        return index

    def _prepare(self, units: np.ndarray | Sequence[np.ndarray], row_entry: np.ndarray,
                 present: np.ndarray | None = None) -> None:
        """All index structures, in O(n) numpy passes and no sort: 1000× the content in ~0.8 s of
        CPU (postings and bigram bitmap split over two threads). `units`: all phrasings' units
        joined by "\n", or the pieces of `Normalizer.units_chunks`. `present`: which unit codes
        occur, if the caller already knows (a build marks them while tokenising)."""
        n_entries = len(self.entries)
        chunks = [units] if isinstance(units, np.ndarray) else list(units)
        # Compact unit ids through a lookup table (no sort): a few thousand distinct units.
        if present is None:  # (a build marks them while tokenising: see _Presence)
            present = np.zeros(_NCODES, dtype=bool)
            for chunk in chunks:
                present[chunk] = True
        present[_NL] = False
        vocab = np.flatnonzero(present).astype(np.uint32)
        self._vocab = vocab
        lut = np.full(_NCODES, -1, dtype=np.int32)
        lut[vocab] = np.arange(vocab.size, dtype=np.int32)
        v = max(vocab.size, 1)
        self._pair_v = vocab.size
        self._row_entry = row_entry
        # Entry → its rows (rows are contiguous per entry).
        self._entry_row_start = np.searchsorted(row_entry, np.arange(n_entries), side="left")
        self._entry_row_end = np.searchsorted(row_entry, np.arange(n_entries), side="right")
        # Every pass over all positions is split in halves run on two threads: numpy releases the
        # GIL in its bulk passes, and no half reads what another writes (each marks its own
        # bitmap and presence table).
        workers = min(os.cpu_count() or 1, _INDEX_THREADS)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="beian-index") as pool:
            # all units in one array, the unit id at every position (-1 at row separators)
            units, self._pos_uid, cuts = _join_and_look_up(chunks, lut, pool)
            self._units = units
            n = units.size
            self._row_start = np.concatenate(([0], cuts + 1)).astype(np.int64)
            self._row_end = np.concatenate((cuts, [n])).astype(np.int64)
            # What is left — which unit bigrams occur (a bitmap) and the postings — in halves too.
            mid = n_entries // 2
            halves = [pool.submit(_block_pairs, self._pos_uid, self._row_start, self._row_end, row_entry,
                                  self._entry_row_start, self._entry_row_end, e0, e1, v)
                      for e0, e1 in ((0, mid), (mid, n_entries))] if v <= 0xFFFF else []
            bitmaps = [pool.submit(self._seen_pair_bitmap, a, b) for a, b in ((0, n // 2), (n // 2, n))]
            # Unit strings of the rows, for rapidfuzz: decoded up front for a normal-sized KB, per
            # question for the candidate rows of a huge one (saves time and memory at build).
            self._rows_units = _decode(units).split("\n") if n < _EAGER_DECODE_UNITS else None
            if halves:
                self._post_entry, df = _merge_block_pairs([blk for h in halves for blk in h.result()], vocab.size)
            self._seen_pairs = np.logical_or(*(m.result() for m in bitmaps))
        if not halves:  # over 65 535 distinct units: one stable sort of all positions by unit id instead
            uid = self._pos_uid[self._pos_uid >= 0]
            entry_of = np.repeat(row_entry.astype(np.int32), self._row_end - self._row_start)
            order = np.argsort(uid.astype(np.uint16) if vocab.size <= 0xFFFF else uid, kind="stable")
            entry_s = entry_of[order]
            counts = np.bincount(uid, minlength=vocab.size)
            starts = np.cumsum(counts) - counts
            new = np.ones(order.size, dtype=bool)
            new[1:] = entry_s[1:] != entry_s[:-1]
            new[starts[counts > 0]] = True  # first position of every unit
            df = np.zeros(vocab.size, dtype=np.int64)
            df[counts > 0] = np.add.reduceat(new, starts[counts > 0], dtype=np.int64)
            self._post_entry = entry_s[new]
        self._post_ptr = np.concatenate(([0], np.cumsum(df))).astype(np.int64)
        # idf over entries: a unit in every entry weighs ~0, a unit in one entry the most.
        idf = np.maximum(np.log((n_entries + 1) / (df + 0.5)), 0.0)
        frames = np.isin(vocab, np.fromiter(self.normalizer.frame_codes, dtype=np.uint32, count=len(self.normalizer.frame_codes)))
        idf[frames] *= self.settings.frame_weight  # question frames (什么, 怎么 …) weigh little
        self._idf = idf
        self._unknown_w = float(self.settings.unknown_unit_weight * (math.log((n_entries + 1) / 0.5) if n_entries else 1.0))
        self._lock = threading.Lock()

    def _seen_pair_bitmap(self, a: int, b: int) -> np.ndarray:
        """Which unit bigrams start at positions a..b-1: a bitmap over `_pair_slot`, marked in
        cache-sized chunks (big temporaries cost page faults). A question bigram never seen
        (重启, 商标 …) is a new term and weighs like an unknown unit."""
        v = max(self._pair_v, 1)
        seen = np.zeros(v * v if self._pair_v <= _PAIR_DIRECT else _PAIR_BITS, dtype=bool)
        for lo in range(a, b, _CHUNK_UNITS):
            p = self._pos_uid[lo:min(b, lo + _CHUNK_UNITS) + 1]  # one unit of overlap: the edge bigram
            both = (p[:-1] >= 0) & (p[1:] >= 0)  # adjacent within a row (separators are -1)
            seen[self._pair_slot(p[:-1], p[1:])[both]] = True
        return seen

    def _pair_slot(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Bitmap slot of unit-id bigrams: exact (a·V + b) when V is small, else hashed."""
        v = self._pair_v
        if v <= _PAIR_DIRECT:
            return a.astype(np.int32, copy=False) * np.int32(v) + b.astype(np.int32, copy=False)
        with np.errstate(over="ignore"):
            return ((a.astype(np.int64) * v + b) * 0x9E3779B1) & (_PAIR_BITS - 1)

    def _vague_units(self, terms: Sequence[str]) -> list[str]:
        out = {self.normalizer.units(t) for t in terms}
        return sorted((u for u in out if u), key=len, reverse=True)

    # -------------------------------------------------------------------------------- query
    def _query(self, question: str) -> _Query:
        question = (question or "").encode("utf-8", "replace").decode("utf-8")  # lone surrogates → ?
        text, was_cut = cut(question, self.settings.max_question_chars)
        units = self.normalizer.units(text) if text else ""
        rest = units
        for v in self._vague:
            rest = rest.replace(v, "")
        return _Query(text=text, units=units, cut=was_cut, vague=bool(units) and not rest)

    def rank(self, question: str, limit: int | None = None, *, exclude_rows: Sequence[int] = ()) -> list[Ranked]:
        """Entries by descending score (only those the question shares anything with)."""
        return self._rank_units(self._query(question).units, limit, exclude_rows)

    def _rank_units(self, q: str, limit: int | None, exclude_rows: Sequence[int] = ()) -> list[Ranked]:
        found = self._candidate_rows(q, exclude_rows)
        if found is None:
            return []
        q_uid, q_w, rows = found
        f = self._features(q_uid, q_w, rows)
        if self._rows_units is not None:
            choices = [self._rows_units[r] for r in rows.tolist()]
        else:
            u, rs, re_ = self._units, self._row_start, self._row_end
            choices = [_decode(u[rs[r]:re_[r]]) for r in rows.tolist()]
        s = self.settings
        mix = lambda u, b, share: share * f[u] + (1.0 - share) * f[b]  # noqa: E731 - unigram/bigram blend
        score = (s.weight_q_cover * mix("qu", "qb", s.unigram_share_q) + s.weight_p_cover * mix("pu", "pb", s.unigram_share_p)
                 + s.weight_e_cover * mix("eu", "eb", s.unigram_share_e))
        # A long question covers little of itself with any one phrasing, yet matches a lot of
        # weighted bigrams of the right entry: that matched mass counts as evidence on its own.
        mass = 1.0 - np.exp(-f["meb"] / s.mass_scale)
        row_ent = self._row_entry[rows]
        # The learned classifier's probability of each row's entry, blended in with learned_weight
        # (0 for an entry the model does not know, e.g. one added since it was fitted).
        p_learned, p_oos = self._learned_probabilities(q)
        lw = s.learned_weight if p_learned is not None else 0.0
        row_p = p_learned[row_ent] if p_learned is not None else np.zeros(rows.size)
        blend = lambda x: (x + lw * row_p) / (1.0 + lw)  # noqa: E731 - monotone in x for each row
        # The two rapidfuzz measures (a third of the time) add at most their weights: compute each
        # only for the rows that could then still reach the 4th-best entry's score. The answer,
        # the suggestions, the margin and the gate's measures come out exactly as if computed for
        # all rows; only entries ranked 5th and lower may score a little under their true score.
        ratio = np.zeros(rows.size, dtype=np.float32)
        need = self._reachable(score, mass, row_ent, s.weight_ratio + s.weight_partial, blend)
        if need.size:
            ratio[need] = process.cdist([q], [choices[i] for i in need.tolist()], scorer=fuzz.ratio, dtype=np.float32)[0] / 100.0
        score = score + s.weight_ratio * ratio
        if s.weight_partial:
            need = self._reachable(score, mass, row_ent, s.weight_partial, blend)
            if need.size:
                part = process.cdist([q], [choices[i] for i in need.tolist()], scorer=fuzz.partial_ratio, dtype=np.float32)[0]
                score[need] += s.weight_partial * part / 100.0
        score = 100.0 * blend(np.maximum(score, mass))
        order = np.lexsort((-score, row_ent))
        firsts = np.ones(order.size, dtype=bool)
        firsts[1:] = row_ent[order][1:] != row_ent[order][:-1]
        best = order[firsts]
        ranked = sorted((Ranked(int(row_ent[i]), float(score[i]), self._row_text[int(rows[i])]) for i in best),
                        key=lambda r: (-r.score, r.index))
        if ranked:
            i = int(best[np.flatnonzero(row_ent[best] == ranked[0].index)[0]])
            ranked[0] = Ranked(ranked[0].index, ranked[0].score, ranked[0].phrasing,
                               {k: float(v[i]) for k, v in f.items()} | {"ratio": float(ratio[i])}
                               | ({"learned": float(row_p[i]), "learned_oos": p_oos} if p_learned is not None else {}))
        return ranked[:limit] if limit else ranked

    def _candidate_rows(self, q: str, exclude_rows: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The question's unit ids and weights, and the phrasing rows of its candidate entries
        (None when no entry shares a unit with it)."""
        if not q:
            return None
        qcodes = np.frombuffer(q.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        where, known = self._unit_ids(qcodes)
        q_uid = np.where(known, where, -1 - qcodes.astype(np.int64))  # unknown units: distinct negative ids
        q_w = np.where(known, self._idf[np.maximum(where, 0)] if self._vocab.size else 0.0, self._unknown_w)

        # --- candidates: entries sharing idf-weighted units with the question
        uniq_uid, first = np.unique(q_uid, return_index=True)
        good = uniq_uid >= 0
        uniq_uid, uniq_w = uniq_uid[good], q_w[first][good]
        if uniq_uid.size == 0:
            return None
        starts, ends = self._post_ptr[uniq_uid], self._post_ptr[uniq_uid + 1]
        lens = ends - starts
        idx = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
        ent = self._post_entry[idx]
        pre = np.bincount(ent, weights=np.repeat(uniq_w, lens), minlength=len(self.entries))
        k = min(self.settings.prefilter_entries, int((pre > 0).sum()))
        if k == 0:
            return None
        if k < pre.size:
            # the best k, and every entry tied with the k-th: when a question's units are all
            # common (What is the main domain?), many entries tie and a cut among them is arbitrary
            kth = -np.partition(-pre, k - 1)[k - 1]
            cand = np.flatnonzero(pre >= kth - 1e-9 * max(kth, 1.0))
            if cand.size > _MAX_TIED_CANDIDATES * k:  # bounded work on a huge KB of near-copies
                cand = np.argpartition(-pre, _MAX_TIED_CANDIDATES * k - 1)[:_MAX_TIED_CANDIDATES * k]
        else:
            cand = np.flatnonzero(pre > 0)

        # --- rows of the candidate entries
        rs, re_ = self._entry_row_start[cand], self._entry_row_end[cand]
        nr = re_ - rs
        rows = np.repeat(rs - np.cumsum(nr) + nr, nr) + np.arange(int(nr.sum()))
        if len(exclude_rows):
            rows = rows[~np.isin(rows, np.asarray(exclude_rows))]
        if rows.size == 0:
            return None
        return q_uid, q_w, rows

    def _unit_ids(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each unit code's id in this index's vocabulary, and whether it is in it at all."""
        where = np.minimum(np.searchsorted(self._vocab, codes), max(self._vocab.size - 1, 0))
        known = (self._vocab[where] == codes) if self._vocab.size else np.zeros(codes.size, bool)
        return where, known

    def _learned_probabilities(self, units: str) -> tuple[np.ndarray | None, float]:
        """The classifier's probability of every entry (0 for those it does not know) and of
        OUT_OF_SCOPE; (None, 0) without a classifier."""
        if self.learned is None or not units:
            return None, 0.0
        p = np.zeros(len(self.entries))
        probs = self.learned.probabilities(self.normalizer.unit_names(units))
        for cls, value in probs.items():
            i = self._by_id.get(cls)
            if i is not None:
                p[i] = value
        return p, probs.get(OUT_OF_SCOPE, 0.0)

    def _reachable(self, score: np.ndarray, mass: np.ndarray, row_ent: np.ndarray, headroom: float,
                   blend=lambda x: x) -> np.ndarray:
        """Rows whose score, raised by at most `headroom`, could reach the 4th-best entry's
        (`blend`: the final score of a row's lexical score, monotone)."""
        low = blend(np.maximum(score, mass))
        entry_low = np.full(len(self.entries), -1.0)
        np.maximum.at(entry_low, row_ent, low)
        top = np.sort(entry_low[np.unique(row_ent)])[::-1]
        bar = top[min(3, top.size - 1)]
        return np.flatnonzero(blend(np.maximum(score + headroom, mass)) >= bar)

    def _features(self, q_uid: np.ndarray, q_w: np.ndarray, rows: np.ndarray) -> Mapping[str, np.ndarray]:
        """Coverage measures for each candidate row, vectorised over the rows' unit positions.

        For unigrams (u) and adjacent-unit bigrams (b), with idf weights (a bigram weighs the mean
        of its two units): q* = share of the question's weight found in the row (distinct
        features), p* = share of the row's weight found in the question, e* = share of the
        question's weight found anywhere in the row's entry (among the candidate rows)."""
        n_rows = rows.size
        rs, re_ = self._row_start[rows], self._row_end[rows]
        lens = re_ - rs
        local_row = np.repeat(np.arange(n_rows), lens)
        pos = np.repeat(rs - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
        puid = self._pos_uid[pos].astype(np.int64)
        w_pos = self._idf[puid]
        row_wu = np.bincount(local_row, weights=w_pos, minlength=n_rows)
        row_first = np.concatenate(([0], np.cumsum(lens)[:-1]))
        nonempty = lens > 0
        ends_w = np.zeros(n_rows)
        ends_w[nonempty] = (w_pos[row_first[nonempty]] + w_pos[row_first[nonempty] + lens[nonempty] - 1]) / 2
        row_wb = np.where(lens > 1, row_wu - ends_w, 0.0)  # a bigram weighs the mean of its units
        ent_local = np.unique(self._row_entry[rows], return_inverse=True)[1]
        n_ents = int(ent_local.max()) + 1 if ent_local.size else 0

        # Query features: distinct unigrams / bigrams; unknown ones (negative ids) only add weight.
        uni_ids, first = np.unique(q_uid, return_index=True)
        uni_w = q_w[first]
        wq_u = float(uni_w.sum())
        out = {}
        iq, ip, ie, _ = _cover(puid, w_pos, local_row, ent_local, uni_ids[uni_ids >= 0],
                               uni_w[uni_ids >= 0], n_rows, n_ents)
        out["qu"], out["pu"], out["eu"] = iq / max(wq_u, 1e-9), ip / np.maximum(row_wu, 1e-9), ie / max(wq_u, 1e-9)
        mass = {"mu": iq, "meu": ie}
        if q_uid.size > 1 and pos.size > 1:
            bkeys = q_uid[:-1] * (1 << 32) + q_uid[1:]
            big_ids, bfirst = np.unique(bkeys, return_index=True)
            ok = (q_uid[:-1][bfirst] >= 0) & (q_uid[1:][bfirst] >= 0)
            big_w = ((q_w[:-1] + q_w[1:]) / 2)[bfirst]
            seen = ok.copy()
            seen[ok] = self._seen_pairs[self._pair_slot(q_uid[:-1][bfirst][ok], q_uid[1:][bfirst][ok])]
            # A new pair of syllables is a new term (重启, 商标); a pair with an English word in it
            # is not, however seldom its units meet ("review usually", or "icp 审核" once review
            # became 审核): an English word is a whole term already.
            word = self._vocab[np.maximum(q_uid, 0)] >= WORD_UNIT_BASE if self._vocab.size else np.zeros(q_uid.size, bool)
            seen |= ok & (word[:-1][bfirst] | word[1:][bfirst])
            big_w = np.where(seen, big_w, np.maximum(big_w, self._unknown_w * self.settings.novel_bigram_weight))
            wq_b = float(big_w.sum())
            bpos = np.flatnonzero(local_row[1:] == local_row[:-1])
            pk = puid[bpos] * (1 << 32) + puid[bpos + 1]
            pw = (self._idf[puid[bpos]] + self._idf[puid[bpos + 1]]) / 2
            kid, kw = big_ids[ok], big_w[ok]
            iq, ip, ie, epairs = _cover(pk, pw, local_row[bpos], ent_local, kid, kw, n_rows, n_ents)
            out["qb"], out["pb"], out["eb"] = iq / max(wq_b, 1e-9), ip / np.maximum(row_wb, 1e-9), ie / max(wq_b, 1e-9)
            mass.update(mb=iq, meb=ie)
            # The heaviest question bigram the entry lacks, relative to the heaviest one.
            have = np.zeros((n_ents, kid.size), dtype=bool)
            if kid.size:
                have[epairs // kid.size, epairs % kid.size] = True
            miss_known = np.where(have, 0.0, kw[None, :]).max(axis=1) if kid.size else np.zeros(n_ents)
            miss_new = float(big_w[~ok].max()) if (~ok).any() else 0.0
            mass["kmiss"] = (np.maximum(miss_known, miss_new) / max(float(big_w.max()), 1e-9))[ent_local]
        else:  # one unit: bigram measures fall back to the unigram ones
            out["qb"], out["pb"], out["eb"] = out["qu"], out["pu"], out["eu"]
            mass.update(mb=mass["mu"], meb=mass["meu"], kmiss=np.zeros(n_rows))
        for k in out:
            out[k] = np.minimum(out[k], 1.0)
        out.update(mass)  # matched idf mass, not normalised (a long question is not penalised)
        return out

    # ---------------------------------------------------------------------------------- ask
    def ask(self, question: str) -> Answer:
        """The Answer for one question: answered, or declined with a reason and suggestions."""
        return self._ask(question)

    def measures(self, question: str, exclude_rows: Sequence[int] = (), exclude_examples: Sequence[int] = ()
                 ) -> tuple[list[Ranked], dict[str, float] | None]:
        """The ranking and the gate's measures of its best entry (None when nothing ranks, or
        the question is empty or vague) — what `ask` decides on; for fitting the gate.
        `exclude_rows` / `exclude_examples` leave out phrasings / out-of-scope examples
        (development data asks each of them with itself left out)."""
        q, ranked = self._query_and_rank(question, exclude_rows)
        if not ranked or q.vague:
            return ranked, None
        return ranked, self._measures(q, ranked, self.example_overlap(q.units, exclude_examples))

    def _query_and_rank(self, question: str, exclude_rows: Sequence[int]) -> tuple[_Query, list[Ranked]]:
        q = self._query(question if isinstance(question, str) else str(question or ""))
        return q, (self._rank_units(q.units, None, exclude_rows) if q.units else [])

    def _measures(self, q: _Query, ranked: Sequence[Ranked], example: float) -> dict[str, float]:
        """The gate's measures of the best entry; `example` is the question's overlap with its
        closest out-of-scope example (`example_overlap`)."""
        raw = dict(ranked[0].evidence or {})
        raw.update(score=ranked[0].score, lead=lead(ranked), units=len(q.units), example=example)
        return measure_values(raw)

    def example_overlap(self, units: str, exclude_examples: Sequence[int] = ()) -> float:
        """How much the question and its closest out-of-scope example have of each other, 0..100:
        the smaller of the two bigram shares (question in example, example in question), so that
        "小程序备案审核要多久" (an example) does not claim "备案审核要多久", which lacks its 小程序.
        0 without examples."""
        found = self._examples._candidate_rows(units, exclude_examples) if self._examples is not None else None
        if found is None:
            return 0.0
        f = self._examples._features(*found)  # both ways, so an example a question is part of does not claim it
        return 100.0 * float(np.minimum(f["qb"], f["pb"]).max())

    def _ask(self, question: str, exclude_rows: Sequence[int] = (), exclude_examples: Sequence[int] = ()) -> Answer:
        s = self.settings
        q, ranked = self._query_and_rank(question, exclude_rows)
        notice = f"问题过长，已截取前 {s.max_question_chars} 个字符。" if q.cut else ""
        top = ranked[0] if ranked else None
        if not q.units:
            return self._decline(q, notice, "empty", ranked)
        if q.vague:
            return self._decline(q, notice, "too_vague", ranked)
        if top is None:
            return self._decline(q, notice, "low_score", ranked)
        example = self.example_overlap(q.units, exclude_examples)
        probability = self.gate.probability(self._measures(q, ranked, example)) if self.gate else None
        reason = s.decline_reason(top.score, lead(ranked), probability, example)
        if reason:
            return self._decline(q, notice, reason, ranked)
        entry = self.entries[top.index]
        return Answer(
            answered=True, id=entry.id, kind=entry.kind, title=entry.title, answer=entry.answer,
            score=_score(top.score), source=entry.source,
            suggestions=self._suggestions(ranked[1:]),
            question=q.text, reason="", notice=notice, confidence=entry.confidence,
            corrections=self._corrections(entry.id), related=self._related(entry, ranked),
        )

    def _decline(self, q: _Query, notice: str, reason: str, ranked: list[Ranked]) -> Answer:
        suggestions = self._suggestions(ranked)
        if reason == "too_vague":  # "备案" alone: offer where to start before what it happens to match
            start = self._suggestions_for(self.settings.vague_starting_points, ranked)
            suggestions = tuple(start + [s for s in suggestions if s.id not in {x.id for x in start}])[:3]
        return Answer(answered=False, id=None, kind=None, title=None, answer=None,
                      score=_score(ranked[0].score) if ranked else 0.0, source=None,
                      suggestions=suggestions, question=q.text, reason=reason, notice=notice)

    def _suggestions(self, ranked: Sequence[Ranked], n: int = 3) -> tuple[Suggestion, ...]:
        out = [r for r in ranked if r.score >= self.settings.suggestion_floor][:n]
        return tuple(Suggestion(self.entries[r.index].id, self.entries[r.index].title, _score(r.score)) for r in out)

    def _related(self, entry: Entry, ranked: Sequence[Ranked]) -> tuple[Suggestion, ...]:
        return tuple(self._suggestions_for(entry.related, ranked))

    def _suggestions_for(self, ids: Sequence[str], ranked: Sequence[Ranked]) -> list[Suggestion]:
        """These entries as suggestions (unknown ids skipped), each with its score for the question."""
        scores = {self.entries[r.index].id: r.score for r in ranked}
        return [Suggestion(i, self.entries[self._by_id[i]].title, _score(scores.get(i, 0.0))) for i in ids if i in self._by_id]

    def _corrections(self, entry_id: str) -> tuple[CorrectionNote, ...]:
        return tuple(
            CorrectionNote(id=c.id, guide_says=c.guide_says, correction=c.correction, sources=tuple(c.sources),
                           confidence=c.confidence, checked=c.checked.isoformat())
            for c in self.kb.corrections_for(entry_id)
        )


_MAX_TIED_CANDIDATES = 3  # ties at the prefilter's cut admit at most this many × prefilter_entries
_PAIR_DIRECT = 4096  # up to this many distinct units, a bigram has its own slot (16 MB bitmap)
_PAIR_BITS = 1 << 24  # beyond that, bigrams are hashed into this many slots


class _Presence:
    """Which unit codes occur in the content, marked chunk by chunk on the tokenising threads
    (one table per thread: no shared writes), so that _prepare need not scan all units again
    (0.12 s at 1000× the content, now spread over both cores)."""

    def __init__(self):
        self._local = threading.local()
        self._tables: list[np.ndarray] = []
        self._lock = threading.Lock()

    def mark(self, units: np.ndarray) -> None:
        table = getattr(self._local, "table", None)
        if table is None:
            table = self._local.table = np.zeros(_NCODES, dtype=bool)
            with self._lock:
                self._tables.append(table)
        table[units] = True

    def union(self) -> np.ndarray:
        out = np.zeros(_NCODES, dtype=bool)
        for table in self._tables:
            out |= table
        return out


def _join_and_look_up(chunks: Sequence[np.ndarray], lut: np.ndarray, pool: ThreadPoolExecutor
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chunks of units joined by "\n" into one array, the compact unit id (`lut`) at every
    position, and the positions of the row separators. Two threads each join and look up half
    the chunks: at 1000× the content, joining on one thread took 0.25–0.3 s (mostly first
    touching 140 MB of fresh memory) and the lookup 0.29 s, before any of the rest could start."""
    sizes = np.array([c.size for c in chunks], dtype=np.int64)
    offsets = np.cumsum(sizes + 1) - (sizes + 1)  # each chunk is followed by a separator …
    n = int(sizes.sum()) + len(chunks) - 1  # … but the last
    one = len(chunks) == 1  # already joined: nothing to copy
    units = np.asarray(chunks[0], dtype=np.uint32) if one else np.empty(max(n, 0), dtype=np.uint32)
    ids = np.empty(units.size, dtype=np.int32)

    def part(first: int, last: int) -> np.ndarray:
        """Chunks first..last-1 and the separators after them; their separators' positions."""
        for k in range(first, last) if not one else ():
            a = int(offsets[k])
            units[a:a + chunks[k].size] = chunks[k]
            if a + chunks[k].size < n:
                units[a + chunks[k].size] = _NL
        lo, hi = (int(offsets[first]), int(offsets[last]) if last < len(chunks) else n) if first < last else (0, 0)
        cuts = []
        # piece by piece (see `gather`; measured: 0.29 s → ~0.05 s on one thread), the
        # separators found in the same piece while it is in cache
        for a in range(lo, hi, GATHER_STEP):
            b = min(hi, a + GATHER_STEP)
            gather(lut, units[a:b], out=ids[a:b])
            cuts.append(np.flatnonzero(units[a:b] == _NL) + a)
        return np.concatenate(cuts) if cuts else np.zeros(0, dtype=np.int64)

    mid = int(np.searchsorted(offsets, n // 2))  # about half the units on each side
    halves = [pool.submit(part, 0, mid), pool.submit(part, mid, len(chunks))]
    return units, ids, np.concatenate([h.result() for h in halves])


def _block_pairs(pos_uid: np.ndarray, row_start: np.ndarray, row_end: np.ndarray, row_entry: np.ndarray,
                 entry_row_start: np.ndarray, entry_row_end: np.ndarray, e_from: int, e_to: int,
                 v: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The distinct (unit, entry) pairs of entries e_from..e_to-1, without sorting: per block of
    entries, (unit ids, entries) sorted by unit, then entry.

    For a block of entries at a time, a (unit × entry) presence table (small, reused; unit-major)
    is marked at every position; its set cells, read in order, are the block's distinct pairs
    already grouped by unit."""
    block = max(1, _PRESENCE_CELLS // (v + 1))  # entries per block
    table = np.zeros((v + 1) * block, dtype=bool)  # row 0 takes the row separators (unit id -1)
    out = []
    for e0 in range(e_from, e_to, block):
        e1 = min(e_to, e0 + block)
        r0, r1 = int(entry_row_start[e0]), int(entry_row_end[e1 - 1])
        if r1 <= r0:
            continue
        a, b = int(row_start[r0]), int(row_end[r1 - 1])
        span = row_end[r0:r1] - row_start[r0:r1] + 1  # a row's positions and the separator after it
        span[-1] -= 1  # (the block's last row has none inside the block)
        ent = np.repeat((row_entry[r0:r1] - e0).astype(np.int32), span)
        key = (pos_uid[a:b] + np.int32(1)) * np.int32(block) + ent
        table[key] = True
        cell = np.flatnonzero(table[block:])  # skips row 0; in order: by unit, then entry
        table[:] = False  # a memset: far cheaper than unmarking the cells that were set
        out.append(((cell // block).astype(np.int32), (cell % block + e0).astype(np.int32)))
    return out


def _merge_block_pairs(blocks: list[tuple[np.ndarray, np.ndarray]], v: int) -> tuple[np.ndarray, np.ndarray]:
    """The inverted index from the blocks' pairs (in entry order): every unit's distinct entries,
    ascending, all units one after another (unit id order), and each unit's entry count.

    A counting sort: each block's group of a unit is written straight to its place in the whole
    index, after the same unit's groups from the blocks before. (It replaced a stable argsort of
    all pairs by unit and the gather behind it: 0.85 → 0.04 s at 1000× the content.)"""
    counts = [np.bincount(u, minlength=v) for u, _ in blocks]
    df = np.zeros(v, dtype=np.int64)
    for c in counts:
        df += c
    post = np.empty(int(df.sum()), dtype=np.int32)
    dest = np.cumsum(df) - df  # where each unit's group from the next block goes
    for (u, e), c in zip(blocks, counts):
        first_in_block = np.cumsum(c) - c  # where the unit's group starts inside this block's list
        post[np.arange(u.size) + (dest - first_in_block)[u]] = e
        dest += c
    return post, df


def _cover(feat: np.ndarray, feat_w: np.ndarray, local_row: np.ndarray, ent_local: np.ndarray,
           q_ids: np.ndarray, q_w: np.ndarray, n_rows: int, n_ents: int):
    """For features at row positions (feat, weight, row) and the question's sorted distinct
    features (q_ids, q_w): per row the question weight found (distinct), the row weight found
    (with multiplicity), and per row the question weight found anywhere in its entry."""
    if q_ids.size == 0 or feat.size == 0:
        z = np.zeros(n_rows)
        return z, z, z, np.zeros(0, np.int64)
    hit = np.flatnonzero(np.isin(feat, q_ids))
    qi = np.searchsorted(q_ids, feat[hit])
    rows_hit = local_row[hit]
    ip = np.bincount(rows_hit, weights=feat_w[hit], minlength=n_rows)
    nq = q_ids.size
    pairs = np.unique(rows_hit * nq + qi)
    iq = np.bincount(pairs // nq, weights=q_w[pairs % nq], minlength=n_rows)
    epairs = np.unique(ent_local[rows_hit] * nq + qi)
    ie = np.bincount(epairs // nq, weights=q_w[epairs % nq], minlength=n_ents)[ent_local]
    return iq, ip, ie, epairs


def lead(ranked: Sequence[Ranked]) -> float:
    """How far the best entry is ahead of the second (its whole score when it is alone)."""
    return ranked[0].score - (ranked[1].score if len(ranked) > 1 else 0.0)


def _score(x: float) -> float:
    return round(min(max(float(x), 0.0), 100.0), 1)


def _decode(arr: np.ndarray) -> str:
    return arr.astype(np.uint32, copy=False).tobytes().decode("utf-32-le", "surrogatepass")


# ------------------------------------------------------------------------------ input


def question_from_bytes(raw: bytes) -> str:
    """A question from raw bytes (a stdin line, argv): UTF-8 with bad bytes replaced, BOM and line
    ending dropped. Never raises."""
    text = raw.decode("utf-8", errors="replace")
    return text.lstrip("\ufeff").rstrip("\r\n")
