"""Linear warm-up then cosine decay (the Alpaca schedule)."""
from __future__ import annotations

import math

from tuneforge.registry import register
from tuneforge.scheduler.base import warmup_length, warmup_multiplier


@register("scheduler", "warmup_cosine")
class WarmupCosine:
    """Linear warm-up over W steps, then a_t = (1 + cos(t*pi/T)) / 2 * a_0, t counted after W,
    T = total - W; `min_ratio` floors the decay at min_ratio * a_0."""

    def __init__(self, warmup_steps: int = 0, warmup_ratio: float = 0.03, min_ratio: float = 0.0):
        self.warmup_steps, self.warmup_ratio, self.min_ratio = warmup_steps, warmup_ratio, min_ratio

    def multiplier(self, step: int, total_steps: int) -> float:
        warmup = warmup_length(self.warmup_steps, self.warmup_ratio, total_steps)
        warm = warmup_multiplier(step, warmup)
        if warm is not None:
            return warm
        t, T = step - warmup, max(1, total_steps - warmup)
        cosine = (1.0 + math.cos(min(t, T) * math.pi / T)) / 2.0
        return self.min_ratio + (1.0 - self.min_ratio) * cosine
