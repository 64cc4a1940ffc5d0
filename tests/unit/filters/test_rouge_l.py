"""rouge_l.dedup gives exactly rouge_score's decisions (and F-measures, bit for bit)."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from tuneforge.filters.rouge_l import RougeIndex, RougeL, dedup

SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
WORDS = ("the a write list sort give explain why how numbers story poem summarize translate french "
         "sentence classify sentiment positive negative email café über naïve data table find largest "
         "three 3 x-ray e-mail co-op").split()


def reference(texts, threshold=0.7, pool=()):
    kept, out = [], []
    for t in texts:
        ok = all(SCORER.score(p, t)["rougeL"].fmeasure <= threshold for p in [*pool, *kept])
        out.append(ok)
        if ok:
            kept.append(t)
    return out


def random_texts(n, seed):
    rng = random.Random(seed)
    punct = ["", ".", "?", "!!", " ...", ";"]
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 10))) + rng.choice(punct) for _ in range(n)]


def test_decisions_equal_rouge_score():
    texts, pool = random_texts(400, 0), random_texts(60, 1)
    for threshold in (0.5, 0.7):
        assert dedup(texts, threshold, pool) == reference(texts, threshold, pool)
    # the task is not trivial: both outcomes occur
    assert 0 < sum(dedup(texts, 0.7, pool)) < len(texts)


def test_fmeasure_bit_identical():
    texts = random_texts(120, 2)
    index = RougeIndex()
    enc = [index.encode(t) for t in texts]
    f = index.fmeasure(enc, enc)
    for i in range(len(texts)):
        for j in range(len(texts)):
            assert f[i, j] == SCORER.score(texts[j], texts[i])["rougeL"].fmeasure


def test_boundary_and_empty():
    # F = 0.7 exactly is kept (> threshold drops), as in Self-Instruct
    a = "one two three four five six seven eight nine ten"
    b = "one two three four five six seven x y z"
    assert SCORER.score(a, b)["rougeL"].fmeasure == pytest.approx(0.7)
    assert dedup([b], 0.7, [a]) == reference([b], 0.7, [a])
    assert dedup(["", "!!!", ""], 0.7) == [True, True, True]  # no tokens: F = 0
    assert dedup([], 0.7, ["x"]) == []


def test_blocks_are_sequential(monkeypatch):
    """More texts than one block: later blocks still see earlier kept texts."""
    import tuneforge.filters.rouge_l as mod

    monkeypatch.setattr(mod, "_BLOCK", 16)
    texts, pool = random_texts(200, 3), random_texts(10, 4)
    assert dedup(texts, 0.6, pool) == reference(texts, 0.6, pool)


def test_non_ascii_limitation_and_unicode_option():
    # rouge_score's tokenizer keeps only [a-z0-9]: "café" and "cafe" differ ("caf"), CJK vanishes
    assert dedup(["中文 指令 一", "中文 指令 一"]) == [True, True]
    assert dedup(["中文 指令 一", "中文 指令 一"], tokenizer="unicode") == [True, False]
    assert dedup(["Crème brûlée recipe"], pool=["creme brulee recipe"]) == [True]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab cdé.!1", max_size=12), max_size=12),
       st.lists(st.text(alphabet="ab cd.!1", max_size=12), max_size=4),
       st.sampled_from([0.0, 0.3, 0.7, 1.0]))
def test_property_matches_reference(texts, pool, threshold):
    assert dedup(texts, threshold, pool) == reference(texts, threshold, pool)


def test_filter_reason_names_the_closest_text():
    flt = RougeL(threshold=0.7)
    reasons = flt.check([{"instruction": "Sort the given list of numbers"}, {"instruction": "Write a poem"}],
                        [{"instruction": "Sort the given list of numbers ascending"}])
    assert reasons[1] is None and "ROUGE-L" in reasons[0] and "ascending" in reasons[0]
