"""The LLM backend protocol, its reply type and the counters every backend keeps."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from tuneforge.errors import TuneforgeError


@dataclass
class Completion:
    """One prompt's result: `text` on success, else `error` says why it failed (after retries)."""

    text: str | None
    error: str | None = None
    finish_reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.text is not None


@dataclass
class LLMStats:
    requests: int = 0  # attempts sent (retries included)
    retries: int = 0
    failures: int = 0  # prompts given up on
    errors: Counter = field(default_factory=Counter)  # error kind -> attempts that hit it

    def as_dict(self) -> dict:
        return {"requests": self.requests, "retries": self.retries, "failures": self.failures,
                "errors": dict(self.errors)}


class LLMFatalError(TuneforgeError):
    """A failure no retry can fix (bad key, unknown model): the run stops with this message."""


class LLM(Protocol):
    """A backend may also have `mode` ("chat": prompts go as user messages to an instruction-tuned
    model; "completion": the model continues the text) and `structured` (true: it accepts a
    `schema=` JSON schema in `generate` and makes the server answer with JSON of that schema)."""

    model_name: str  # recorded in every record's lineage
    stats: LLMStats

    def generate(self, prompts: Sequence[str], *, max_tokens: int | None = None,
                 temperature: float | None = None, top_p: float | None = None,
                 stop: Sequence[str] | None = None) -> list[Completion]:
        """Complete every prompt (a user message for chat models); same order as `prompts`."""
        ...

    def close(self) -> None:
        ...


def prompt_mode(llm: object) -> str:
    """"chat" or "completion": the backend's `mode`, else "chat" unless it has `chat_template` false
    (a backend that says nothing is taken for a chat model: the teachers users run are)."""
    mode = getattr(llm, "mode", None)
    if mode in ("chat", "completion"):
        return mode
    return "completion" if getattr(llm, "chat_template", True) is False else "chat"
