"""Activation checkpointing on CUDA (LoRA, bf16 autocast): the same loss and gradients as without it, and a
lower peak of torch.cuda.max_memory_allocated."""
from __future__ import annotations

import torch

from tests.conftest import make_tiny
from tuneforge import binding


def _step(checkpointing: bool) -> tuple[float, list[torch.Tensor], int]:
    model, tok = make_tiny(hidden_size=256, num_layers=4, num_heads=4, gradient_checkpointing=checkpointing)
    torch.manual_seed(1)
    model = binding.build("peft", {"name": "lora", "r": 8, "dropout": 0.0}, "peft").apply(model, tok)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.02)
    model = model.cuda().train()
    ids = torch.randint(3, 250, (8, 512), generator=torch.Generator().manual_seed(0)).cuda()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = torch.cuda.memory_allocated()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = model(input_ids=ids, labels=ids, use_cache=False).loss
    loss.backward()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - start
    grads = [p.grad.float().cpu() for p in model.parameters() if p.requires_grad]
    return loss.item(), grads, peak


def test_checkpointing_keeps_the_loss_and_lowers_the_peak_on_cuda():
    plain_loss, plain_grads, plain_peak = _step(False)
    ck_loss, ck_grads, ck_peak = _step(True)
    assert abs(plain_loss - ck_loss) < 1e-3, (plain_loss, ck_loss)  # bf16 autocast, same kernels replayed
    for a, b in zip(plain_grads, ck_grads):
        assert torch.allclose(a, b, atol=1e-3, rtol=2e-2)
    assert ck_peak < 0.6 * plain_peak, (ck_peak, plain_peak)
