"""Format heuristics on instructions: what a broken or truncated generation looks like."""
from __future__ import annotations

import string
import unicodedata
from typing import Sequence

from tuneforge.registry import register
from tuneforge.filters.base import Record


@register("filter", "format")
class Format:
    """Drop instructions that start with punctuation, start with a non-ASCII character (when
    `ascii_start`), begin with one of `banned_prefixes`, or hold control / replacement characters."""

    stage = "instruction"

    def __init__(self, ascii_start: bool = True, banned_prefixes: list[str] = ["Write a program"]):  # noqa: B006
        self.name, self.ascii_start, self.banned = "format", ascii_start, list(banned_prefixes)

    def reason(self, text: str) -> str | None:
        if not text:
            return "empty instruction"
        if text[0] in string.punctuation:
            return f"starts with punctuation {text[0]!r}"
        if self.ascii_start and not text[0].isascii():
            return f"starts with non-ASCII character {text[0]!r}"
        for prefix in self.banned:
            if text.lower().startswith(prefix.lower()):
                return f"starts with banned prefix {prefix!r}"
        if "\ufffd" in text:
            return "holds the Unicode replacement character (undecodable bytes)"
        bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cs", "Co") and c not in "\n\t\r"), None)
        if bad is not None:
            return f"holds control character {bad!r}"
        return None

    def check(self, records: Sequence[Record], pool: Sequence[Record]) -> list[str | None]:
        return [self.reason(str(r.get("instruction") or "").strip()) for r in records]
