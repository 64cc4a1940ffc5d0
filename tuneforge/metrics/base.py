"""The metric protocol."""
from __future__ import annotations

from typing import Protocol


class Metric(Protocol):
    def compute(self, predictions: list[str], references: list[str]) -> float:
        """The metric over the whole set (a mean in [0, 1] for per-example scores)."""
        ...
