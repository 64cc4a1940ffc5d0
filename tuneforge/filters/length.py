"""Length heuristics: instructions of too few or too many words (Self-Instruct: <= 3 or > 150)."""
from __future__ import annotations

from typing import Sequence

from tuneforge.registry import register
from tuneforge.filters.base import Record


@register("filter", "length")
class Length:
    """Drop instructions with fewer than `min_words` or more than `max_words` words."""

    stage = "instruction"

    def __init__(self, min_words: int = 4, max_words: int = 150):
        self.name, self.min_words, self.max_words = "length", min_words, max_words

    def check(self, records: Sequence[Record], pool: Sequence[Record]) -> list[str | None]:
        out: list[str | None] = []
        for rec in records:
            n = len(str(rec.get("instruction") or "").split())
            if n < self.min_words:
                out.append(f"instruction has {n} words < min_words={self.min_words}")
            elif n > self.max_words:
                out.append(f"instruction has {n} words > max_words={self.max_words}")
            else:
                out.append(None)
        return out
