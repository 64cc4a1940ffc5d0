"""Unit tests of the example plugin's components (a third party keeps tests like these next to the
plugin). Run with the plugin installed: `pip install -e plugins/tuneforge-example && pytest
plugins/tuneforge-example/tests`."""
from __future__ import annotations

import random

import pytest

from tuneforge.registry import entries, load_all

load_all()  # through the entry point first, so the components are attributed to this plugin
from tuneforge_example.audience import Audience  # noqa: E402
from tuneforge_example.bitfit import BitFit  # noqa: E402
from tuneforge_example.no_urls import NoUrls  # noqa: E402
from tuneforge_example.qa_text import QAText, parse  # noqa: E402
from tuneforge.errors import TuneforgeError  # noqa: E402


def test_registered_with_the_plugin_as_provider():
    mine = {(e.kind, e.name): e.provider for e in entries() if e.provider == "tuneforge-example"}
    assert set(mine) == {("data_builder", "qa_text"), ("filter", "no_urls"), ("evolution_op", "audience"),
                         ("peft", "bitfit")}


def tiny(seed: int = 0):
    import torch

    from tuneforge.model.tiny import TinyModel

    torch.manual_seed(seed)
    return TinyModel(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64).build()


def logits(model, ids):
    import torch

    with torch.no_grad():
        return model(input_ids=ids).logits


def test_bitfit_adds_zero_biases_trains_only_them_and_reloads_exactly(tmp_path):
    import torch

    model, tokenizer = tiny()
    ids = torch.randint(3, 250, (2, 10), generator=torch.Generator().manual_seed(0))
    before = logits(model, ids)
    method = BitFit()
    model = method.apply(model, tokenizer)
    assert torch.equal(logits(model, ids), before)  # zero biases: the same function before training
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.endswith(".bias") for n in trainable) and len(method.added) == 14  # 7 x 2 layers
    assert sum(p.numel() for n, p in model.named_parameters() if n in trainable) == 2 * (4 * 32 + 2 * 64 + 32)

    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    model(input_ids=ids, labels=ids).loss.backward()
    optimizer.step()
    assert all(torch.equal(p, frozen[n]) for n, p in model.named_parameters() if n in frozen)
    trained = logits(model, ids)
    assert not torch.allclose(trained, before)

    method.save(model, tokenizer, tmp_path)
    base, _ = tiny()
    reloaded = BitFit(target_modules=["q_proj"]).load(base, tmp_path)  # settings come from the saved run
    assert torch.equal(logits(reloaded, ids), trained)

    other, _ = tiny()
    other.model.layers = other.model.layers[:1]
    with pytest.raises(ValueError, match="differ from the trained one"):
        BitFit().load(other, tmp_path)


def test_qa_text_parses_blocks_and_holds_out_a_split(tmp_path):
    text = "Q: first\nquestion\nA: one\n\n\nQ: second\nA: two\nlines\n" + "".join(
        f"\nQ: q{i}\nA: a{i}\n" for i in range(8))
    assert parse(text)[:2] == [(1, "first\nquestion", "one"), (6, "second", "two\nlines")]
    with pytest.raises(TuneforgeError, match=r"f.txt:4: expected a block"):
        parse("Q: a\nA: b\n\nno question here\n", "f.txt")
    file = tmp_path / "qa.txt"
    file.write_text(text)
    splits = QAText(str(file), val_fraction=0.2, seed=1).build()
    assert len(splits["train"]) == 8 and len(splits["val"]) == 2
    by_question = {ex.messages[0]["content"]: ex for ex in splits["train"] + splits["val"]}
    assert by_question["first\nquestion"].messages[1] == {"role": "assistant", "content": "one"}
    assert by_question["second"].meta["line"] == 6 and len(by_question) == 10
    assert QAText(str(file), val_fraction=0.2, seed=1).build()["val"][0].messages == splits["val"][0].messages


def test_no_urls_drops_records_with_links():
    flt = NoUrls()
    records = [{"instruction": "Summarise", "output": "See https://example.com/a for more."},
               {"instruction": "Visit www.example.org", "output": "ok"}, {"instruction": "Add 2+2", "output": "4"}]
    reasons = flt.check(records, [])
    assert reasons[0] == "output contains a URL (https://example.com/a)"
    assert reasons[1].startswith("instruction contains a URL") and reasons[2] is None
    assert NoUrls(fields=["instruction"]).stage == "instruction" and flt.stage == "instance"


def test_audience_rewrites_for_one_of_the_audiences():
    op = Audience(audiences=["a chemist", "a child"])
    prompt = op.prompt("  Explain rust.  ", random.Random(3))
    assert prompt.startswith("I want you act as a Prompt Rewriter")
    assert "#Given Prompt#:\nExplain rust.\n#Rewritten Prompt#:" in prompt
    assert ("meant for a chemist" in prompt) != ("meant for a child" in prompt)
    assert op.prompt("x", random.Random(3)) == op.prompt("x", random.Random(3))
