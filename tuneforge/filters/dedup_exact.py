"""Exact duplicates (after lower-casing and collapsing whitespace) of pool or earlier kept records."""
from __future__ import annotations

from typing import Sequence

from tuneforge.registry import register
from tuneforge.filters.base import Record, norm


@register("filter", "dedup_exact")
class DedupExact:
    """Drop a record whose `fields` all equal (normalised) those of a pool or earlier kept record.
    With fields [instruction, input, output] (the default) it removes duplicate instances."""

    stage = "instance"

    def __init__(self, fields: list[str] = ["instruction", "input", "output"]):  # noqa: B006
        self.name, self.fields = "dedup_exact", list(fields)
        self.stage = "instruction" if self.fields == ["instruction"] else "instance"

    def key(self, rec: Record) -> tuple[str, ...]:
        return tuple(norm(rec.get(f)) for f in self.fields)

    def check(self, records: Sequence[Record], pool: Sequence[Record]) -> list[str | None]:
        seen = {self.key(p): "the pool" for p in pool}
        out: list[str | None] = []
        for i, rec in enumerate(records):
            k = self.key(rec)
            if k in seen:
                out.append(f"exact duplicate ({'+'.join(self.fields)}) of a record in {seen[k]}")
            else:
                seen[k] = f"this batch (#{i})"
                out.append(None)
        return out
