"""Constant learning rate (InstructGPT style), with an optional linear warm-up."""
from __future__ import annotations

from tuneforge.registry import register
from tuneforge.scheduler.base import warmup_length, warmup_multiplier


@register("scheduler", "constant")
class Constant:
    """a_t = a_0 after an optional linear warm-up."""

    def __init__(self, warmup_steps: int = 0, warmup_ratio: float = 0.0):
        self.warmup_steps, self.warmup_ratio = warmup_steps, warmup_ratio

    def multiplier(self, step: int, total_steps: int) -> float:
        warm = warmup_multiplier(step, warmup_length(self.warmup_steps, self.warmup_ratio, total_steps))
        return 1.0 if warm is None else warm
