"""SkipDropout: LoRA's input dropout drawn by geometric gaps on a CPU, with nn.Dropout's distribution."""
from __future__ import annotations

import math

import torch

from tests.conftest import make_tiny
from tuneforge import binding
from tuneforge.peft._skip_dropout import SkipDropout, drop_positions


def test_each_element_is_dropped_independently_with_probability_p():
    torch.manual_seed(0)
    n, p, trials = 10_000, 0.05, 200
    counts = torch.zeros(n)
    per_trial = []
    for _ in range(trials):
        positions = drop_positions(n, p)
        assert positions.unique().numel() == positions.numel() and 0 <= positions.min() and positions.max() < n
        counts[positions] += 1
        per_trial.append(positions.numel())
    total = sum(per_trial)
    sigma = math.sqrt(n * trials * p * (1 - p))
    assert abs(total - n * trials * p) < 5 * sigma  # the rate
    # every position alike: each count ~ Binomial(trials, p); the first and last positions are not special
    assert abs(counts.mean().item() - trials * p) < 0.05
    assert abs(counts.var().item() - trials * p * (1 - p)) < 0.15 * trials * p * (1 - p)
    for part in (counts[:100], counts[-100:], counts[n // 2 - 50:n // 2 + 50]):
        assert abs(part.mean().item() - trials * p) < 5 * math.sqrt(trials * p * (1 - p) / 100)
    # independence between neighbours: P(both dropped) = p^2
    both = 0
    for _ in range(trials):
        mask = torch.zeros(n, dtype=torch.bool)
        mask[drop_positions(n, p)] = True
        both += (mask[1:] & mask[:-1]).sum().item()
    expected = (n - 1) * trials * p * p
    assert abs(both - expected) < 5 * math.sqrt(expected)


def test_more_gaps_are_drawn_when_the_first_chunk_falls_short():
    torch.manual_seed(0)
    whole = drop_positions(1000, 0.3)
    torch.manual_seed(0)
    pieces = drop_positions(1000, 0.3, chunk=7)  # ~43 chunks of gaps instead of one: the same process
    assert (pieces < 1000).all() and pieces.unique().numel() == pieces.numel()
    assert abs(pieces.numel() - 300) < 5 * math.sqrt(1000 * 0.3 * 0.7) and abs(whole.numel() - 300) < 70
    assert drop_positions(10, 1e-6).numel() == 0


def test_values_gradient_and_modes():
    torch.manual_seed(0)
    dropout = SkipDropout(0.1)
    x = torch.randn(300, 64, requires_grad=True)
    y = dropout(x)
    kept = y != 0
    assert torch.allclose(y[kept], x[kept] / 0.9)
    assert 0.05 < 1 - kept.float().mean().item() < 0.15
    y.sum().backward()
    assert torch.allclose(x.grad, kept.float() / 0.9)
    dropout.eval()
    assert dropout(x) is x  # eval: nn.Dropout's identity
    bf16 = SkipDropout(0.05)(torch.ones(1000, 100, dtype=torch.bfloat16))
    scaled = torch.tensor(1 / 0.95).bfloat16().item()
    assert bf16.dtype == torch.bfloat16 and set(bf16.unique().tolist()) == {0.0, scaled}


def test_seeded_runs_draw_the_same_masks():
    x = torch.ones(100, 100)
    torch.manual_seed(3)
    a = SkipDropout(0.05)(x)
    torch.manual_seed(3)
    assert torch.equal(a, SkipDropout(0.05)(x))


def test_lora_gets_it_in_every_module(byte_tokenizer):
    model, tok = make_tiny()
    lora = binding.build("peft", {"name": "lora", "r": 4, "dropout": 0.1}, "peft").apply(model, tok)
    dropouts = [d for m in lora.modules() if isinstance(getattr(m, "lora_dropout", None), torch.nn.ModuleDict)
                for d in m.lora_dropout.values()]
    assert dropouts and all(type(d) is SkipDropout and d.p == 0.1 for d in dropouts)
    lora.train()
    ids = torch.randint(0, 200, (2, 16))
    for name, p in lora.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)
    with torch.no_grad():
        assert not torch.equal(lora(input_ids=ids).logits, lora(input_ids=ids).logits)  # masks drawn per call
        lora.eval()
        assert torch.equal(lora(input_ids=ids).logits, lora(input_ids=ids).logits)
