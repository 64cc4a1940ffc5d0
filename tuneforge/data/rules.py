"""Deterministic rule-based instruction tasks (the quickstart's built-in set).

Each task maps a random lowercase word to an answer by a fixed rule (reverse it, sort its letters,
upper-case it, ...). The test split holds words never seen in training, so exact match on it measures
whether the rule, not the words, was learned.
"""
from __future__ import annotations

import random
import string
from typing import Callable

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register
from tuneforge.data.example import Example
from tuneforge.data.base import Splits

RULES: dict[str, Callable[[str], str]] = {
    "reverse": lambda w: w[::-1],
    "sort": lambda w: "".join(sorted(w)),
    "upper": str.upper,
    "first": lambda w: w[0],
    "last": lambda w: w[-1],
    "double": lambda w: w + w,
}


@register("data_builder", "rules")
class RuleTasks:
    """Rule tasks ("reverse abc" -> "cba") with disjoint train / val / test words."""

    def __init__(self, tasks: list[str] = ("reverse", "sort", "upper"), num_train: int = 3000,
                 num_val: int = 96, num_test: int = 150, min_len: int = 3, max_len: int = 8,
                 seed: int = 0):
        unknown = [t for t in tasks if t not in RULES]
        if unknown:
            raise ConfigError(ConfigIssue("data.tasks", f"unknown task(s) {unknown}; known: {list(RULES)}"))
        if not 1 <= min_len <= max_len:
            raise ConfigError(ConfigIssue("data.min_len", f"need 1 <= min_len <= max_len, got {min_len}, {max_len}"))
        self.tasks, self.sizes = list(tasks), {"train": num_train, "val": num_val, "test": num_test}
        self.min_len, self.max_len, self.seed = min_len, max_len, seed

    def build(self) -> Splits:
        rng = random.Random(self.seed)
        used: set[str] = set()
        splits: Splits = {}
        for split in ("test", "val", "train"):  # held-out words are drawn first, then excluded
            examples = []
            while len(examples) < self.sizes[split]:
                word = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(self.min_len, self.max_len)))
                if word in used:
                    continue
                used.add(word)
                task = self.tasks[len(examples) % len(self.tasks)]
                examples.append(Example.single_turn(f"{task} {word}", RULES[task](word), task=task))
            splits[split] = examples
        return splits
