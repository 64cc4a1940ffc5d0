"""The mixer protocol and the shared sampler.

A mixer turns the sizes of the sources' training splits into a list of (source, index) picks. Sampling
mixers give each source a probability p_i and draw `num_examples` picks: the source of each pick is
drawn from p, and within a source examples are taken in a seeded random order, without repetition
until the source is exhausted (then a fresh order: upsampling repeats whole passes).
"""
from __future__ import annotations

import random
from typing import Protocol

from tuneforge.errors import ConfigError, ConfigIssue

Pick = tuple[str, int]  # (source name, index into that source's training examples)


class Mixer(Protocol):
    def target(self, sizes: dict[str, int], weights: dict[str, float]) -> dict[str, float]:
        """The intended share of each source in the mixed training set (sums to 1); `weights` are the
        sources' `weight` keys (1.0 where not given)."""
        ...

    def select(self, sizes: dict[str, int], weights: dict[str, float], rng: random.Random) -> list[Pick]:
        """The mixed training set as (source, index) picks."""
        ...


def draw(probs: dict[str, float], sizes: dict[str, int], total: int, rng: random.Random) -> list[Pick]:
    """`total` picks: the source of each drawn from `probs`, examples cycled in a seeded order."""
    names = [n for n in probs if probs[n] > 0 and sizes.get(n, 0) > 0]
    if not names:
        return []
    weights = [probs[n] for n in names]
    orders: dict[str, list[int]] = {n: [] for n in names}
    picks = []
    for name in rng.choices(names, weights=weights, k=total):
        if not orders[name]:
            orders[name] = rng.sample(range(sizes[name]), sizes[name])
        picks.append((name, orders[name].pop()))
    return picks


def take(sizes: dict[str, int], counts: dict[str, int], rng: random.Random) -> list[Pick]:
    """Exactly `counts[n]` picks of source n (cycling when more than its size), shuffled."""
    picks = []
    for name, count in counts.items():
        size = sizes.get(name, 0)
        if size == 0 or count <= 0:
            continue
        full, rest = divmod(count, size)
        for _ in range(full):
            picks += [(name, i) for i in rng.sample(range(size), size)]
        picks += [(name, i) for i in rng.sample(range(size), rest)]
    rng.shuffle(picks)
    return picks


def normalise(weights: dict[str, float], sizes: dict[str, int], path: str) -> dict[str, float]:
    """Weights over the sources that have examples, scaled to sum to 1."""
    live = {n: float(weights.get(n, 0.0)) for n in sizes if sizes[n] > 0}
    total = sum(live.values())
    if total <= 0:
        raise ConfigError(ConfigIssue(path, "the weights of the sources with examples sum to 0"))
    return {n: w / total for n, w in live.items()}
