"""Dialogues: OpenAI `messages` ([{"role", "content"}]) and ShareGPT `conversations`
([{"from", "value"}], from = human / gpt / system) records, with system prompts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register
from tuneforge.data.example import Example
from tuneforge.data._file_source import FileSource
from tuneforge.data._records import RecordError

STYLES = ("auto", "messages", "sharegpt")
ROLE_NAMES = {"system": "system", "user": "user", "human": "user", "assistant": "assistant",
              "gpt": "assistant", "chatgpt": "assistant", "bot": "assistant", "model": "assistant"}


@register("data_builder", "dialogue")
@dataclass
class Dialogue(FileSource):
    """Multi-turn conversations -> one example each (the whole dialogue, as in the seed).

    `style`: auto (by which field is present), messages or sharegpt. A record's own `system` field
    (ShareGPT) or, failing that, the configured `system` prompt is put first when the conversation has
    no system turn. Records whose last assistant reply is empty, or with no assistant turn, are rejected.
    """

    style: str = "auto"
    system: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.style not in STYLES:
            raise ConfigError(ConfigIssue("data.style", f"expected one of {STYLES}, got {self.style!r}"))

    def parse(self, record: Any) -> Example:
        if not isinstance(record, dict):
            raise RecordError("not_an_object", f"expected a JSON object, got {type(record).__name__}")
        style = self.style
        if style == "auto":
            style = "messages" if "messages" in record else "sharegpt" if "conversations" in record else ""
            if not style:
                raise RecordError("missing_field", "missing field 'messages' (or 'conversations')")
        key, role_key, text_key = (("messages", "role", "content") if style == "messages"
                                   else ("conversations", "from", "value"))
        turns = record.get(key)
        if not isinstance(turns, list) or not turns:
            kind = "missing_field" if turns is None else "wrong_type"
            raise RecordError(kind, f"field {key!r} must be a non-empty list")
        messages = []
        for i, turn in enumerate(turns):
            if not isinstance(turn, dict):
                raise RecordError("wrong_type", f"{key}[{i}] must be an object")
            role, content = turn.get(role_key), turn.get(text_key)
            if role not in ROLE_NAMES:
                raise RecordError("unknown_role", f"{key}[{i}].{role_key}={role!r} is not one of "
                                                  f"{sorted(ROLE_NAMES)}")
            if not isinstance(content, str):
                raise RecordError("wrong_type", f"{key}[{i}].{text_key} must be a string, "
                                                f"got {type(content).__name__}")
            messages.append({"role": ROLE_NAMES[role], "content": content})
        system = record.get("system") if isinstance(record.get("system"), str) else self.system
        if system and messages[0]["role"] != "system":
            messages.insert(0, {"role": "system", "content": system})
        replies = [m for m in messages if m["role"] == "assistant"]
        if not replies:
            raise RecordError("no_assistant_turn", "the conversation has no assistant turn")
        if not replies[-1]["content"].strip():
            raise RecordError("empty_response", "the last assistant reply is empty")
        return Example(messages)
