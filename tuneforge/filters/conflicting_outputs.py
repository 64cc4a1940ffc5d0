"""Same instruction and input with different outputs: every record of such a group is dropped."""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from tuneforge.registry import register
from tuneforge.filters.base import Record, norm


@register("filter", "conflicting_outputs")
class ConflictingOutputs:
    """Drop records whose (instruction, input) also appears, in the pool or the batch, with another
    output: the task is ambiguous, so none of the answers is trusted."""

    stage = "instance"

    def __init__(self):
        self.name = "conflicting_outputs"

    def check(self, records: Sequence[Record], pool: Sequence[Record]) -> list[str | None]:
        outputs: dict[tuple[str, str], set[str]] = defaultdict(set)
        for rec in [*pool, *records]:
            outputs[(norm(rec.get("instruction")), norm(rec.get("input")))].add(norm(rec.get("output")))
        out: list[str | None] = []
        for rec in records:
            n = len(outputs[(norm(rec.get("instruction")), norm(rec.get("input")))])
            out.append(f"same instruction and input with {n} different outputs" if n > 1 else None)
        return out
