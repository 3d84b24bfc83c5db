"""Text normalisation and tokenisation for matching Chinese (and English) questions.

Every phrasing in the knowledge base and every question goes through the same pipeline and comes
out as a *unit string*: one code point per unit, where a unit is

- a Chinese character's **toneless pinyin syllable** (被/备/倍 → ``bei``), with the fuzzy-pinyin
  folds input methods offer (zh=z, ch=c, sh=s, -ng=-n): homophone typos from pinyin input
  (被案, 审合, 多旧, 域明, 后最) become identical to the intended word;
- a Latin **word or number**, lower-cased and lightly stemmed (file/files/filed/filing → ``fil``).

A unit string lets rapidfuzz's C edit distances work on syllables and words (instead of on bytes,
or on "tokens" split at spaces Chinese does not have), and lets numpy build unigram/bigram
features for the index in bulk.

The steps, in order:

1. A-not-A questions → the plain verb (能不能 → 能, 需不需要 → 需要, 有没有 → 有);
2. one table lookup per character: NFKC (full-width → half-width), casefold, traditional →
   simplified (OpenCC's character table), punctuation / symbols / controls → space, particles
   (吗 呢 啊 吧 …) → dropped, Chinese character → its syllable;
3. runs of Latin letters/digits → one word unit each; English stop words dropped;
4. rewrites on units, longest match first, left to right: synonym variants → their canonical word
   (knowledge/synonyms.yaml), colloquial question words → standard ones (啥 → 什么, 为啥 → 为什么),
   multi-character fillers (请问, 一下) → nothing, question frames (什么, 怎么) → one code each.
   Rewriting on units means a homophone typo of a variant is rewritten too (子域明 → 子域名). A
   variant that would be a single syllable (能 for 能不能) is not rewritten: too ambiguous; single
   characters rewritten as a whole (啥) get a code of their own so their homophones (沙) stay.

For speed every step runs on one numpy array holding all texts joined by newlines: character
steps are lookup arrays filled lazily, rewrites are found by hashing unit windows with prefix
pruning, Latin words are hashed by prefix sums and coded through an open-addressing table.
1000× the content (2.0 M phrasings, 79 M characters) takes ~2.3 s of CPU to tokenise (in chunks,
on two threads), a question ~0.1 ms. `normalize` gives the readable character-level form,
`tokens` the units.
"""
from __future__ import annotations

import os
import re
import threading
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

MAX_QUESTION_CHARS = 500

# Fillers: politeness, hesitation and sentence-final particles that carry no topic. Removed from
# both sides. Single characters here are particles that in this domain never belong to a content
# word; the longer ones are removed as whole words.
CHINESE_FILLERS: tuple[str, ...] = (
    "请问一下", "想问一下", "问一下", "请教一下", "请问", "请教", "我想问", "想请问", "想问", "问下",
    "我想知道", "想知道", "想了解一下", "打扰一下", "打扰了", "麻烦问下", "麻烦问一下", "谢谢你", "谢谢",
    "多谢", "感谢", "你好", "您好", "在线等", "急急急", "大佬们", "大佬", "各位", "求助", "求解", "一下",
    # chat pleasantries: alone they are no question (the answer is "empty", not a random entry)
    "早上好", "中午好", "下午好", "晚上好", "在不在", "在吗", "好的", "好滴", "好吧", "再见", "拜拜", "收到",
    "明白了", "知道了",
    # feelings around a question: they tell how the asker feels, not what they ask
    "急死了", "急死人了", "烦死了", "愁死了", "气死我了", "郁闷死了", "心好累", "好崩溃", "崩溃了", "太难了",
    "头疼", "尴尬死了", "郁闷", "崩溃", "尴尬", "求大神", "有没有大神", "救救我", "求帮忙", "真是的",
    "吗", "呢", "啊", "呀", "吧", "嘛", "哦", "啦", "呗", "哈", "噢", "哎", "嗯", "呃", "诶", "喔",
)

# Colloquial / regional question words → the standard word the content uses. (Domain synonyms
# live in knowledge/synonyms.yaml and win over these.)
COLLOQUIAL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("为什么", ("为啥", "为甚么", "干嘛要", "干吗要", "凭啥", "why")),
    ("怎么办", ("咋办", "咋整", "咋弄", "咋搞", "怎么整", "肿么办")),
    ("怎么", ("咋", "咋样", "怎样", "怎么样", "如何", "肿么", "how")),
    ("什么", ("啥", "甚么", "神马", "什么样", "哪些", "what")),
    ("多久", ("多长时间", "要多少天", "多少天", "几天")),
    ("可以", ("能否", "可否", "可不可以", "能不能")),
    ("哪里", ("哪儿", "在哪儿", "在哪里", "where")),
    ("什么时候", ("啥时候", "何时", "多会儿", "when")),
    ("多少", ("how many", "how much")),
)

# English words that carry no topic. Question words (what/why/how/when/who/where), negation
# (not/no/without) and modality that changes the question (must/need) are kept on purpose.
ENGLISH_STOPWORDS: frozenset[str] = frozenset("""
a an the is are am was were be been being do does did doing done i me my mine we us our ours you
your yours it its this that these those to of for on in at by with from as and or but if so then
there their theirs they them he him his she her can could would should will shall may might have
has had having get gets got just about into onto please hi hello hey thanks thank any some also
really very much many which ok okay yes yeah sure bye goodbye thx morning
s m t re ve ll d""".split())  # the last line: what is left of I'm / what's / can't / we've … once the apostrophe splits them

_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))

# Unit codes live in Unicode private-use areas so they never collide with real text.
_SYLLABLE_BASE = 0xE000  # ~415 toneless syllables
_RARE_CHAR_BASE = 0xE400  # CJK characters without a pinyin reading, hashed into 2048 codes
_RARE_CHAR_SLOTS = 2048
_SPECIAL_BASE = 0xF000  # single characters rewritten as a whole (啥 → 什么): one code each
_FRAME_BASE = 0xF400  # question frames (什么, 怎么 …): one code each, weighted down by the matcher
_WORD_BASE = 0xF0000  # Latin words and numbers: planes 15 and 16 …
WORD_UNIT_BASE = _WORD_BASE  # every unit code from here on is a Latin word or number
_WORD_SLOTS = 0x1FFFE - 2048
_WORD_HASH_BASE = _WORD_BASE + _WORD_SLOTS  # … and once those are full, hashed into 2048 codes
_NCODES = 0x110000
_CHUNK_TEXTS = 32_000  # texts tokenised per pass when indexing (keeps the arrays cache-sized)
_MAX_INDEX_THREADS = 2  # threads tokenising chunks at build; more than the two cores here only contend
_NL = 10  # texts are joined with "\n"
_DROP = 0  # marks units to remove inside a rewrite (NUL never survives cleaning: controls become spaces)
_COMPOSES = 0xFFFFFFFE  # unit-table value: this character composes with a neighbour (exact path)
_UNSEEN = 0xFFFFFFFF  # unit-table value: not looked up yet
_SPACE = 32
_P = np.uint64(0x100000001B3)  # FNV prime: multiplier of the polynomial window hash


def is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum() or ("\u00c0" <= ch <= "\u024f" and ch.isalpha())


# ----------------------------------------------------------------------------- character maps

@lru_cache(maxsize=1)
def _t2s() -> dict[int, str]:
    """Traditional → simplified, one character at a time, from OpenCC's own character table.
    (OpenCC's pure-Python converter costs ~50 µs a question and far too much for a whole index;
    phrase-level conversions do not matter for matching: both sides use the same table.)"""
    table: dict[int, str] = {}
    try:
        import opencc

        path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            trad, _, simp = line.partition("\t")
            if len(trad) == 1 and simp and simp.split()[0] != trad:
                table[ord(trad)] = simp.split()[0]
    except (ImportError, OSError):  # pragma: no cover - the dependency is pinned
        pass
    return table


def _is_separator(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PSZC" and ch != "\n"


def _clean_exact(text: str) -> str:
    """NFKC, casefold, traditional → simplified, punctuation → space, on a whole string."""
    out = unicodedata.normalize("NFKC", text).casefold().translate(_t2s())
    return "".join(" " if _is_separator(c) else c for c in out)


class _CharMap:
    """A code point → code point lookup array, filled lazily for the code points actually seen.

    Mapping a joined text through a numpy array is much faster than `str.translate` with a dict;
    it is what lets 1000× the content be tokenised within the index-build budget."""

    def __init__(self, func):
        self.func = func  # char -> a str of length 1, or None when not one-to-one ("special")
        self.lut = np.arange(_NCODES, dtype=np.uint32)
        self.known = np.zeros(_NCODES, dtype=bool)
        self.special = np.zeros(_NCODES, dtype=bool)
        self.lock = threading.Lock()

    def ensure(self, arr: np.ndarray) -> None:
        todo = arr[~self.known[arr]]
        if todo.size:
            with self.lock:
                for cp in np.unique(todo).tolist():
                    out = self.func(chr(cp))
                    if out is None or len(out) != 1:
                        self.special[cp] = True
                    else:
                        self.lut[cp] = ord(out)
                    self.known[cp] = True


def _clean_one(ch: str) -> str | None:
    if unicodedata.combining(ch) or 0x1100 <= ord(ch) <= 0x11FF:  # composes with a neighbour
        return None
    return _clean_exact(ch)


_CLEAN = _CharMap(_clean_one)
_COMPOSING = np.zeros(_NCODES, dtype=bool)  # characters that compose with a neighbour under NFKC
_COMPOSING[0x1100:0x1200] = True  # conjoining jamo; combining marks are caught by _clean_one


def _clean_array(joined: str) -> np.ndarray:
    arr = _to_array(joined)
    _CLEAN.ensure(arr)
    if _CLEAN.special[arr].any():  # rare: combining marks, ligatures, ㎏ … — do it exactly
        return _to_array(_clean_exact(joined))
    return _CLEAN.lut[arr]


def _to_array(text: str) -> np.ndarray:
    # "replace": a lone surrogate (from a caller's surrogateescape'd bytes) becomes "?", not a crash
    return np.frombuffer(text.encode("utf-32-le", "replace"), dtype=np.uint32)


def _to_str(arr: np.ndarray) -> str:
    return arr.astype(np.uint32, copy=False).tobytes().decode("utf-32-le", "surrogatepass")


@lru_cache(maxsize=1)
def _pinyin_dict() -> dict[int, str]:
    from pypinyin.pinyin_dict import pinyin_dict  # ~0.2 s import: once, and only when needed

    return pinyin_dict


def _toneless(reading: str) -> str:
    decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# "Fuzzy pinyin", as pinyin input methods offer it: the confusions most people make (and many
# accents do not distinguish) are folded together, so 后最 (hou zui) still meets 后缀 (hou zhui).
_FUZZY = ((re.compile(r"^([zcs])h"), r"\1"), (re.compile(r"(?<=[iae])ng$"), "n"))
FUZZY_PINYIN = True


def fold(syl: str) -> str:
    """zh/z, ch/c, sh/s and -ng/-n folded together: 'zhui' → 'zui', 'ming' → 'min'."""
    for pattern, repl in _FUZZY:
        syl = pattern.sub(repl, syl)
    return syl


def syllable(ch: str) -> str | None:
    """Toneless pinyin of one Chinese character (its first, most common reading): 备 → 'bei'."""
    reading = _pinyin_dict().get(ord(ch))
    return _toneless(reading.split(",")[0]) if reading else None


def pinyin(text: str) -> list[str]:
    """Toneless pinyin of each Chinese character in `text` (others dropped): 备案 → ['bei', 'an']."""
    return [s for ch in clean(text) if is_cjk(ch) and (s := syllable(ch))]


class _Syllables:
    """CJK character → one private-use code per toneless syllable; everything else unchanged."""

    def __init__(self):
        self.code: dict[str, str] = {}
        self.name: dict[str, str] = {}
        self.map = _CharMap(self._one)

    def _one(self, ch: str) -> str:
        if not is_cjk(ch):
            return ch
        syl = syllable(ch)
        if syl is None:
            return chr(_RARE_CHAR_BASE + ord(ch) % _RARE_CHAR_SLOTS)
        if FUZZY_PINYIN:
            syl = fold(syl)
        code = self.code.get(syl)
        if code is None:
            code = chr(_SYLLABLE_BASE + len(self.code))
            self.code[syl] = code
            self.name[code] = syl
        return code


_SYLLABLES = _Syllables()
_LATIN_LUT = np.zeros(_NCODES, dtype=bool)
_LETTERS_LO, _LETTERS_HI = 0x30, 0x250  # after cleaning, this range holds only Latin letters and digits
_LATIN_LUT[[ord(c) for c in "abcdefghijklmnopqrstuvwxyz0123456789"]] = True
_LATIN_LUT[[cp for cp in range(0xC0, 0x250) if chr(cp).isalpha()]] = True
_CJK_LUT = np.zeros(_NCODES, dtype=bool)
for _lo, _hi in _CJK_RANGES:
    _CJK_LUT[_lo:_hi + 1] = True
_BU, _MEI = ord("不"), ord("没")


def clean(text: str) -> str:
    """NFKC, casefold, traditional → simplified, punctuation → spaces, spaces collapsed."""
    return " ".join(_to_str(_clean_array(" ".join(text.splitlines()))).split())


# ------------------------------------------------------------------------------------ stemming

_STEM_RULES = (
    (re.compile(r"(?<=[a-z]{2})ies$"), "y"),
    (re.compile(r"(?<=[a-z]{3})sses$"), "ss"),
    (re.compile(r"(?<=[a-z]{3}[^su])s$"), ""),
    (re.compile(r"(?<=[a-z]{3})(?:ing|ed)$"), ""),
    (re.compile(r"(?<=[a-z]{3})e$"), ""),
)


def stem(word: str) -> str:
    """Light English stemming so file/files/filed/filing and domain/domains meet: a few suffix
    rules, nothing that needs a dictionary."""
    for pattern, repl in _STEM_RULES:
        word = pattern.sub(repl, word)
    return word


# --------------------------------------------------------------------------- array helpers

_BITMAP_BITS = 20
_BITMAP = 1 << _BITMAP_BITS


def _bitmap_index(h):
    """Bitmap slot of a window hash: multiply by a 64-bit odd constant first, so the low units
    reach the top bits that are kept (the polynomial hash alone leaves them to the first unit)."""
    with np.errstate(over="ignore"):
        return ((h * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - _BITMAP_BITS)).astype(np.int64)


def _slot_index(h, bits: int):
    """Slot of a window hash in a table of 2**bits slots (same mixing as `_bitmap_index`)."""
    with np.errstate(over="ignore"):
        return ((h * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits)).astype(np.int64)


GATHER_STEP = 1 << 16  # indices per piece of a bulk lookup (their int64 copy stays in cache)


def gather(table: np.ndarray, index: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """table[index] for a large uint32/int32 `index` (every value a valid position), in
    cache-sized pieces: numpy first widens a whole index array to int64, a temporary twice the
    size of uint32 indices, and streams it through memory (measured at 1000× the content: the
    character lookup 0.22 → 0.15 s of CPU, the rewriter's two prefilters 0.23 → 0.17 s).
    Written into `out` when given (of `table`'s dtype and `index`'s shape)."""
    if out is None:
        out = np.empty(index.shape, dtype=table.dtype)
    for lo in range(0, index.size, GATHER_STEP):
        hi = lo + GATHER_STEP
        np.take(table, index[lo:hi], out=out[lo:hi], mode="clip")  # (mode="raise" writes via a buffer)
    return out


def _hash_seq(seq: Sequence[int]) -> int:
    """Polynomial hash of a unit sequence (h·P + unit at each unit, wrapping at 64 bits): what the
    rewriter computes for its windows. In Python integers: numpy costs more than it saves for a
    few units, and a normaliser hashes ~1 100 patterns and prefixes when it is made."""
    h = 0
    for unit in seq:
        h = (h * _P_INT + int(unit)) & _MASK64
    return h


_P_INT = int(_P)
_MASK64 = (1 << 64) - 1


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """np.concatenate([np.arange(s, s + n) for s, n in zip(starts, lens)]), vectorised."""
    total = int(lens.sum())
    return np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)


def _expand(arr: np.ndarray, pos: np.ndarray, length: np.ndarray, repl_start: np.ndarray,
            repl_len: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Replace arr[pos:pos+length] by pool[repl_start:repl_start+repl_len] for sorted,
    non-overlapping (pos, length) pairs, all at once.

    Most replacements are no longer than what they replace (variant → shorter canonical, frame
    → one code, filler → nothing): they are written in place and the leftover slots marked and
    squeezed out in one pass. The few longer ones (二级 → 子域名) write their first units in
    place and insert the rest."""
    if pos.size == 0:
        return arr
    out = arr.copy()
    fit = np.minimum(repl_len, length)
    out[_ranges(pos, fit)] = pool[_ranges(repl_start, fit)]  # what fits, in place
    gap = length - fit
    if gap.any():
        out[_ranges(pos + fit, gap)] = _DROP  # slots freed by shorter replacements
    extra = repl_len - fit
    if extra.any():  # longer replacements: insert what did not fit, after their in-place part
        long_ = np.flatnonzero(extra)
        freed_before = np.cumsum(gap) - gap  # dropped slots ahead of each match
        at = (pos + length - freed_before)[long_]
        values = pool[_ranges(repl_start[long_] + fit[long_], extra[long_])]
        out = out[out != _DROP] if gap.any() else out
        return np.insert(out, np.repeat(at, extra[long_]), values.astype(out.dtype))
    return out[out != _DROP] if gap.any() else out


class _Rewriter:
    """Literal rewrites on unit arrays: {pattern units: replacement units}, longest match first at
    each position, scanning left to right (what a longest-first regex alternation would do)."""

    def __init__(self, table: dict[tuple[int, ...], tuple[int, ...]]):
        self.table = {k: v for k, v in table.items() if k}
        pool: list[int] = []
        starts, lens = [], []
        self.single = np.full(_NCODES, -1, dtype=np.int32)  # length-1 patterns: code -> repl id
        self.has_single = np.zeros(_NCODES, dtype=bool)
        by_len: dict[int, dict[int, int]] = {}
        self.repl: list[tuple[int, ...]] = []
        for rid, (pat, rep) in enumerate(sorted(self.table.items())):
            self.repl.append(rep)
            starts.append(len(pool))
            lens.append(len(rep))
            pool.extend(rep)
            if len(pat) == 1:
                self.single[pat[0]] = rid
                self.has_single[pat[0]] = True
            else:
                by_len.setdefault(len(pat), {})[_hash_seq(pat)] = rid
        self.pool = np.asarray(pool, dtype=np.uint32)
        self.changes = np.array([p != r for p, r in sorted(self.table.items())], dtype=bool)
        self.repl_start = np.asarray(starts, dtype=np.int64)
        self.repl_len = np.asarray(lens, dtype=np.int64)
        self.lengths = sorted(by_len, reverse=True)
        # Prefilters. Every code that is the first or second unit of some pattern gets a small
        # class number, and a class × class table says which pairs begin a pattern: two lookups
        # keep ~1 position in 8. Then, per length L, bitmaps of the hashes of whole patterns of
        # length L and of length-L prefixes of longer ones: a candidate is extended one unit at
        # a time only while it is still the prefix of some pattern.
        multi = [pat for pat in self.table if len(pat) > 1]
        codes = sorted({c for pat in multi for c in pat[:2]})
        self.cls = np.zeros(_NCODES, dtype=np.int32)
        self.cls[codes] = np.arange(1, len(codes) + 1, dtype=np.int32)
        self.k = len(codes) + 1
        self.pair_ok = np.zeros(self.k * self.k, dtype=bool)
        prefixes: dict[int, list[int]] = {}  # length → hashes of the patterns' prefixes of that length
        for pat in multi:
            self.pair_ok[self.cls[pat[0]] * self.k + self.cls[pat[1]]] = True
            for L in range(2, len(pat)):
                prefixes.setdefault(L, []).append(_hash_seq(pat[:L]))
        self.prefix_bits: dict[int, np.ndarray] = {}
        for L, hashes in prefixes.items():
            self.prefix_bits[L] = np.zeros(_BITMAP, dtype=bool)
            self.prefix_bits[L][_bitmap_index(np.array(hashes, dtype=np.uint64))] = True
        # Whole patterns: per length, an open table slot → (pattern hash, id), sized so that no
        # two patterns share a slot; a window matches iff its slot holds exactly its hash.
        self.full: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}
        for L, d in by_len.items():
            hashes = np.array(list(d), dtype=np.uint64)
            bits = 12
            while np.unique(_slot_index(hashes, bits)).size < hashes.size:
                bits += 1
            slot = _slot_index(hashes, bits)
            key = np.zeros(1 << bits, dtype=np.uint64)
            rid = np.zeros(1 << bits, dtype=np.int32)
            key[slot] = hashes
            rid[slot] = list(d.values())
            self.full[L] = (bits, key, rid)

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        n = arr.size
        if n == 0 or not self.table:
            return arr
        # best[i] = length of the longest pattern found at i (longer lengths overwrite), rid[i] its id
        best = np.zeros(n, dtype=np.int16)
        best_id = np.zeros(n, dtype=np.int32)
        p1 = np.flatnonzero(gather(self.has_single, arr))
        best[p1] = 1
        best_id[p1] = self.single[arr[p1]]
        if self.lengths and n > 1:
            c = gather(self.cls, arr)
            s = np.flatnonzero(gather(self.pair_ok, c[:-1] * self.k + c[1:]))  # class 0 never begins a pair
            del c
            h = arr[s].astype(np.uint64)
            with np.errstate(over="ignore"):
                for L in range(2, self.lengths[0] + 1):
                    s = s[s + L <= n] if s.size and s[-1] + L > n else s
                    h = h[:s.size]
                    if s.size == 0:
                        break
                    h = h * _P + arr[s + (L - 1)].astype(np.uint64)
                    full = self.full.get(L)
                    if full is not None:
                        bits, key, rid = full
                        slot = _slot_index(h, bits)
                        hit = np.flatnonzero(key[slot] == h)
                        best[s[hit]] = L
                        best_id[s[hit]] = rid[slot[hit]]
                    prefix = self.prefix_bits.get(L)
                    if prefix is None:
                        break
                    keep = prefix[_bitmap_index(h)]
                    s, h = s[keep], h[keep]
        pos = np.flatnonzero(best)
        if pos.size == 0:
            return arr
        length = best[pos].astype(np.int64)
        rid = best_id[pos].astype(np.int64)
        end = pos + length
        prev_end = np.maximum.accumulate(end)
        clash = np.zeros(pos.size, dtype=bool)
        clash[1:] = pos[1:] < prev_end[:-1]
        if clash.any():  # overlapping matches: keep them greedily from the left, cluster by cluster
            cluster = np.cumsum(~clash)
            # a match shares its cluster iff it overlaps the one before or the next overlaps it
            shared = clash.copy()
            shared[:-1] |= clash[1:]
            alive = np.flatnonzero(shared)
            keep = np.ones(pos.size, dtype=bool)
            keep[alive] = False
            while alive.size:  # each round accepts the first live match of every cluster
                cl = cluster[alive]
                head = np.ones(alive.size, dtype=bool)
                head[1:] = cl[1:] != cl[:-1]
                accepted = alive[head]
                keep[accepted] = True
                limit = np.zeros(int(cluster[-1]) + 1, dtype=np.int64)
                limit[cluster[accepted]] = end[accepted]
                alive = alive[~head & (pos[alive] >= limit[cl])]
            pos, length, rid = pos[keep], length[keep], rid[keep]
        changes = self.changes[rid]  # identity matches only protected their words: nothing to do
        pos, length, rid = pos[changes], length[changes], rid[changes]
        return _expand(arr, pos, length, self.repl_start[rid], self.repl_len[rid], self.pool)


# --------------------------------------------------------------------------------- normaliser

class _WordTable:
    """Latin word → unit code, shared by every normaliser of the process (words are the same
    everywhere; which ones are stop words is each normaliser's business). Looked up by a hash of
    the word's letters, so a whole index is coded without a Python call per word.

    The hashes live in an open-addressing table (linear probing, at most a quarter full): one
    multiply, two gathers and a compare find most words, where a binary search over sorted
    hashes took ~20 reads each (measured at 1000× the content: 0.67 → 0.1 s)."""

    def __init__(self):
        self.lock = threading.Lock()
        # slot → word hash, slot → code (-1: empty slot); one tuple, swapped whole on insertion,
        # so threads read it without the lock
        self.table = _open_table(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32), _WORD_TABLE_MIN_BITS)
        self.size = 0  # hashes in the table
        self.stem_code: dict[str, int] = {}
        self.name: dict[int, str] = {}

    def code(self, word: str) -> int:
        stemmed = stem(word)
        code = self.stem_code.get(stemmed)
        if code is None:
            if len(self.stem_code) < _WORD_SLOTS:  # bounded memory whatever users type
                code = _WORD_BASE + len(self.stem_code)
                self.stem_code[stemmed] = code
                self.name[code] = stemmed
            else:
                code = _WORD_HASH_BASE + zlib.crc32(stemmed.encode()) % 2048
        return code

    def lookup(self, h: np.ndarray, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Codes of the words arr[s:e] with hashes `h`; words not seen before are coded (and
        remembered) here."""
        out = _probe(self.table, h)
        missing = np.flatnonzero(out < 0)
        if missing.size == 0:
            return out
        # new words: in hash order (codes are numbered in order of first sight, so the same
        # content gets the same codes)
        new_h, first = np.unique(h[missing], return_index=True)
        idx = missing[first]
        with self.lock:
            new_codes = np.array([self.code(w) for w in _words_text(arr, starts[idx], ends[idx])], dtype=np.int32)
            if self.size < 4 * _WORD_SLOTS:  # past that, unseen words are simply coded again
                unseen = _probe(self.table, new_h) < 0  # another thread may have added some
                self._insert(new_h[unseen], new_codes[unseen])
        found = _probe(self.table, h[missing])
        out[missing] = found
        if (found < 0).any():  # table full: code the rest directly
            rest = missing[found < 0]
            out[rest] = [self.code(w) for w in _words_text(arr, starts[rest], ends[rest])]
        return out

    def _insert(self, hashes: np.ndarray, codes: np.ndarray) -> None:
        keys, values = self.table
        size = self.size + hashes.size
        bits = int(keys.size).bit_length() - 1
        while size * 4 > (1 << bits):  # at most a quarter full: few words probe past their slot
            bits += 1
        held = values >= 0
        self.table = _open_table(np.concatenate([keys[held], hashes]), np.concatenate([values[held], codes]), bits)
        self.size = size


_WORD_TABLE_MIN_BITS = 12


def _open_table(hashes: np.ndarray, codes: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """An open-addressing table of 2**bits slots holding distinct `hashes` → `codes`, linear
    probing from `_slot_index`; filled in vectorised rounds (each round, every pending hash
    tries its current slot; of those trying one free slot, one wins and the others move on)."""
    mask = (1 << bits) - 1
    keys = np.zeros(1 << bits, dtype=np.uint64)
    values = np.full(1 << bits, -1, dtype=np.int32)
    owner = np.full(1 << bits, -1, dtype=np.int64)
    slot = _slot_index(hashes, bits)
    pending = np.arange(hashes.size)
    while pending.size:
        s = slot[pending]
        free = values[s] < 0
        trying = pending[free]
        owner[s[free]] = trying
        won = trying[owner[s[free]] == trying]  # the last writer of each slot
        keys[slot[won]] = hashes[won]
        values[slot[won]] = codes[won]
        placed = np.zeros(hashes.size, dtype=bool)
        placed[won] = True
        pending = pending[~placed[pending]]
        slot[pending] = (slot[pending] + 1) & mask
    return keys, values


def _probe(table: tuple[np.ndarray, np.ndarray], h: np.ndarray) -> np.ndarray:
    """The code of each hash in an open-addressing table, -1 where it is absent."""
    keys, values = table
    bits = int(keys.size).bit_length() - 1
    slot = _slot_index(h, bits)
    out = values[slot]
    # most hashes are at their own slot; the rest walk on until their hash or an empty slot
    walk = np.flatnonzero((keys[slot] != h) & (out >= 0))
    out[walk] = -1
    mask = keys.size - 1
    while walk.size:
        s = (slot[walk] + 1) & mask
        slot[walk] = s
        v = values[s]
        hit = (keys[s] == h[walk]) & (v >= 0)
        out[walk[hit]] = v[hit]
        walk = walk[~hit & (v >= 0)]
    return out


_WORDS = _WordTable()


def _word_hashes(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Polynomial hash Σ (arr[s + k] + 1)·P**k of each run arr[s:e] (uint64, wrapping).

    By prefix sums instead of per-letter offsets: with S the running sum of arr[j]·P**j over the
    whole array, a run's Σ arr[s + k]·P**k is (S[e − 1] − S[s − 1])·P**−s (P is odd, so it has an
    inverse modulo 2**64), and the "+ 1"s add Σ P**k for k below its length. Two passes over the
    array and a few gathers per word, where per-letter offsets, weights and a reduceat took six
    passes over the letters (measured with the open table below: `_words` 2.07 → 0.75 s at 1000×)."""
    powers, inverses = _powers(arr.size)
    lens = ends - starts
    with np.errstate(over="ignore"):
        running = arr.astype(np.uint64)  # then multiplied in place: faster than a mixed-type multiply
        running *= powers
        np.cumsum(running, out=running)
        sums = running[ends - 1]
        before = running[starts - 1]
        if starts[0] == 0:
            before[0] = 0  # (index −1 read the last element: nothing comes before position 0)
        sums -= before
        ones = np.cumsum(powers[:int(lens.max())])  # Σ P**k for k < 1, 2, …
        return sums * inverses[starts] + ones[lens - 1]


_P_INV = np.uint64(pow(int(_P), -1, 1 << 64))
_POWERS_KEPT = 1 << 21  # powers kept between calls (32 MB); longer inputs compute their own
_POWERS = (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64))


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P**j and P**−j (mod 2**64) for j < n."""
    global _POWERS
    powers, inverses = _POWERS  # one tuple, swapped whole: safe to read from threads
    if powers.size < n:
        size = max(n, min(2 * powers.size, _POWERS_KEPT))
        with np.errstate(over="ignore"):
            powers = np.cumprod(np.concatenate(([np.uint64(1)], np.full(size - 1, _P, dtype=np.uint64))))
            inverses = np.cumprod(np.concatenate(([np.uint64(1)], np.full(size - 1, _P_INV, dtype=np.uint64))))
        if size <= _POWERS_KEPT:
            _POWERS = (powers, inverses)
    return powers[:n], inverses[:n]


def _words_text(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> list[str]:
    """The words arr[s:e] as strings, decoded in one go."""
    if starts.size == 0:
        return []
    lens = ends - starts + 1  # each word plus a separator slot
    idx = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(int(lens.sum()))
    chars = arr[np.minimum(idx, arr.size - 1)].copy()
    chars[np.cumsum(lens) - 1] = _NL
    return _to_str(chars).split("\n")[:-1]


_Turn = Callable[[str], AbstractContextManager] | None


def _any_time(step: str) -> AbstractContextManager:
    return nullcontext()


class _InOrder:
    """Lets chunks tokenised on several threads pass the steps that register new things (code
    points looked up for the first time, words coded for the first time) in chunk order.

    Syllables and words are numbered in order of first sight, and the numbering shapes the index
    (unit ids, hashed bigram slots): without this, which thread met a new word first decided it,
    and two builds of the same content could differ. Each such step is short (a lookup), so the
    threads hardly wait; everything else runs freely."""

    def __init__(self):
        self._cond = threading.Condition()
        self._passed: dict[str, int] = {}  # step → how many chunks have passed it
        self._failed = False  # a chunk raised: no later chunk may wait for it (the build fails anyway)

    def fail(self) -> None:
        with self._cond:
            self._failed = True
            self._cond.notify_all()

    @contextmanager
    def step(self, name: str, chunk: int) -> Iterator[None]:
        with self._cond:  # the chunk before this one was started earlier, so this wait ends
            self._cond.wait_for(lambda: self._failed or self._passed.get(name, 0) == chunk)
        try:
            yield
        finally:  # also when the step raised: later chunks must not wait forever
            with self._cond:
                self._passed[name] = chunk + 1
                self._cond.notify_all()


class Normalizer:
    """Normalises and tokenises text the same way for the index and for questions.

    `synonyms` is a sequence of (canonical, variants): every variant is rewritten to its canonical
    word (longest first, on units, so homophone typos of a variant are rewritten too).
    """

    def __init__(self, synonyms: Sequence[tuple[str, Sequence[str]]] = (), *,
                 fillers: Sequence[str] = CHINESE_FILLERS,
                 colloquial: Sequence[tuple[str, Sequence[str]]] = COLLOQUIAL,
                 stopwords: Iterable[str] = ENGLISH_STOPWORDS,
                 frames: Sequence[str] = ()):
        self._lock = threading.Lock()
        self._lut = np.full(_NCODES, _UNSEEN, dtype=np.uint32)  # raw code point → unit (see _units_joined)
        self._stop = frozenset(clean(w) for w in stopwords if clean(w))
        self._stop_code = np.zeros(_NCODES, dtype=bool)  # word unit → is a stop word here
        for w in self._stop:
            for word in re.findall(r"[a-z0-9\u00c0-\u024f]+", w):
                self._stop_code[_WORDS.code(word)] = True
        fillers = [clean(f) for f in fillers]
        self._drop = np.zeros(_NCODES, dtype=bool)  # single-character particles
        self._drop[[ord(f) for f in fillers if len(f) == 1]] = True
        pairs: dict[str, str] = {}  # cleaned variant → cleaned canonical
        for canonical, variants in colloquial:
            for v in variants:
                pairs.setdefault(clean(v), clean(canonical))
        self.synonyms: dict[str, str] = {}
        canonicals: list[str] = []
        for canonical, variants in synonyms:
            c = clean(canonical)
            canonicals.append(c)
            for v in variants:
                v = clean(v)
                if v and v != c:
                    self.synonyms[v] = c
                    pairs[v] = c  # domain synonyms win over colloquial ones
        # Single Chinese characters rewritten as a whole (啥 → 什么) get a code of their own, so
        # that the homophones of 啥 (沙, 傻 …) are left alone.
        self._special = np.arange(_NCODES, dtype=np.uint32)
        singles = sorted(v for v in pairs if len(v) == 1 and is_cjk(v))
        for i, ch in enumerate(singles):
            self._special[ord(ch)] = _SPECIAL_BASE + i
        self._rewrite = _Rewriter({})
        table: dict[tuple[int, ...], tuple[int, ...]] = {}
        multi = [f for f in fillers if len(f) > 1]
        sources = [*pairs, *canonicals, *multi]
        targets = [*pairs.values(), *canonicals, *([""] * len(multi))]
        units = self._units_arrays(sources + targets, rewrite=False)
        src_units, tgt_units = units[:len(sources)], units[len(sources):]
        for su, tu in zip(src_units, tgt_units):
            su, tu = tuple(su.tolist()), tuple(tu.tolist())
            # A variant that becomes one syllable (能不能 → 能) would rewrite every homophone of it
            # (功能, 可能 …): too ambiguous, skipped. One Latin word or one special character is exact.
            if not su or (len(su) == 1 and su[0] < _SPECIAL_BASE):
                continue
            table.setdefault(su, tu)
        # Question frames (什么, 怎么, 意思 …): each becomes one code of its own, so the matcher can
        # give it a small weight. Only words of two or more characters: a single character would
        # swallow its homophones (是 → shi would take 实名's 实 with it).
        frames = sorted({clean(f) for f in frames if len(clean(f)) > 1 or clean(f).isascii()})
        frame_units = self._units_arrays(frames, rewrite=False) if frames else []
        frame_table = {}
        self.frame_codes: frozenset[int] = frozenset(_FRAME_BASE + i for i in range(len(frames)))
        for i, fu in enumerate(frame_units):
            fu = tuple(fu.tolist())
            if fu:
                frame_table.setdefault(fu, (_FRAME_BASE + i,))
        if frame_table:  # rewrite targets (什么 for 啥) into frame codes too: one pass does both
            frame_rw = _Rewriter(frame_table)
            keys = list(table)
            joined = np.concatenate([x for k in keys for x in (np.asarray(table[k], dtype=np.uint32), np.array([_NL], np.uint32))])
            out = frame_rw(joined)
            cuts = np.flatnonzero(out == _NL).tolist()
            table = dict(zip(keys, (tuple(out[a + 1:b].tolist()) for a, b in zip([-1, *cuts[:-1]], cuts))))
            for p, r in frame_table.items():
                table.setdefault(p, r)
        # A canonical word maps to itself where that protects it: scanning left to right, longest
        # first, 子域名备案 must be read as 子域名 + 备案, not as 子 + the variant 域名备案. Only needed
        # when a rewriting pattern lies inside the canonical word or starts inside it and runs on;
        # identity entries that protect nothing would only cost time (备案 is everywhere).
        changing = {p for p, r in table.items() if p != r}
        heads = {q[:k] for q in changing for k in range(1, len(q))}  # proper prefixes of those
        table = {p: r for p, r in table.items() if p != r or _overlapped(p, changing, heads)}
        self._rewrite = _Rewriter(table)
        self._frame_names = {_FRAME_BASE + i: f for i, f in enumerate(frames)}

    # ----------------------------------------------------------------------------- units
    def unit_names(self, units: str) -> list[str]:
        """Each unit of a unit string by a name that every process gives it alike: syllables and
        words are coded in order of first sight, so their codes differ between processes (a learned
        model keys on these names: bei, ~icp, ~frame:什么); other units are fixed codes, kept as they are."""
        out = []
        for ch in units:
            name = _SYLLABLES.name.get(ch)
            if name is None:
                code = ord(ch)
                if _WORD_BASE <= code < _WORD_HASH_BASE and code in _WORDS.name:
                    name = "~" + _WORDS.name[code]
                elif code in self._frame_names:
                    name = "~frame:" + self._frame_names[code]
                else:
                    name = ch
            out.append(name)
        return out

    def units(self, text: str) -> str:
        """The unit string of a raw text (see the module docstring)."""
        return self.units_many([text])[0]

    def units_many(self, texts: Sequence[str]) -> list[str]:
        """`units` for many texts at once (one pass of each step over all of them)."""
        if not texts:
            return []
        joined = self._units_joined(texts, rewrite=True)
        return _to_str(joined).split("\n")

    def units_array(self, texts: Sequence[str], each: Callable[[np.ndarray], None] | None = None) -> np.ndarray:
        """All texts' units in one uint32 array, texts separated by 10 ("\\n"): for the index.
        `each`: see `units_chunks`."""
        return join_chunks(self.units_chunks(texts, each))

    def units_chunks(self, texts: Sequence[str], each: Callable[[np.ndarray], None] | None = None) -> list[np.ndarray]:
        """`units_array` in pieces, not yet joined: the units of consecutive runs of texts (texts
        separated by 10 within a piece, and the pieces to be joined by 10 too — `join_chunks`).
        The index joins them itself, on two threads, while it looks the units up (at 1000× the
        content the 140 MB join took 0.25–0.3 s on one thread, most of it first touching fresh
        memory).
        Texts are independent, so they are tokenised in chunks small enough for the CPU cache
        (measured: ~40% faster at 1000× the content than one pass over everything).
        `each`, if given, is called with every chunk's units on the thread that made them (the
        index marks which units occur while the other thread still tokenises)."""
        if not texts:
            return []

        def one(i: int, turn: _Turn = None, order: _InOrder | None = None) -> np.ndarray:
            try:
                arr = self._units_joined(texts[i:i + _CHUNK_TEXTS], rewrite=True, turn=turn)
                if each is not None:
                    each(arr)
                return arr
            except BaseException:  # MemoryError …: release the chunks waiting for this one's turn
                if order is not None:
                    order.fail()
                raise

        starts = range(0, len(texts), _CHUNK_TEXTS)
        if len(starts) == 1:
            return [one(0)]
        # Chunks are independent and numpy releases the GIL in its bulk passes, so a second
        # core takes a share (the lazily filled tables are locked, as for concurrent `units`).
        workers = min(len(starts), os.cpu_count() or 1, _MAX_INDEX_THREADS)
        if workers > 1:
            order = _InOrder()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                done = list(pool.map(lambda k: one(starts[k], partial(order.step, chunk=k), order), range(len(starts))))
        else:
            done = [one(i) for i in starts]
        return done

    def _units_arrays(self, texts: Sequence[str], rewrite: bool) -> list[np.ndarray]:
        joined = self._units_joined(texts, rewrite=rewrite)
        cuts = np.flatnonzero(joined == _NL).tolist()
        return [joined[a + 1:b] for a, b in zip([-1, *cuts], [*cuts, joined.size])]

    def _units_joined(self, texts: Sequence[str], rewrite: bool, turn: _Turn = None) -> np.ndarray:
        """The texts' units, joined by "\n". `turn` (from `_InOrder`) orders the steps that
        register new characters and words when chunks run on several threads."""
        turn = turn or _any_time
        joined = "\n".join(texts)
        if joined.count("\n") != len(texts) - 1:  # a text holding its own line breaks
            joined = "\n".join(" ".join(t.splitlines()) for t in texts)
        raw = _a_not_a(_to_array(joined))
        with turn("characters"):
            arr = self._char_units(raw)
        del raw
        arr = self._words(arr, turn)  # word units in, letters and spaces out
        if rewrite:
            arr = self._rewrite(arr)
        return arr.astype(np.uint32, copy=False)  # texts' units, separated by "\n"

    def _char_units(self, raw: np.ndarray) -> np.ndarray:
        """One lookup does clean (NFKC, case, traditional → simplified, punctuation → space),
        particles → space and character → syllable; Latin letters stay letters for `_words`.
        Code points not seen before read as _UNSEEN and are filled in; characters that compose
        with a neighbour read as _COMPOSES and send the text through exact cleaning first."""
        arr = gather(self._lut, raw)
        if arr.size and arr.max() >= _COMPOSES:
            self._ensure(raw)
            arr = gather(self._lut, raw)
            if arr.max() >= _COMPOSES:  # rare: combining marks, ligatures, ㎏ …
                raw = _a_not_a(_to_array(_clean_exact(_to_str(raw))))
                self._ensure(raw)
                arr = self._lut[raw]
                arr[arr == _COMPOSES] = _SPACE  # a mark with nothing to compose with: ignored
        return arr

    def _ensure(self, arr: np.ndarray) -> None:
        """Fill the per-normaliser lookup table for the code points of `arr` not seen before
        (vectorised over the process-wide clean and syllable tables)."""
        todo = np.unique(arr[self._lut[arr] == _UNSEEN])
        if not todo.size:
            return
        with self._lock:
            _CLEAN.ensure(todo)
            special = _CLEAN.special[todo] | _COMPOSING[todo]
            cleaned = _CLEAN.lut[todo]
            _SYLLABLES.map.ensure(cleaned)
            unit = np.where(self._special[cleaned] != cleaned, self._special[cleaned], _SYLLABLES.map.lut[cleaned])
            unit = np.where(self._drop[cleaned], _SPACE, unit)  # particles: gone like punctuation
            # `_words` finds letters by range: nothing else may land in it (nothing does with
            # today's Unicode tables — cleaning makes every other character there a space)
            in_range = (unit >= _LETTERS_LO) & (unit < _LETTERS_HI)
            unit = np.where(in_range & ~_LATIN_LUT[np.minimum(unit, _NCODES - 1)], _SPACE, unit)
            self._lut[todo] = np.where(special, _COMPOSES, unit)

    def _words(self, arr: np.ndarray, turn: _Turn = None) -> np.ndarray:
        """Each run of Latin letters/digits → one word unit (or nothing, for a stop word); spaces
        dropped. `arr` is the caller's own array (the word units are written into it)."""
        if arr.size == 0:
            return arr
        # one range test finds the letters (`_ensure` keeps everything else out of the range);
        # a gather from a code-point table took six times as long
        latin = (arr - np.uint32(_LETTERS_LO)) < np.uint32(_LETTERS_HI - _LETTERS_LO)  # wraps below
        # runs start and end where `latin` flips; the flips alternate start, end, start …
        edges = np.flatnonzero(latin[1:] != latin[:-1]) + 1
        if latin[0]:
            edges = np.concatenate(([0], edges))
        if latin[-1]:
            edges = np.concatenate((edges, [latin.size]))
        keep = arr != _SPACE
        if edges.size == 0:
            return arr[keep]
        starts, ends = edges[0::2], edges[1::2]
        hashes = _word_hashes(arr, starts, ends)
        with (turn or _any_time)("words"):
            units = _WORDS.lookup(hashes, arr, starts, ends)
        # one pass keeps what is neither a space nor a letter, plus each kept word's first slot,
        # which now holds the word's unit
        keep ^= latin  # (letters are never spaces: one pass drops them)
        arr[starts] = units
        keep[starts] = ~self._stop_code[units]
        return arr[keep]

    # -------------------------------------------------------------------- readable forms
    def normalize(self, text: str) -> str:
        """The question as the matcher reads it, in characters: cleaned, A-not-A collapsed,
        particles and English stop words removed (rewrites happen on units; see `tokens`)."""
        arr = _a_not_a(_clean_array(" ".join(text.splitlines())))
        out = _to_str(arr[~self._drop[arr]])
        words = [w for w in re.split(r"([a-z0-9\u00c0-\u024f]+)", out)]
        words[1::2] = ["" if w in self._stop else w for w in words[1::2]]
        return " ".join("".join(words).split())

    def describe(self, units: str) -> list[str]:
        """Readable names of a unit string: syllables and (stemmed) words."""
        special = {int(self._special[cp]): chr(cp) for cp in np.flatnonzero(self._special != np.arange(_NCODES))}
        return [_SYLLABLES.name.get(u) or _WORDS.name.get(ord(u)) or special.get(ord(u))
                or (f"<{self._frame_names[ord(u)]}>" if ord(u) in self._frame_names else u) for u in units]

    def tokens(self, text: str) -> list[str]:
        """`text` as the matcher sees it: ['zi', 'yu', 'ming', 'bei', 'an'] for 子域名备案."""
        return self.describe(self.units(text))


def join_chunks(chunks: Sequence[np.ndarray]) -> np.ndarray:
    """The pieces of `Normalizer.units_chunks` in one array, joined by 10 ("\\n")."""
    if not chunks:
        return np.zeros(0, dtype=np.uint32)
    nl = np.array([_NL], dtype=np.uint32)
    parts: list[np.ndarray] = []
    for arr in chunks:
        parts += [arr, nl]
    return np.concatenate(parts[:-1])


def _overlapped(word: tuple[int, ...], patterns: set[tuple[int, ...]], heads: set[tuple[int, ...]]) -> bool:
    """Would one of `patterns` take units of `word` when read from inside it: as a shorter part of
    it, or starting inside it and running on past its end (the word's tail is then a proper
    prefix of the pattern: one of `heads`)? Set lookups of the word's pieces, where comparing
    the word with every pattern took ~0.1 s per normaliser."""
    n = len(word)
    if any(word[i:j] in patterns for i in range(n) for j in range(i + 1, n + 1) if j - i < n):
        return True
    return any(word[i:] in heads for i in range(1, n))


def _a_not_a(arr: np.ndarray) -> np.ndarray:
    """能不能 → 能, 需不需要 → 需要, 有没有 → 有: drop 不X / 没X right after a Chinese character X."""
    if arr.size < 3:
        return arr
    inner = arr[1:-1]
    # two compares: ~3× faster than a gather from a code-point table over every character
    mid = np.flatnonzero((inner == _BU) | (inner == _MEI)) + 1
    if mid.size == 0:
        return arr
    ok = (arr[mid - 1] == arr[mid + 1]) & _CJK_LUT[arr[mid - 1]]
    mid = mid[ok]
    if mid.size == 0:
        return arr
    keep = np.ones(arr.size, dtype=bool)
    keep[mid] = False
    keep[mid + 1] = False
    return arr[keep]


def cut(text: str, limit: int = MAX_QUESTION_CHARS) -> tuple[str, bool]:
    """`text` stripped and cut to `limit` characters; whether it was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text, False
    return text[:limit], True
