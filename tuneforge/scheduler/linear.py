"""Linear warm-up then linear decay to zero."""
from __future__ import annotations

from tuneforge.registry import register
from tuneforge.scheduler.base import warmup_length, warmup_multiplier


@register("scheduler", "linear")
class Linear:
    """Linear warm-up over W steps, then a_t = a_0 * (T - t) / (T - W), reaching 0 at T."""

    def __init__(self, warmup_steps: int = 0, warmup_ratio: float = 0.0):
        self.warmup_steps, self.warmup_ratio = warmup_steps, warmup_ratio

    def multiplier(self, step: int, total_steps: int) -> float:
        warmup = warmup_length(self.warmup_steps, self.warmup_ratio, total_steps)
        warm = warmup_multiplier(step, warmup)
        if warm is not None:
            return warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))
