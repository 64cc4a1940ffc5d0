"""Drop instructions that a text-only model cannot serve (they mention images, files, drawing, ...)."""
from __future__ import annotations

import re
from typing import Sequence

from tuneforge.registry import register
from tuneforge.filters.base import Record

#: Self-Instruct's list of keywords.
DEFAULT_KEYWORDS = ["image", "images", "graph", "graphs", "picture", "pictures", "file", "files",
                    "map", "maps", "draw", "plot", "go to", "video", "audio", "flowchart", "diagram"]


@register("filter", "keywords")
class Keywords:
    """Drop records whose field contains one of `words` (whole words, case-insensitive)."""

    stage = "instruction"

    def __init__(self, words: list[str] = DEFAULT_KEYWORDS, field: str = "instruction"):  # noqa: B006
        self.name, self.field = "keywords", field
        self.stage = "instruction" if field == "instruction" else "instance"
        self.pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.I) if words else None

    def check(self, records: Sequence[Record], pool: Sequence[Record]) -> list[str | None]:
        out: list[str | None] = []
        for rec in records:
            hit = self.pattern.search(str(rec.get(self.field) or "")) if self.pattern else None
            out.append(f"mentions {hit.group(0).lower()!r}, which a text model cannot serve" if hit else None)
        return out
