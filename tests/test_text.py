"""Normalisation and tokenisation (beian/text.py): what a user types in different but equivalent
ways must reach the matcher as the same units."""
from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beian.text import MAX_QUESTION_CHARS, Normalizer, clean, cut, pinyin, stem

SYNONYMS = [
    ("子域名", ["二级域名", "subdomain", "sub domain"]),
    ("备案", ["icp备案", "域名备案", "filing"]),
    ("收费", ["费用", "fee", "cost"]),
]


@pytest.fixture(scope="module")
def norm() -> Normalizer:
    return Normalizer(SYNONYMS, frames=["什么", "怎么"])


@pytest.fixture(scope="module")
def bare() -> Normalizer:
    return Normalizer()


# ------------------------------------------------------------------------------------ cleaning

def test_full_width_and_case_are_folded():
    assert clean("ＩＣＰ备案，ＡＢＣ１２３！") == "icp备案 abc123"


def test_traditional_chinese_becomes_simplified():
    assert clean("二級域名需要單獨備案嗎") == "二级域名需要单独备案吗"


def test_punctuation_symbols_and_controls_become_single_spaces():
    assert clean("备案【流程】？？\t\x00要多久…") == "备案 流程 要多久"


def test_cleaning_never_fails_on_odd_text(bare):
    for text in ("\ud800坏", "\x00\x1f\u200b", "e\u0301", "㎏ ﬁle", "🙂🙂", "\n\r\n"):
        bare.units(text)  # no exception; lone surrogates, controls, combining marks, emoji


# --------------------------------------------------------------------------------- fillers etc.

def test_fillers_and_particles_do_not_change_the_question(norm):
    assert norm.units("请问一下，备案要多久呢？谢谢") == norm.units("备案要多久")


@pytest.mark.parametrize("feeling", ["急死了", "烦死了，头疼", "真是的，好崩溃"])
def test_how_the_asker_feels_does_not_change_the_question(norm, feeling):
    assert norm.units(f"备案审核要多久啊，{feeling}") == norm.units("备案审核要多久")


def test_only_fillers_leaves_nothing(norm):
    assert norm.units("请问一下吗？？") == ""
    assert norm.units("   ") == ""


def test_a_not_a_questions_reduce_to_the_verb(bare):
    assert bare.units("需不需要备案") == bare.units("需要备案")
    assert bare.units("能不能备案") == bare.units("能备案")
    assert bare.units("有没有限制") == bare.units("有限制")


def test_colloquial_question_words_are_standardised(bare):
    assert bare.units("啥是二级域名") == bare.units("什么是二级域名")
    assert bare.units("为啥要备案") == bare.units("为什么要备案")
    assert bare.units("咋备案") == bare.units("怎么备案")


def test_a_single_character_rewrite_leaves_its_homophones_alone(bare):
    # 啥 → 什么 must not turn 沙 (same syllable sha) into 什么
    assert bare.units("沙") != bare.units("什么")
    assert bare.units("沙") != bare.units("啥")


# ---------------------------------------------------------------------------- pinyin / typos

@pytest.mark.parametrize("typo, meant", [
    ("被案", "备案"),           # bei an
    ("审合", "审核"),           # shen he
    ("多旧", "多久"),           # duo jiu
    ("域明", "域名"),           # yu ming
    ("解洗", "解析"),           # jie xi
])
def test_homophone_typos_from_pinyin_input_vanish(bare, typo, meant):
    assert bare.units(typo) == bare.units(meant)


@pytest.mark.parametrize("typo, meant", [("后最", "后缀"), ("祖体", "主体"), ("民称", "名称"), ("擦询", "查询")])
def test_common_fuzzy_pinyin_confusions_vanish(bare, typo, meant):
    # zh/z, ch/c, sh/s and -ng/-n, as pinyin input methods offer them
    assert bare.units(typo) == bare.units(meant)


def test_different_words_stay_different(bare):
    assert bare.units("备案") != bare.units("注册")
    assert bare.units("收费") != bare.units("免费")


def test_pinyin_helper():
    assert pinyin("備案!") == ["bei", "an"]


# ------------------------------------------------------------------------------------ synonyms

def test_synonym_variants_become_the_canonical_word(norm):
    assert norm.units("二级域名") == norm.units("子域名")
    assert norm.units("费用") == norm.units("收费")


def test_a_homophone_typo_of_a_variant_is_rewritten_too(norm):
    assert norm.units("二级域明") == norm.units("子域名")


def test_longest_variant_wins_and_a_canonical_word_is_not_cut(norm):
    # 子域名 + 备案, not 子 + (域名备案 → 备案)
    assert norm.units("子域名备案") == norm.units("子域名") + norm.units("备案")
    assert norm.units("icp备案") == norm.units("备案")


def test_english_synonyms_meet_the_chinese_words(norm):
    assert norm.units("subdomains") == norm.units("子域名")
    assert norm.units("sub-domain") == norm.units("子域名")
    assert norm.units("ICP filing fee") == norm.units("icp") + norm.units("备案") + norm.units("收费")


def test_synonyms_do_not_rewrite_inside_unrelated_words(norm):
    # 费 alone is not a variant: 浪费时间 keeps its syllables
    assert norm.tokens("浪费") == ["lan", "fei"]


# ------------------------------------------------------------------------------------- English

def test_english_is_lower_cased_stemmed_and_stripped_of_stop_words(bare):
    assert bare.units("Filing") == bare.units("filed") == bare.units("files") == bare.units("file")
    assert bare.units("What is the fee for a domain?") == bare.units("what fee domain")
    assert stem("domains") == "domain"
    assert stem("requirements") == "requirement"


@pytest.mark.parametrize("contracted, plain", [("What's the fee?", "What is the fee?"),
                                               ("I'm filing my domain", "I am filing my domain"),
                                               ("We’ve been rejected", "We have been rejected")])
def test_english_contractions_leave_no_stray_letters(bare, contracted, plain):
    assert bare.units(contracted) == bare.units(plain)


def test_frames_are_single_units(norm):
    assert len(norm.units("什么")) == 1
    assert norm.tokens("什么是子域名")[0] == "<什么>"


# ------------------------------------------------------------------------------- batch = single

_pieces = st.sampled_from(["备案", "被案", "二级域名", "子域明", "请问", "吗", "需不需要", "审核", "多久", "，", "？",
                           " ", "ICP", "filing", "fees", "subdomain", "啥", "沙", "\n", "ｅｃｓ", "備案", "a", "1"])
_texts = st.lists(_pieces, max_size=12).map("".join) | st.text(max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(_texts, min_size=1, max_size=6))
def test_tokenising_many_texts_at_once_equals_one_by_one(norm, texts):
    # the index tokenises every phrasing in one vectorised pass; a question is tokenised alone
    assert norm.units_many(texts) == [norm.units(t) for t in texts]


@settings(max_examples=100, deadline=None)
@given(_texts)
def test_normalising_is_idempotent_on_clean_text(bare, text):
    once = clean(text)
    assert clean(once) == once


# ----------------------------------------------------------------------------------- length cap

def test_cut_caps_long_input_and_says_so():
    text, was_cut = cut("备" * (MAX_QUESTION_CHARS + 100))
    assert was_cut and len(text) == MAX_QUESTION_CHARS
    assert cut("  备案要多久  ") == ("备案要多久", False)


# ----------------------------------------------------------------- the vectorised rewriter itself

def _reference_rewrite(seq: list[int], table: dict[tuple[int, ...], tuple[int, ...]]) -> list[int]:
    """Plain left-to-right, longest-match-first rewriting: what the numpy version must equal."""
    longest = max(map(len, table)) if table else 0
    out, i = [], 0
    while i < len(seq):
        for n in range(min(longest, len(seq) - i), 0, -1):
            if tuple(seq[i:i + n]) in table:
                out.extend(table[tuple(seq[i:i + n])])
                i += n
                break
        else:
            out.append(seq[i])
            i += 1
    return out


_units = st.integers(min_value=0xE000, max_value=0xE005)
_table = st.dictionaries(st.lists(_units, min_size=1, max_size=4).map(tuple),
                         st.lists(_units, max_size=3).map(tuple), max_size=8)


@settings(max_examples=300, deadline=None)
@given(_table, st.lists(_units | st.just(10), max_size=60))
def test_vectorised_rewriting_equals_plain_longest_first_rewriting(table, seq):
    import numpy as np

    from beian.text import _Rewriter

    # patterns never contain the text separator (10); a separator is never rewritten
    got = _Rewriter(table)(np.asarray(seq, dtype=np.uint32)).tolist()
    assert got == _reference_rewrite(seq, table)


# ------------------------------------------------------------ word coding and the threaded index

@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0x30, max_value=0x24F), min_size=1, max_size=12), min_size=1, max_size=8),
       st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=8))
def test_word_hashes_by_prefix_sums_equal_the_plain_polynomial(words, gaps):
    import numpy as np

    from beian.text import _P, _word_hashes

    arr, starts, ends = [], [], []
    for w, g in zip(words, gaps * len(words)):
        arr += [32] * g
        starts.append(len(arr))
        arr += w
        ends.append(len(arr))
    got = _word_hashes(np.asarray(arr, dtype=np.uint32), np.asarray(starts), np.asarray(ends)).tolist()
    p = int(_P)
    assert got == [sum((c + 1) * pow(p, k, 1 << 64) for k, c in enumerate(w)) % (1 << 64) for w in words]


def test_the_open_word_table_finds_every_hash_even_when_they_crowd_together():
    import numpy as np

    from beian.text import _open_table, _probe

    rng = np.random.default_rng(3)
    hashes = np.unique(rng.integers(0, 1 << 63, 200, dtype=np.uint64))
    hashes[0] = 0  # a hash of 0 is a word like any other (empty slots are told by their code)
    codes = np.arange(hashes.size, dtype=np.int32)
    for bits in (8, 10):  # nearly full, and a quarter full
        table = _open_table(hashes, codes, bits)
        assert _probe(table, hashes).tolist() == codes.tolist()
        assert (_probe(table, rng.integers(0, 1 << 63, 500, dtype=np.uint64)) == -1).all()


def test_threads_code_new_words_in_chunk_order(monkeypatch):
    # Words are numbered in order of first sight; chunks on two threads must not change that
    # (it shapes the index), so words first seen in an earlier chunk get the smaller codes.
    import random

    import beian.text as text

    monkeypatch.setattr(text, "_CHUNK_TEXTS", 40)
    letters = "bcdfghjkmnpqrtvwxz"  # no vowels or s: no stemming rule applies
    for seed in range(3):  # unordered, the threads got it wrong in ~8 of 10 runs like this one
        rng = random.Random(seed)
        texts = [" ".join("q" + "".join(rng.choice(letters) for _ in range(9)) for _ in range(3)) for _ in range(1200)]
        Normalizer().units_array(texts)
        codes = [[text._WORDS.stem_code[w] for w in t.split()] for t in texts]
        by_chunk = [sum(codes[i:i + 40], []) for i in range(0, len(codes), 40)]
        assert all(max(a) < min(b) for a, b in zip(by_chunk, by_chunk[1:]))


def test_a_chunk_that_fails_while_indexing_does_not_leave_the_others_waiting(monkeypatch):
    # chunks register new words in turn; one that raises (MemoryError on a huge KB) must fail the
    # build, not hang the chunks queued behind it
    import beian.text as text_module

    n = Normalizer()
    monkeypatch.setattr(text_module, "_CHUNK_TEXTS", 2)
    real = n._units_joined

    def flaky(texts, rewrite, turn=None):
        if "boom" in texts[0]:
            raise MemoryError("simulated")
        return real(texts, rewrite, turn)

    monkeypatch.setattr(n, "_units_joined", flaky)
    result: list = []
    worker = threading.Thread(daemon=True, target=lambda: result.append(_raises(lambda: n.units_array(
        ["boom one", "x", "new words alpha", "beta", "gamma delta", "epsilon"]))))
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive() and result == [MemoryError]


def _raises(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test looks at which
        return type(exc)
    return None
