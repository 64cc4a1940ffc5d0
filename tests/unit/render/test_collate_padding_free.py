"""`data.packing=padding_free`: the batch in one row, position ids restarting per example, no attention mask.
Isolation is the largest logit difference between an example inside the row and the same example alone,
for every attention implementation offered on CPU; the measure is shown to catch the silent leaks (a
cache, a 2D mask of ones)."""
from __future__ import annotations

import pytest
import torch

from tests.conftest import make_tiny
from tests.unit.lightning.test_packing import encoded
from tuneforge import binding
from tuneforge.data.base import LoaderSettings
from tuneforge.errors import ConfigError, TuneforgeError
from tuneforge.lightning.loaders import make_loader
from tuneforge.lightning.module import SFTModule
from tuneforge.model.attention import register as register_sdpa_fp32
from tuneforge.render.collate import Collator, PaddingFreeCollator, padding_free_problem
from tuneforge.render.encode import IGNORE_INDEX

ISOLATED = 1e-5  # packed vs alone, float32 logits
SAME_LOSS = 2e-6  # padding-free vs padded loss


def spans(batch) -> list[tuple[int, int]]:
    """(start, end) of each example in the row, from the restarting position ids."""
    starts = (batch["position_ids"][0] == 0).nonzero().squeeze(1).tolist()
    return list(zip(starts, [*starts[1:], batch["input_ids"].shape[1]]))


def worst_leak(model, batch, **inputs) -> float:
    with torch.no_grad():
        packed = model(**inputs).logits[0]
        return max((packed[a:b] - model(input_ids=batch["input_ids"][:, a:b], use_cache=False).logits[0])
                   .abs().max().item() for a, b in spans(batch))


def test_layout(byte_tokenizer):
    exs = encoded(byte_tokenizer)
    batch = PaddingFreeCollator(byte_tokenizer.pad_token_id)(exs)
    assert set(batch) == {"input_ids", "labels", "position_ids", "num_examples"}  # no mask: it would leak
    assert batch["input_ids"].shape == (1, sum(len(e.input_ids) for e in exs))  # one row, no padding
    for e, (a, b) in zip(exs, spans(batch)):
        assert batch["input_ids"][0, a:b].tolist() == e.input_ids
        assert batch["position_ids"][0, a:b].tolist() == list(range(b - a))
        assert batch["labels"][0, a:b].tolist() == [IGNORE_INDEX, *e.labels[1:]]
    assert len(spans(batch)) == batch["num_examples"] == len(exs)


@pytest.mark.parametrize("attn", ["sdpa", "sdpa_fp32", "eager"])
def test_examples_in_the_row_do_not_see_each_other(byte_tokenizer, attn):
    register_sdpa_fp32()
    model, tok = make_tiny(attn_implementation=attn)
    model.eval()
    batch = PaddingFreeCollator(tok.pad_token_id)(encoded(tok))
    inputs = SFTModule(model, None, None).model_inputs(batch)
    assert set(inputs) == {"input_ids", "position_ids"}
    assert worst_leak(model, batch, **inputs, use_cache=False) < ISOLATED
    # the traps the module avoids: a cache (the default) or any 2D mask make the row one sequence
    assert worst_leak(model, batch, **inputs) > 1e-2
    assert worst_leak(model, batch, **inputs, attention_mask=torch.ones_like(batch["input_ids"]),
                      use_cache=False) > 1e-2


@pytest.mark.parametrize("fused", [False, True])
def test_loss_and_gradients_equal_the_padded_ones_with_lora(byte_tokenizer, fused):
    model, tok = make_tiny(attn_implementation="sdpa")
    model = binding.build("peft", {"name": "lora", "r": 4, "dropout": 0.0}, "peft").apply(model, tok)
    for name, p in model.named_parameters():  # B starts at 0: give every LoRA tensor a gradient
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.02)
    module, exs = SFTModule(model, None, None, fused_loss=fused), encoded(tok)
    results = []
    for collate in (Collator(tok.pad_token_id), PaddingFreeCollator(tok.pad_token_id)):
        model.zero_grad()
        loss = module.loss(collate(exs))
        loss.backward()
        results.append((loss.item(), [p.grad.clone() for p in model.parameters() if p.requires_grad]))
    (padded, g_padded), (free, g_free) = results
    assert abs(padded - free) < SAME_LOSS
    assert max((a - b).abs().max().item() for a, b in zip(g_padded, g_free)) < 1e-5


def test_the_loader_builds_padding_free_batches(byte_tokenizer):
    settings = LoaderSettings(batch_size=4, packing="padding_free", shuffle=False)
    batch = next(iter(make_loader(encoded(byte_tokenizer), settings, 0, train=True, seed=0)))
    assert batch["input_ids"].shape[0] == 1 and batch["num_examples"] == 4


def test_refused_where_it_cannot_isolate(byte_tokenizer):
    model, tok = make_tiny()
    model = binding.build("peft", {"name": "prompt"}, "peft").apply(model, tok)
    with pytest.raises(TuneforgeError, match="padding_free.*prompt-learning"):
        SFTModule(model, None, None).loss(PaddingFreeCollator(tok.pad_token_id)(encoded(tok)))
    assert "position ids" in padding_free_problem("paged_attention", False)
    assert padding_free_problem("flash_attention_2", False) is None


def test_the_layout_is_checked_once_not_on_every_forward(byte_tokenizer, monkeypatch):
    from tuneforge.lightning import module as module_file

    calls = []
    monkeypatch.setattr(module_file, "layout_problem", lambda *a: calls.append(a[1]))
    model, tok = make_tiny()
    module = SFTModule(model, None, None)
    for _ in range(3):
        module.model_inputs(PaddingFreeCollator(tok.pad_token_id)(encoded(tok)))
    assert calls == ["padding_free"]


@pytest.mark.parametrize("overrides, key", [(["peft=prefix"], "prompt-learning"),
                                            (["model.attn_implementation=paged_attention"], "position ids")])
def test_the_config_is_refused_before_any_work(compose, overrides, key):
    from tuneforge.config.assemble import assemble

    cfg = compose("train", ["model=tiny", "data.packing=padding_free", *overrides, "run_dir=."])
    with pytest.raises(ConfigError, match=f"data.packing.*{key}"):
        assemble("train", cfg)
