"""Batched preparation gives exactly the input_ids and labels of the per-record path (`encode`) on real
tokenizers (the byte tokenizer, a trained byte-level BPE whose merges straddle turn boundaries, and SmolLM2's
49k BPE when its cached tokenizer is on this machine), over varied records: system prompts, multi-turn
dialogues, tool turns and per-message train flags, raw text, empty replies, truncation, records cut at the
character budget and records a template cannot render; and in prepare_data on 1 and 2 processes, with the
same rejects and line numbers."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.unit.template._bpe import bpe_tokenizer
from tuneforge.data.example import Example
from tuneforge.errors import TuneforgeError
from tuneforge.loss_mask.full import Full
from tuneforge.loss_mask.last_turn import LastTurn
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.render.batch import batch_token_turns, encode_batch
from tuneforge.render.encode import encode, token_turns
from tuneforge.template.base import Span
from tuneforge.template.named import TEMPLATES, get_template

SMOLLM2_DIR = Path("~/.cache/tuneforge/smollm2-135m-instruct").expanduser()
WORDS = ["the", "quick", "brown", "fox", "naïve", "café", "東京", "😀", "hello", "there", "assistant", "user",
         "\n", "  ", "1 + 1 = 2", "<|im_end|>", "don't", "e.g.", "\t"]


def text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def varied_examples(seed: int = 0, n: int = 24) -> list[Example]:
    rng = random.Random(seed)
    out = [Example.single_turn("hi", ""),  # empty reply: only the end-of-turn marker is trained
           Example.single_turn(text(rng, 3), text(rng, 4), system=text(rng, 5)),
           Example.single_turn(text(rng, 1500), "beyond the budget"),  # cut before tokenising (max_length 16)
           Example.raw(text(rng, 30)),
           Example([{"role": "user", "content": "weather?"},
                    {"role": "assistant", "content": "", "tool_calls": [{"name": "get", "arguments": {"q": 1}}]},
                    {"role": "tool", "content": "sunny"}, {"role": "assistant", "content": "It is sunny."}]),
           Example([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "train": False},
                    {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}])]
    for i in range(n):
        turns = [{"role": "system", "content": text(rng, rng.randint(1, 6))}] if i % 3 == 0 else []
        for _ in range(rng.randint(1, 4)):
            turns += [{"role": "user", "content": text(rng, rng.randint(0, 40))},
                      {"role": "assistant", "content": text(rng, rng.randint(0, 60))}]
        out.append(Example(turns))
    return out


def tokenizers() -> list:
    from tuneforge.model.byte_tokenizer import byte_tokenizer

    toks = [pytest.param(byte_tokenizer, id="byte"), pytest.param(bpe_tokenizer, id="bpe")]
    if (SMOLLM2_DIR / "tokenizer.json").is_file():
        from transformers import AutoTokenizer

        toks.append(pytest.param(lambda: AutoTokenizer.from_pretrained(SMOLLM2_DIR), id="smollm2"))
    return toks


def per_record(examples, tok, template, masker, max_length):
    out = []
    for example in examples:
        try:
            out.append(encode(example, tok, template, masker, max_length))
        except TuneforgeError as err:
            out.append(str(err))
    return out


@pytest.mark.parametrize("make", tokenizers())
def test_batched_encoding_is_the_per_record_encoding(make):
    tok = make()
    examples = varied_examples()
    templates = [TEMPLATES["chatml"], TEMPLATES["alpaca"], get_template("chat_template", tok)]
    if tok.chat_template and "generation" in tok.chat_template:  # the same template, spans from prefixes
        templates.append(get_template("jinja", tok, source=tok.chat_template.replace("{% generation %}", "")
                                      .replace("{% endgeneration %}", "")))
    compared = 0
    for template in templates:
        for masker, max_length in ((MultiTurn(), 48), (LastTurn(), 4096), (Full(), 16)):
            expected = per_record(examples, tok, template, masker, max_length)
            got = [e if not isinstance(e, TuneforgeError) else str(e)
                   for e in encode_batch(examples, tok, template, masker, max_length)]
            assert got == expected, f"{template.name} {type(masker).__name__} {max_length}"
            compared += sum(not isinstance(e, str) for e in expected)
            assert max_length > 100 or any(not isinstance(e, str) and e.truncated for e in expected)
    assert compared > 0.8 * len(examples) * len(templates) * 3  # most records encode (alpaca refuses tools)


def test_batch_token_turns_is_token_turns_on_awkward_offsets():
    """Random spans (disjoint, touching, overlapping, empty, past a cut) and offsets (zero-width, overlapping
    several spans, out of order): the batched rule picks what token_turns picks, token by token."""
    rng = random.Random(0)
    offsets, spans, lengths = [], [], []
    for _ in range(300):
        length = rng.randint(0, 60)
        cuts = sorted(rng.randint(0, length + 20) for _ in range(2 * rng.randint(0, 4)))
        record = [Span(a, b, rng.choice(["user", "assistant", "system"]), t)
                  for t, (a, b) in enumerate(zip(cuts[0::2], cuts[1::2]))]
        if rng.random() < 0.2 and length:
            record.append(Span(rng.randint(0, length), rng.randint(0, length), "assistant", 9))  # may overlap
        toks, pos = [], 0
        while pos < length:
            width = rng.choice([0, 1, 1, 2, 3, 5])
            toks.append((pos, min(length, pos + width)))
            pos += max(width, 1) if rng.random() < 0.95 else -min(pos, 3)  # now and then back
        offsets.append(toks)
        spans.append(record)
        lengths.append(length)
    skip = {3, 7}
    got = batch_token_turns(offsets, spans, lengths, skip)
    for r in range(len(offsets)):
        assert got[r] == (None if r in skip else token_turns(offsets[r], spans[r])), r


def alpaca_file(path: Path, n: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        record = {"instruction": text(rng, rng.randint(1, 12)), "output": text(rng, rng.randint(0, 40))}
        if i % 17 == 5:
            record["output"] = ""  # rejected by the builder: empty response
        lines.append(json.dumps(record, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("num_proc", [1, 2])
def test_prepare_data_batched_and_parallel_equals_per_record(tmp_path, monkeypatch, num_proc):
    """prepare_data (rejects with their lines included) on 1 and 2 processes equals the per-record path."""
    from tuneforge.data.alpaca import Alpaca
    from tuneforge.data.base import LoaderSettings
    from tuneforge.render import parallel, prepare

    tok = bpe_tokenizer()
    data = alpaca_file(tmp_path / "a.jsonl", 120)
    settings = LoaderSettings(max_length=128, truncation="drop", num_proc=num_proc, cache=False)
    monkeypatch.setattr(parallel, "BATCH", 16)  # several batches, so that two workers share them
    batched = prepare.prepare_data(Alpaca(path=str(data)), tok, TEMPLATES["alpaca"], MultiTurn(), settings,
                                   tmp_path / "a")

    def one_by_one(examples, tokenizer, template, masker, max_length, num_proc=1, description=""):
        return [encode(e, tokenizer, template, masker, max_length) for e in examples]

    monkeypatch.setattr(prepare, "encode_examples", one_by_one)
    reference = prepare.prepare_data(Alpaca(path=str(data)), tok, TEMPLATES["alpaca"], MultiTurn(), settings,
                                     tmp_path / "b")
    assert batched == reference
    kinds = {r["kind"] for r in batched.rejects}
    assert {"too_long", "empty_response"} <= kinds and all(r["line"] >= 1 for r in batched.rejects)
    assert (tmp_path / "a" / "rejects.jsonl").read_text() == (tmp_path / "b" / "rejects.jsonl").read_text()
