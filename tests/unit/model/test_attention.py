"""`sdpa_fp32`: attention in float32 for bfloat16 inputs on a CPU, `sdpa` itself otherwise; a CPU fit in
bf16 switches to it and back."""
from __future__ import annotations

import pytest
import torch

from tests.conftest import make_tiny
from tests.unit.lightning.test_packing import encoded
from tuneforge.model.attention import NAME, register, switch, wants_fp32_attention
from tuneforge.render.collate import Collator


def attention(model) -> str:
    return model.get_base_model().config._attn_implementation if hasattr(model, "get_base_model") \
        else model.config._attn_implementation


def logits_and_grads(model, batch, autocast: bool):
    model.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False)
    loss = torch.nn.functional.cross_entropy(out.logits.float().flatten(0, 1), batch["input_ids"].flatten())
    loss.backward()
    return out.logits.float(), torch.cat([p.grad.flatten().float() for p in model.parameters()])


def test_float32_inputs_give_exactly_sdpa(byte_tokenizer):
    register()
    batch = Collator(byte_tokenizer.pad_token_id)(encoded(byte_tokenizer, n=6))
    results = {}
    for attn in ("sdpa", NAME):
        model, _ = make_tiny(hidden_size=64, attn_implementation=attn)
        results[attn] = logits_and_grads(model, batch, autocast=False)
    assert torch.equal(results["sdpa"][0], results[NAME][0])
    assert torch.equal(results["sdpa"][1], results[NAME][1])


@pytest.mark.parametrize("bf16_weights", [True, False])
def test_bf16_inputs_are_attended_in_float32(byte_tokenizer, bf16_weights):
    """Closer to the float32 model than bf16 attention is, in logits and in gradients; padding stays masked.
    With float32 weights under autocast the rotary embedding hands float32 queries and keys to the attention,
    which autocast would still run in bf16."""
    register()
    batch = Collator(byte_tokenizer.pad_token_id)(encoded(byte_tokenizer, n=6))
    reference = logits_and_grads(make_tiny(hidden_size=64)[0], batch, autocast=False)
    errors = {}
    for attn in ("sdpa", NAME):
        model, _ = make_tiny(hidden_size=64, attn_implementation=attn)
        logits, grads = logits_and_grads(model.to(torch.bfloat16) if bf16_weights else model, batch, autocast=True)
        keep = batch["attention_mask"].bool()
        errors[attn] = ((logits - reference[0])[keep].abs().mean().item(),
                        ((grads - reference[1]).norm() / reference[1].norm()).item())
    assert errors[NAME][0] < errors["sdpa"][0] and errors[NAME][1] < errors["sdpa"][1], errors
    assert errors[NAME][1] < 0.05, errors  # bf16 projections only


def test_which_fits_switch(byte_tokenizer):
    model, _ = make_tiny()
    assert not wants_fp32_attention(model, "cpu", "32-true")
    assert wants_fp32_attention(model, "cpu", "bf16-mixed") and wants_fp32_attention(model, "cpu", "bf16-true")
    assert not wants_fp32_attention(model, "cuda", "bf16-mixed")
    assert wants_fp32_attention(model.to(torch.bfloat16), "cpu", "32-true")  # bf16 weights
    eager, _ = make_tiny(attn_implementation="eager")
    assert not wants_fp32_attention(eager, "cpu", "bf16-mixed")  # a chosen implementation is kept
    switch(model, True)
    assert attention(model) == NAME
    switch(model, False)
    assert attention(model) == "sdpa"
