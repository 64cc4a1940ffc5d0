"""Each metric against a hand-checked example or a direct computation."""
from __future__ import annotations

import math

import pytest
import torch

from tests.conftest import make_tiny
from tuneforge import binding
from tuneforge.metrics.base import EvalInputs
from tuneforge.data.example import Example
from tuneforge.template.named import get_template


def metric(name: str, **kw):
    return binding.build("metric", {"name": name, **kw}, f"metrics.{name}")


def inputs(pairs, predictions=None, **kw) -> EvalInputs:
    return EvalInputs([Example.single_turn(p, r) for p, r in pairs], predictions, **kw)


def test_exact_match_hand_checked():
    data = inputs([("q1", "Paris"), ("q2", "4"), ("q3", "yes")], [" Paris\n", "four", "Yes"])
    assert metric("exact_match").compute(data) == pytest.approx(1 / 3)
    assert metric("exact_match", ignore_case=True).compute(data) == pytest.approx(2 / 3)
    assert metric("exact_match", strip=False).compute(data) == 0.0
    assert metric("exact_match", ignore_punctuation=True).compute(
        inputs([("q", "Hello, world!")], ["Hello world"])) == 1.0


def test_rouge_l_equals_rouge_score():
    from rouge_score.rouge_scorer import RougeScorer

    refs = ["the cat sat on the mat", "a quick brown fox", "Café au lait, s'il vous plaît", "x"]
    preds = ["the cat lay on a mat", "the quick brown dog jumps", "cafe au lait", ""]
    scorer = RougeScorer(["rougeL"])
    expected = [scorer.score(r, p)["rougeL"].fmeasure for r, p in zip(refs, preds)]
    rouge = metric("rouge_l")
    assert rouge.scores(preds, refs) == expected  # bit-identical
    assert rouge.compute(inputs([("q", r) for r in refs], preds)) == pytest.approx(sum(expected) / 4)
    assert rouge.scores(["the cat"], ["the cat"]) == [1.0]  # hand-checked: identical texts


def test_response_perplexity_matches_direct_logits(byte_tokenizer):
    model, tok = make_tiny(seed=3)
    template = get_template("plain")
    pairs = [("reverse abc", "cba"), ("upper hello", "HELLO"), ("sort dcba", "abcd")]
    got = metric("response_perplexity").compute(inputs(pairs, model=model, tokenizer=tok, template=template,
                                                       batch_size=2))
    nll, count = 0.0, 0
    with torch.no_grad():
        for prompt, reply in pairs:
            prompt_ids = tok(f"{prompt}\n", add_special_tokens=False)["input_ids"]
            reply_ids = tok(reply, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
            ids = torch.tensor([prompt_ids + reply_ids])
            logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), -1)
            for j, token in enumerate(reply_ids):
                nll -= logp[len(prompt_ids) + j - 1, token].item()
                count += 1
    assert got == pytest.approx(math.exp(nll / count), rel=1e-5)


def test_choice_accuracy_picks_the_most_likely_option():
    model, tok = make_tiny(seed=5)
    template = get_template("plain")
    options = ["yes", "no", "maybe"]
    prompts = ["is it red?", "is it blue?", "is it big?", "is it small?"]

    def loglik(prompt: str, option: str) -> float:
        p = tok(f"{prompt}\n", add_special_tokens=False)["input_ids"]
        o = tok(option, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=torch.tensor([p + o])).logits[0], -1)
        return sum(logp[len(p) + j - 1, t].item() for j, t in enumerate(o))

    best = [max(options, key=lambda o: loglik(p, o)) for p in prompts]
    refs = [best[0], best[1], next(o for o in options if o != best[2]), next(o for o in options if o != best[3])]
    examples = [Example.single_turn(p, r, options=options) for p, r in zip(prompts, refs)]
    acc = metric("choice_accuracy").compute(EvalInputs(examples, None, model, tok, template, 4))
    assert acc == 0.5


def test_choice_accuracy_needs_options():
    from tuneforge.errors import TuneforgeError

    with pytest.raises(TuneforgeError, match="needs meta\\['options'\\]"):
        model, tok = make_tiny()
        metric("choice_accuracy").compute(inputs([("q", "a")], model=model, tokenizer=tok,
                                                 template=get_template("plain")))
