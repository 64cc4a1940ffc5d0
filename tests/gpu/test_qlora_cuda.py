"""QLoRA on CUDA: the base in 4-bit computing in bf16, trained under the default precision (bf16-mixed): every
trainable tensor changes, also after a validation pass."""
from __future__ import annotations

import torch

from tests.conftest import make_tiny
from tests.gpu._fit import fit_on_cuda
from tuneforge import binding


def test_qlora_4bit_base_trains_in_bf16_on_cuda(byte_tokenizer):
    import bitsandbytes as bnb

    model, tok = make_tiny(hidden_size=64, num_layers=2, num_heads=2)
    model = binding.build("peft", {"name": "qlora", "r": 4, "dropout": 0.0}, "peft").apply(model, tok)
    linears = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert linears and all(m.compute_dtype == torch.bfloat16 for m in linears)
    assert all(m.weight.device.type == "cuda" for m in linears)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    trainer = fit_on_cuda(model, tok, steps=2)
    assert trainer.precision == "bf16-mixed" and trainer.global_step == 2
    after = dict(model.named_parameters())
    unchanged = [n for n, p in before.items() if torch.equal(p.cpu(), after[n].detach().cpu())]
    assert before and not unchanged, unchanged
