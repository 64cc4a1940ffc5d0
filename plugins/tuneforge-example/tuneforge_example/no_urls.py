"""Filter `no_urls`: drop generated records that contain a URL (often hallucinated links)."""
from __future__ import annotations

import re
from typing import Sequence

from tuneforge.filters.base import Record
from tuneforge.registry import register

URL = re.compile(r"\b(?:https?://|ftp://|www\.)\S+", re.I)


@register("filter", "no_urls")
class NoUrls:
    """Drop a record whose `fields` (default: instruction, input, output) contain a URL."""

    def __init__(self, fields: list[str] = ["instruction", "input", "output"]):  # noqa: B006
        self.name, self.fields = "no_urls", list(fields)
        # a filter runs at one stage: "instruction" (only the instruction exists yet) or "instance"
        self.stage = "instruction" if self.fields == ["instruction"] else "instance"

    def check(self, records: Sequence[Record], pool: Sequence[Record]) -> list[str | None]:
        out: list[str | None] = []
        for rec in records:
            hit = next(((f, m.group(0)) for f in self.fields if (m := URL.search(str(rec.get(f) or "")))), None)
            out.append(f"{hit[0]} contains a URL ({hit[1][:60]})" if hit else None)
        return out
