"""Train only the final assistant turn; earlier replies are context, like the prompt."""
from __future__ import annotations

from tuneforge.registry import register
from tuneforge.template.base import Span


@register("loss_masker", "last_turn")
class LastTurn:
    """Only the last assistant turn (reply text and its end-of-turn / EOS token) is trained."""

    def trained(self, token_spans: list[Span | None], num_messages: int) -> list[bool]:
        last = max((s.turn for s in token_spans if s is not None and s.role == "assistant"), default=None)
        return [s is not None and s.role == "assistant" and s.turn == last for s in token_spans]
