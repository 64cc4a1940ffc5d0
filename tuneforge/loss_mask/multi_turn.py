"""Train every assistant turn of a conversation (the multi-turn loss): system and user not."""
from __future__ import annotations

from tuneforge.registry import register
from tuneforge.template.base import Span


@register("loss_masker", "multi_turn")
class MultiTurn:
    """Every assistant turn (reply text and its end-of-turn / EOS token) is trained; system and user
    turns and template headers are not. The whole dialogue is one example."""

    def trained(self, token_spans: list[Span | None], num_messages: int) -> list[bool]:
        return [span is not None and span.role == "assistant" for span in token_spans]
