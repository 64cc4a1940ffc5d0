"""Padding-free packing on CUDA: examples in one row isolated by their position ids alone, on sdpa (float32)
and flash_attention_2 (bf16, if flash_attn is installed); the padded loss within float32 tolerance."""
from __future__ import annotations

import importlib.util

import pytest
import torch

from tests.conftest import make_tiny
from tests.unit.lightning.test_packing import encoded
from tests.unit.render.test_collate_padding_free import spans
from tuneforge.lightning.module import SFTModule
from tuneforge.render.collate import Collator, PaddingFreeCollator

ATTENTION = [("sdpa", torch.float32, 1e-4),
             pytest.param("flash_attention_2", torch.bfloat16, 3e-2, marks=pytest.mark.skipif(
                 importlib.util.find_spec("flash_attn") is None, reason="flash_attn is not installed"))]


@pytest.mark.parametrize("attn, dtype, tolerance", ATTENTION)
def test_padding_free_rows_isolate_examples_on_cuda(byte_tokenizer, attn, dtype, tolerance):
    model, tok = make_tiny(attn_implementation=attn)
    model = model.to("cuda", dtype).eval()
    batch = {k: v.cuda() if torch.is_tensor(v) else v for k, v in PaddingFreeCollator(tok.pad_token_id)(encoded(tok)).items()}
    with torch.no_grad():
        packed = model(**SFTModule(model, None, None).model_inputs(batch), use_cache=False).logits[0].float()
        worst = max((packed[a:b] - model(input_ids=batch["input_ids"][:, a:b], use_cache=False).logits[0].float())
                    .abs().max().item() for a, b in spans(batch))
    assert worst < tolerance, worst


def test_padding_free_loss_equals_the_padded_loss_on_cuda(byte_tokenizer):
    model, tok = make_tiny(attn_implementation="sdpa")
    module = SFTModule(model.cuda(), None, None)
    exs = encoded(tok)
    losses = []
    for collate in (Collator(tok.pad_token_id), PaddingFreeCollator(tok.pad_token_id)):
        batch = {k: v.cuda() if torch.is_tensor(v) else v for k, v in collate(exs).items()}
        with torch.no_grad():
            losses.append(module.loss(batch).item())
    assert abs(losses[0] - losses[1]) < 1e-5, losses
