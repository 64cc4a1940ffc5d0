"""The loss-masker protocol, and the per-turn rules every masker's choice is finished with."""
from __future__ import annotations

from typing import Any, Protocol

from tuneforge.template.base import Span


class LossMasker(Protocol):
    def trained(self, token_spans: list[Span | None], num_messages: int) -> list[bool]:
        """One flag per token: True where the token's label is kept (trained), False for -100.

        `token_spans[i]` is the turn span token i starts in, or None for template text.
        """
        ...


def apply_turn_rules(trained: list[bool], token_spans: list[Span | None],
                     messages: list[dict[str, Any]]) -> list[bool]:
    """The masker's flags with two per-turn rules on top, whatever the masker: a tool turn (a tool's output)
    is context, never trained; a message's `train` flag (true / false) decides its turn's tokens."""
    flags = {i: m["train"] for i, m in enumerate(messages) if isinstance(m.get("train"), bool)}
    flags |= {i: flags.get(i, False) for i, m in enumerate(messages) if m.get("role") == "tool"}
    if not flags:  # the common case: the masker's choice as it is
        return trained
    out = list(trained)
    for i, span in enumerate(token_spans[:len(out)]):
        if span is not None and span.turn in flags:
            out[i] = flags[span.turn]
    return out
