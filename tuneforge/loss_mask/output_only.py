"""Train only the responses (the seed's seq2seq-style loss): assistant turns with their EOS."""
from __future__ import annotations

from ..registry import register
from ..text.templates import Span


@register("loss_masker", "output_only")
class OutputOnly:
    """Only assistant-turn tokens (reply text and end-of-turn/EOS) are trained."""

    def trained(self, token_spans: list[Span | None], num_messages: int) -> list[bool]:
        return [span is not None and span.role == "assistant" for span in token_spans]
