"""The loss-masker protocol."""
from __future__ import annotations

from typing import Protocol

from tuneforge.template.base import Span


class LossMasker(Protocol):
    def trained(self, token_spans: list[Span | None], num_messages: int) -> list[bool]:
        """One flag per token: True where the token's label is kept (trained), False for -100.

        `token_spans[i]` is the turn span token i starts in, or None for template text.
        """
        ...
