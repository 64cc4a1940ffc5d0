"""Instance heuristics: empty or over-long outputs, outputs that copy the input, template leftovers."""
from __future__ import annotations

import re
from typing import Sequence

from tuneforge.registry import register
from tuneforge.filters.base import Record, norm

_LEFTOVER = re.compile(r"^\s*(Task\s*\d*:|Example\s+\d+|Class label:|Output:|Input:)", re.M)


@register("filter", "output_format")
class OutputFormat:
    """Drop instances with an empty output, an output longer than `max_output_chars`, an output equal
    to the input, or prompt-template markers (Task:, Example 2, Class label:) left in the output."""

    stage = "instance"

    def __init__(self, max_output_chars: int = 4000, max_input_chars: int = 4000):
        self.name, self.max_output, self.max_input = "output_format", max_output_chars, max_input_chars

    def reason(self, rec: Record) -> str | None:
        out, inp = str(rec.get("output") or ""), str(rec.get("input") or "")
        if not out.strip():
            return "empty output"
        if len(out) > self.max_output:
            return f"output of {len(out)} chars > max_output_chars={self.max_output}"
        if len(inp) > self.max_input:
            return f"input of {len(inp)} chars > max_input_chars={self.max_input}"
        if inp.strip() and norm(inp) == norm(out):
            return "output equals the input"
        hit = _LEFTOVER.search(out)
        if hit:
            return f"template marker {hit.group(1)!r} left in the output"
        return None

    def check(self, records: Sequence[Record], pool: Sequence[Record]) -> list[str | None]:
        return [self.reason(r) for r in records]
