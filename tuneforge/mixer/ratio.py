"""Explicit mixing weights per source (e.g. 90 % instructions, 10 % pretraining text)."""
from __future__ import annotations

import random

from tuneforge.registry import register
from tuneforge.mixer.base import Pick, draw, normalise


@register("mixer", "ratio")
class Ratio:
    """Each pick comes from source i with probability w_i / sum(w), w_i being the source's `weight`;
    `num_examples` picks (default: as many as all sources hold)."""

    def __init__(self, num_examples: int | None = None):
        self.num_examples = num_examples

    def target(self, sizes: dict[str, int], weights: dict[str, float]) -> dict[str, float]:
        return normalise(weights, sizes, "data.sources.<name>.weight")

    def select(self, sizes: dict[str, int], weights: dict[str, float], rng: random.Random) -> list[Pick]:
        total = self.num_examples if self.num_examples is not None else sum(sizes.values())
        return draw(self.target(sizes, weights), sizes, total, rng)
