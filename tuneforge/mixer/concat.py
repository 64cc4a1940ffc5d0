"""Every example of every source, once (shares proportional to the sources' sizes)."""
from __future__ import annotations

import random

from tuneforge.registry import register
from tuneforge.mixer.base import Pick


@register("mixer", "concat")
class Concat:
    """All examples of all sources, once each: share_i = n_i / sum(n)."""

    def target(self, sizes: dict[str, int], weights: dict[str, float]) -> dict[str, float]:
        total = sum(sizes.values()) or 1
        return {n: s / total for n, s in sizes.items()}

    def select(self, sizes: dict[str, int], weights: dict[str, float], rng: random.Random) -> list[Pick]:
        return [(name, i) for name, size in sizes.items() for i in range(size)]
