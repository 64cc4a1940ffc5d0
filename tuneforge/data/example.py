"""The record every data builder produces: a conversation in OpenAI `messages` form, or raw text.

A conversation is rendered by a template and masked by the loss masker. Raw text (`text`, pretraining
data mixed into instruction tuning) has no turns: it is tokenized as it is, followed by EOS, and every
token is trained whatever `loss_mask` says.

A message is a dict with `role` (one of ROLES) and `content` (a string, possibly empty), and optionally:
`tool_calls` (an assistant's OpenAI tool calls, a list of dicts; its content may then be empty),
`tool_call_id` / `name` (a tool message's reply to a call) and `train` (a bool overriding the loss mask for
that turn: true trains an assistant turn, false masks any turn). Tool messages are context, never trained.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("system", "user", "assistant", "tool")


@dataclass
class Example:
    """One training example: `messages` is a list of {"role", "content", ...} dicts; or `text` (raw)."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. source, file, line, task
    text: str | None = None  # raw text: no template, all tokens trained

    @property
    def is_text(self) -> bool:
        return self.text is not None

    @property
    def prompt_messages(self) -> list[dict[str, Any]]:
        """Everything before the final assistant reply (what a model is given at inference)."""
        last = max((i for i, m in enumerate(self.messages) if m["role"] == "assistant"), default=None)
        return self.messages if last is None else self.messages[:last]

    @property
    def reference(self) -> str:
        """The final assistant reply (the expected output)."""
        replies = [m.get("content") or "" for m in self.messages if m["role"] == "assistant"]
        return replies[-1] if replies else ""

    @property
    def evaluable(self) -> bool:
        """Whether generation can be scored on it (a conversation ending in an assistant reply)."""
        return not self.is_text and bool(self.messages) and self.messages[-1]["role"] == "assistant"

    @classmethod
    def single_turn(cls, prompt: str, response: str, system: str | None = None, **meta: Any) -> Example:
        messages = [{"role": "system", "content": system}] if system else []
        messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
        return cls(messages, dict(meta))

    @classmethod
    def raw(cls, text: str, **meta: Any) -> Example:
        """A raw-text (pretraining) example."""
        return cls([], dict(meta), text)
