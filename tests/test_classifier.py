"""The learned entry classifier (beian/classifier.py, knowledge/classifier.npz): current, used, and
never a reason to fail when its file is damaged."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from beian.classifier import CLASSIFIER_PATH, OUT_OF_SCOPE, EntryClassifier, fingerprint
from beian.kb import content_signature, load_kb
from beian.matcher import Matcher
from conftest import benchmark_script

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fit_classifier():
    return benchmark_script("fit_classifier")


@pytest.fixture(scope="module")
def training_rows(matcher, fit_classifier):
    return fit_classifier.training_rows(matcher)


def test_the_shipped_classifier_was_fitted_on_the_current_content(matcher, training_rows):
    # Phrasings, synonyms, the normaliser and the development questions all change what the
    # model should have learned; an editor who forgets to refit ships a model of other content.
    assert matcher.learned is not None, f"{CLASSIFIER_PATH} is missing"
    assert fingerprint((r.names, r.label) for r in training_rows) == matcher.learned.trained_on, (
        f"{CLASSIFIER_PATH} was fitted on other content: re-run `python benchmarks/fit_classifier.py --write`, "
        "then `python benchmarks/fit_gate.py --write`")
    assert set(matcher.learned.classes) == {e.id for e in matcher.entries} | {OUT_OF_SCOPE}


def test_a_question_worded_unlike_any_phrasing_is_answered_clearly_through_the_learned_model(matcher):
    # No phrasing speaks of an age: lexically the age limits and the individual's materials nearly
    # tie (a coin flip, or 您是不是想问…); development questions about minors taught the model which.
    question = "我才16岁能自己备案吗"
    lead = lambda m: (lambda r: r[0].score - r[1].score)(m.rank(question))  # noqa: E731
    answer = matcher.ask(question)
    assert answer.answered and answer.id == "faq-individual-limits", answer
    assert lead(matcher) > lead(matcher.with_classifier(None)) + 10


def test_probabilities_cover_every_entry_and_out_of_scope(matcher):
    units = matcher._query("怎么申请商标").units
    p = matcher.learned.probabilities(matcher.normalizer.unit_names(units))
    assert abs(sum(p.values()) - 1) < 1e-9
    assert max(p, key=p.get) == OUT_OF_SCOPE  # an off-topic question looks like the examples, not an entry
    assert matcher.learned.probabilities([]) and matcher.learned.probabilities(["\U000f0000", "never seen"])  # the prior


def _damaged(path: Path, how: str) -> None:
    good = np.load(ROOT / CLASSIFIER_PATH, allow_pickle=False)
    arrays = {k: good[k] for k in good.files}
    if how == "garbage":
        path.write_bytes(b"\x00\xffnot a model" * 100)
    elif how == "truncated":
        path.write_bytes((ROOT / CLASSIFIER_PATH).read_bytes()[:5000])
    elif how == "shapes":
        arrays["bias"] = arrays["bias"][:-1]
        np.savez(path, **arrays)
    elif how == "nan":
        arrays["weights"] = arrays["weights"].copy()
        arrays["weights"][0, 0] = np.nan
        np.savez(path, **arrays)
    elif how == "pickle":
        np.savez(path, **(arrays | {"classes": np.array([object()], dtype=object)}))
    elif how == "format":
        np.savez(path, **(arrays | {"format": np.array(99)}))


@pytest.mark.parametrize("how", ["garbage", "truncated", "shapes", "nan", "pickle", "format"])
def test_a_damaged_model_file_is_skipped_with_a_warning_and_answers_go_on(content_copy, how, caplog):
    _damaged(content_copy / CLASSIFIER_PATH, how)
    with caplog.at_level(logging.WARNING, logger="beian.classifier"):
        m = Matcher.build(load_kb(content_copy))
    assert m.learned is None
    assert "fit_classifier.py --write" in caplog.text
    a = m.ask("备案审核要多久")
    assert a.answered and a.id == "step-review"


def test_without_a_model_file_the_matcher_ranks_on_its_own(content_copy):
    (content_copy / CLASSIFIER_PATH).unlink()
    m = Matcher.build(load_kb(content_copy))
    assert m.learned is None and m.ask("二级域名需要单独备案吗").id == "faq-subdomain-separate-filing"


def test_refitting_the_model_reloads_the_app_engine(content_copy):
    before = content_signature(content_copy)
    path = content_copy / CLASSIFIER_PATH
    path.write_bytes(path.read_bytes() + b"\0")
    assert content_signature(content_copy) != before


def test_an_entry_the_model_does_not_know_still_ranks(matcher):
    # An entry added after the last fit has no class: it keeps its lexical score (probability 0).
    clf = matcher.learned
    keep = [i for i, c in enumerate(clf.classes) if c != "faq-renewal"]
    narrowed = EntryClassifier(clf.vocabulary, tuple(clf.classes[i] for i in keep), clf.weights[:, keep],
                               clf.bias[keep], clf.trained_on)
    ranked = matcher.with_classifier(narrowed).rank("备案到期了要续期吗")
    assert "faq-renewal" in [matcher.entries[r.index].id for r in ranked[:3]]


def test_no_training_question_is_an_eval_question_in_disguise(matcher, training_rows):
    # The classifier learns the development questions and the out-of-scope examples (and the gate
    # measures the closest example): one that normalises like an eval question — the same words
    # but for punctuation, fillers, synonyms or a homophone — would make eval/ report memory, not
    # generalisation. (Session 5 removed 284 such development questions and 69 examples.)
    import yaml

    eval_units = {}
    for path in sorted((ROOT / "eval").glob("*.yaml")):
        for q in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]:
            eval_units.setdefault(matcher._query(q["q"]).units, (path.name, q["q"]))
    clash = [(r.key, eval_units[r.units]) for r in training_rows
             if r.key[0] != "row" and r.units in eval_units]
    assert clash == [], f"remove these from benchmarks/dev_questions.yaml / knowledge/out_of_scope.yaml: {clash[:5]}"
