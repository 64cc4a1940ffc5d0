"""Train every token (language modelling on the whole rendered text; padding is never trained)."""
from __future__ import annotations

from tuneforge.registry import register
from tuneforge.template.base import Span


@register("loss_masker", "full")
class Full:
    """Every token of the rendered example is trained: prompt, template text and reply."""

    def trained(self, token_spans: list[Span | None], num_messages: int) -> list[bool]:
        return [True] * len(token_spans)
