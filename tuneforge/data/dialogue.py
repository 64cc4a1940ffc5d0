"""Dialogues: OpenAI `messages` ([{"role", "content"}], tool calls included) and ShareGPT `conversations`
([{"from", "value"}], from = human / gpt / system / observation / function_call) records, with system
prompts and a per-message `train` flag."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register
from tuneforge.data.example import Example
from tuneforge.data._records import RecordError
from tuneforge.data._file_source import FileSource

STYLES = ("auto", "messages", "sharegpt")
ROLE_NAMES = {"system": "system", "user": "user", "human": "user", "assistant": "assistant",
              "gpt": "assistant", "chatgpt": "assistant", "bot": "assistant", "model": "assistant",
              "tool": "tool", "observation": "tool", "ipython": "tool", "function_call": "assistant"}
#: Keys of a message kept besides role and content (a dataset's null fields count as absent).
EXTRA_KEYS = ("tool_calls", "tool_call_id", "name", "train")


@register("data_builder", "dialogue")
@dataclass
class Dialogue(FileSource):
    """Multi-turn conversations -> one example each (the whole dialogue at once).

    `style`: auto (by which field is present), messages or sharegpt. A record's own `system` field
    (ShareGPT) or, failing that, the configured `system` prompt is put first when the conversation has
    no system turn. Tool messages (`role: tool`) and an assistant's `tool_calls` are kept: tool output is
    context, never trained. A message's `train: true|false` overrides the loss mask for its turn (axolotl's
    `message_field_training: train`). Records whose last assistant reply is empty, or with no assistant
    turn, are rejected.
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
        messages = [message(turn, f"{key}[{i}]", role_key, text_key) for i, turn in enumerate(turns)]
        system = record.get("system") if isinstance(record.get("system"), str) else self.system
        if system and messages[0]["role"] != "system":
            messages.insert(0, {"role": "system", "content": system})
        replies = [m for m in messages if m["role"] == "assistant"]
        if not replies:
            raise RecordError("no_assistant_turn", "the conversation has no assistant turn")
        if not replies[-1]["content"].strip() and not replies[-1].get("tool_calls"):
            raise RecordError("empty_response", "the last assistant reply is empty")
        return Example(messages)


def message(turn: Any, where: str, role_key: str, text_key: str) -> dict[str, Any]:
    """One turn as an Example message (role, content and the kept extra keys), or a RecordError."""
    if not isinstance(turn, dict):
        raise RecordError("wrong_type", f"{where} must be an object")
    role, content = turn.get(role_key), turn.get(text_key)
    if role not in ROLE_NAMES:
        raise RecordError("unknown_role", f"{where}.{role_key}={role!r} is not one of {sorted(ROLE_NAMES)}")
    out: dict[str, Any] = {"role": ROLE_NAMES[role]}
    out |= {k: turn[k] for k in EXTRA_KEYS if turn.get(k) is not None}
    if role == "function_call":  # ShareGPT (LLaMA-Factory): the value is the call as JSON
        out["tool_calls"], content = [_sharegpt_call(content, where, text_key)], ""
    if content is None and (out.get("tool_calls") or out["role"] == "tool"):
        content = ""  # OpenAI: an assistant message with tool_calls may have null content
    if not isinstance(content, str):
        raise RecordError("wrong_type", f"{where}.{text_key} must be a string, got {type(content).__name__}")
    out["content"] = content
    _check_extras(out, where)
    return out


def _check_extras(message: dict[str, Any], where: str) -> None:
    calls = message.get("tool_calls")
    if calls is not None:
        if message["role"] != "assistant":
            raise RecordError("wrong_type", f"{where}.tool_calls: only an assistant message makes tool calls")
        if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
            raise RecordError("wrong_type", f"{where}.tool_calls must be a list of objects")
        for j, call in enumerate(calls):
            function = call.get("function") if isinstance(call.get("function"), dict) else call
            if not isinstance(function.get("name"), str) or not function["name"]:
                raise RecordError("bad_tool_call", f"{where}.tool_calls[{j}] has no function name")
    for key in ("tool_call_id", "name"):
        if key in message and not isinstance(message[key], str):
            raise RecordError("wrong_type", f"{where}.{key} must be a string, got {type(message[key]).__name__}")
    flag = message.get("train")
    if flag is not None:
        if not isinstance(flag, bool):
            raise RecordError("wrong_type", f"{where}.train must be true or false, got {flag!r}")
        if flag and message["role"] != "assistant":
            raise RecordError("bad_train_flag", f"{where}.train=true on a {message['role']} turn: only "
                                                "assistant turns are trained (false masks any turn)")


def _sharegpt_call(value: Any, where: str, text_key: str) -> dict[str, Any]:
    try:
        call = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as err:
        raise RecordError("bad_tool_call", f"{where}.{text_key}: a function_call must be JSON ({err.msg})") from None
    if not isinstance(call, dict):
        raise RecordError("bad_tool_call", f"{where}.{text_key}: a function_call must be a JSON object")
    return {"type": "function", "function": {"name": call.get("name"), "arguments": call.get("arguments", {})}}
