"""Work per record is bounded by max_length, not by the record's size: a 50 MB record is prepared within a
small, stated bound (2 s of encoding here), and the tokens kept equal those of tokenising the whole text."""
from __future__ import annotations

import random
import time

import pytest

from tests.unit.template._bpe import bpe_tokenizer
from tuneforge.data.example import Example
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.render.encode import char_budget, encode
from tuneforge.template.named import TEMPLATES

BOUND_S = 2.0  # the bound for a 50 MB record


def words(n_chars: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    vocab = ["the", "quick", "brown", "fox", "naïve", "café", "東京", "😀", "reply", "hello", "1 + 1 = 2"]
    out, size = [], 0
    while size < n_chars:
        w = rng.choice(vocab)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)[:n_chars]


@pytest.fixture(params=["byte", "bpe"])
def tokenizer(request, byte_tokenizer):
    return byte_tokenizer if request.param == "byte" else bpe_tokenizer()


def test_the_kept_tokens_equal_a_whole_tokenisation(tokenizer):
    """200 KB is small enough to tokenise whole: the cut changes nothing of the first max_length tokens."""
    text = words(200_000)
    for example in (Example.raw(text), Example.single_turn(text, "the answer")):
        full = tokenizer(TEMPLATES["chatml"].render(example.messages, eos=tokenizer.eos_token)[0]
                         if not example.is_text else (tokenizer.bos_token or "") + text + (tokenizer.eos_token or ""),
                         add_special_tokens=False)["input_ids"]
        enc = encode(example, tokenizer, TEMPLATES["chatml"], MultiTurn(), 512)
        assert enc.cut and enc.truncated and enc.length > 512
        assert enc.input_ids == full[:512]


def test_a_50_mb_record_costs_what_max_length_allows(tokenizer):
    text = words(50 * 2**20)
    assert char_budget(tokenizer, 512) < len(text) / 100
    start = time.process_time()  # CPU seconds: the bound is about work, not about a shared machine's load
    enc = encode(Example.single_turn(text, "short reply"), tokenizer, TEMPLATES["chatml"], MultiTurn(), 512)
    elapsed = time.process_time() - start
    assert len(enc.input_ids) == 512 and enc.truncated and enc.num_trained == 0  # the reply lies beyond
    assert elapsed < BOUND_S, f"{elapsed:.2f} CPU-s for one 50 MB record"
