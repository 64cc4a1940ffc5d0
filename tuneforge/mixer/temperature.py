"""Temperature sampling: rate_i proportional to n_i^(1/T) (T=1: by size; larger T: flatter)."""
from __future__ import annotations

import random

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register
from tuneforge.mixer.base import Pick, draw


@register("mixer", "temperature")
class Temperature:
    """p_i = n_i^(1/T) / sum_j n_j^(1/T); `num_examples` picks (default: as many as all sources hold)."""

    def __init__(self, temperature: float = 2.0, num_examples: int | None = None):
        if temperature <= 0:
            raise ConfigError(ConfigIssue("data.mixer.temperature", f"expected T > 0, got {temperature}"))
        self.temperature, self.num_examples = float(temperature), num_examples

    def target(self, sizes: dict[str, int], weights: dict[str, float]) -> dict[str, float]:
        scaled = {n: s ** (1.0 / self.temperature) for n, s in sizes.items() if s > 0}
        total = sum(scaled.values()) or 1.0
        return {n: v / total for n, v in scaled.items()}

    def select(self, sizes: dict[str, int], weights: dict[str, float], rng: random.Random) -> list[Pick]:
        total = self.num_examples if self.num_examples is not None else sum(sizes.values())
        return draw(self.target(sizes, weights), sizes, total, rng)
