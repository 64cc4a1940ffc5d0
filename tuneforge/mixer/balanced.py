"""Balanced mixing: an equal share for every source, so that no source dominates the data distribution."""
from __future__ import annotations

import random

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register
from tuneforge.mixer.base import Pick, take


@register("mixer", "balanced")
class Balanced:
    """Every source contributes the same number of examples m: m = `cap` if set, else the size of the
    smallest source (`upsample: true`: the largest). A source smaller than m is repeated (upsample) or
    contributes all it has."""

    def __init__(self, cap: int | None = None, upsample: bool = False):
        if cap is not None and cap < 1:
            raise ConfigError(ConfigIssue("data.mixer.cap", f"expected a positive cap, got {cap}"))
        self.cap, self.upsample = cap, upsample

    def counts(self, sizes: dict[str, int]) -> dict[str, int]:
        live = {n: s for n, s in sizes.items() if s > 0}
        if not live:
            return {}
        m = self.cap if self.cap is not None else (max if self.upsample else min)(live.values())
        return {n: m if self.upsample else min(m, s) for n, s in live.items()}

    def target(self, sizes: dict[str, int], weights: dict[str, float]) -> dict[str, float]:
        counts = self.counts(sizes)
        total = sum(counts.values()) or 1
        return {n: c / total for n, c in counts.items()}

    def select(self, sizes: dict[str, int], weights: dict[str, float], rng: random.Random) -> list[Pick]:
        return take(sizes, self.counts(sizes), rng)
