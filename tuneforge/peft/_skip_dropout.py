"""LoRA's input dropout on a CPU, drawn by skipping: the same distribution as `nn.Dropout`, ~4x faster.

peft applies `nn.Dropout(p)` to the input of every LoRA module (q, k, v ... each its own mask). On a CPU,
torch draws one Bernoulli number per element (~5 ns each): with LoRA on all linear layers of SmolLM2 these
draws were 16 % of a bf16 training step (torch.profiler). Each element is still dropped independently with
probability p, but the positions of the drops are found by their gaps, which are i.i.d. Geometric(p) in a Bernoulli
process: p * n draws instead of n (0.67 ms against 2.51 ms for 800 x 576 bf16 inputs at p = 0.05,
`benchmarks/cpu_step.py dropout`). Kept elements are scaled by 1 / (1 - p) as `nn.Dropout` does. GPUs, eval
mode and p > MAX_SKIP_P (where the gaps stop being few) use `nn.Dropout` itself.
"""
from __future__ import annotations

import math
from typing import Any

import torch

MAX_SKIP_P = 0.25


def drop_positions(n: int, p: float, device: Any = "cpu", chunk: int | None = None) -> torch.Tensor:
    """Flat indices in [0, n) of a Bernoulli(p) process: cumulative sums of Geometric(p) gaps (support 1, 2, ...),
    drawn `chunk` gaps at a time (by default enough in all but ~1e-9 of the calls)."""
    chunk = chunk or int(n * p + 6 * math.sqrt(n * p) + 16)
    positions = torch.empty(chunk, dtype=torch.int64, device=device).geometric_(p).cumsum_(0).sub_(1)
    parts = [positions]
    while parts[-1][-1] < n:
        last = parts[-1][-1]
        parts.append(torch.empty(chunk, dtype=torch.int64, device=device).geometric_(p).cumsum_(0).add_(last))
    positions = torch.cat(parts) if len(parts) > 1 else positions
    return positions[positions < n]


class SkipDropout(torch.nn.Dropout):
    """`nn.Dropout` whose CPU training path draws the dropped positions by their gaps (module docstring)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.device.type != "cpu" or self.p > MAX_SKIP_P or self.inplace:
            return super().forward(x)
        out = x.contiguous().mul(1.0 / (1.0 - self.p))
        return out.view(-1).index_fill(0, drop_positions(out.numel(), self.p), 0).view(out.shape)


def use_skip_dropout(model: torch.nn.Module) -> int:
    """Replace peft's LoRA input dropouts (`lora_dropout` modules that are `nn.Dropout`) by SkipDropout with the
    same p; returns how many were replaced."""
    replaced = 0
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if not isinstance(dropouts, torch.nn.ModuleDict):
            continue
        for name, dropout in list(dropouts.items()):
            if type(dropout) is torch.nn.Dropout:
                dropouts[name] = SkipDropout(dropout.p, dropout.inplace)
                replaced += 1
    return replaced
