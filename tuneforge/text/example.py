"""The record every data builder produces: a conversation in OpenAI `messages` form."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("system", "user", "assistant")


@dataclass
class Example:
    """One training example: `messages` is a list of {"role", "content"} dicts."""

    messages: list[dict[str, str]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def prompt_messages(self) -> list[dict[str, str]]:
        """Everything before the final assistant reply (what a model is given at inference)."""
        last = max((i for i, m in enumerate(self.messages) if m["role"] == "assistant"), default=None)
        return self.messages if last is None else self.messages[:last]

    @property
    def reference(self) -> str:
        """The final assistant reply (the expected output)."""
        replies = [m["content"] for m in self.messages if m["role"] == "assistant"]
        return replies[-1] if replies else ""

    @classmethod
    def single_turn(cls, prompt: str, response: str, system: str | None = None, **meta: Any) -> Example:
        messages = [{"role": "system", "content": system}] if system else []
        messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
        return cls(messages, dict(meta))
