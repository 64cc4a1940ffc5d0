"""What every template shares: `Span` (a turn's character span in the rendered text) and `Template`, the
role-based form of the `plain`, `alpaca`, `chatml`, `vicuna` and `zephyr` options.

A template is a component of kind `template` (config group `template`, one file per option here), built with
the tokenizer: `template=alpaca`. Whatever its form, it renders a conversation to text plus one Span per
turn: `render(messages, *, eos, bos, add_generation_prompt) -> (text, spans)`; a conversation it cannot
render raises `UnrenderableMessage`, which data preparation counts as a rejected record. Jinja templates (the
tokenizer's own, `chat_template` / `auto`, or one written in config, `jinja`) are rendered by `ChatTemplate`
(chat_template.py), which reports spans the same way.

Role-based: each role renders as `prefix + content + suffix + separator`. A turn's span covers its content
and suffix (the end-of-turn marker or EOS, which must be trained so the model learns to stop); prefixes (role
headers) and separators (blank lines between turns) belong to no turn. `{eos}` and `{bos}` are replaced by
the tokenizer's tokens. A template with `tool_calls` renders an assistant message's OpenAI `tool_calls` after
its content as `<tool_call>\n{"name": ..., "arguments": ...}\n</tool_call>` blocks (Hermes / Qwen style, part
of the trained turn); one without them refuses such a message, as it refuses a role it does not have
(`UnsupportedRole`).

Every template has a jinja form, `to_jinja()`, that transformers' `apply_chat_template` renders to exactly the
text `render` gives (system messages, several turns, the generation prompt, eos / bos, tools): it is what a
saved tokenizer carries, so a served model is prompted as it was trained. Assistant turns sit in
`{% generation %}` blocks (transformers' `return_assistant_tokens_mask`, TRL's `assistant_only_loss`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tuneforge.errors import TuneforgeError


class UnrenderableMessage(TuneforgeError):
    """A conversation the template cannot render (a fault of the record, not of the run): data preparation
    counts the record as rejected under `kind`. A template (a plugin's too) raises it for such a record."""

    kind = "unrenderable"


class UnsupportedRole(UnrenderableMessage):
    """A message whose role (or tool calls) the template does not have."""

    kind = "unsupported_role"


@dataclass(frozen=True)
class Span:
    start: int  # character offsets into the rendered text, end exclusive
    end: int
    role: str
    turn: int  # index of the message in the conversation


@dataclass(frozen=True)
class Template:
    name: str
    roles: dict[str, tuple[str, str]]  # role -> (prefix, suffix)
    begin: str = ""  # text before the first message
    separators: tuple[tuple[str, str], ...] = ()  # (role, text after its turn, not trained)
    tool_calls: bool = False  # renders an assistant message's `tool_calls` (Hermes <tool_call> blocks)

    def render(self, messages: list[dict[str, Any]], *, eos: str, bos: str = "",
               add_generation_prompt: bool = False) -> tuple[str, list[Span]]:
        """Render `messages`; with `add_generation_prompt`, end with the assistant prefix."""
        parts, spans, pos = [], [], 0

        def emit(text: str) -> None:
            nonlocal pos
            parts.append(text)
            pos += len(text)

        emit(self._fill(self.begin, eos, bos))
        for turn, message in enumerate(messages):
            role = message["role"]
            if role not in self.roles:
                raise UnsupportedRole(f"template {self.name!r} has no role {role!r} "
                                     f"(roles: {', '.join(self.roles)})")
            prefix, suffix = (self._fill(t, eos, bos) for t in self.roles[role])
            emit(prefix)
            start = pos
            emit(self._content(message, turn) + suffix)
            spans.append(Span(start, pos, role, turn))
            emit(dict(self.separators).get(role, ""))
        if add_generation_prompt:
            emit(self._fill(self.roles["assistant"][0], eos, bos))
        return "".join(parts), spans

    def _content(self, message: dict[str, Any], turn: int) -> str:
        """The message's text: its content (None: empty), then its tool calls where the template has them."""
        text = message.get("content") or ""
        calls = message.get("tool_calls") or []
        if calls and not self.tool_calls:
            raise UnsupportedRole(f"template {self.name!r} has no role 'tool' (message {turn} carries tool_calls; "
                                 "template=chatml or a chat template renders them)")
        for call in calls:
            call = call.get("function") or call
            arguments = call.get("arguments")
            arguments = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
            text += ("\n" if text else "") + f'<tool_call>\n{{"name": "{call.get("name")}", "arguments": ' \
                                            f"{arguments}}}\n</tool_call>"
        return text

    @staticmethod
    def _fill(text: str, eos: str, bos: str) -> str:
        return text.replace("{eos}", eos).replace("{bos}", bos)

    def to_jinja(self) -> str:
        """The jinja chat template that renders as `render` does (the tokenizer's eos_token / bos_token for
        {eos} / {bos}); a role the template lacks is raise_exception with the same message."""
        roles = ", ".join(self.roles)
        lines = ["{{- " + _expr(self.begin) + " }}" if self.begin else "", "{%- for message in messages %}",
                 "{%- set ns = namespace(content=message['content'] if message['content'] else '') %}"]
        lines.append("{%- if message['tool_calls'] %}" + (_TOOL_CALLS if self.tool_calls else
                     "{{- raise_exception(" + _literal(f"template {self.name!r} has no role 'tool' (message ")
                     + " ~ loop.index0 ~ " + _literal(" carries tool_calls; template=chatml or a chat template "
                                                      "renders them)") + ") }}") + "{%- endif %}")
        for i, (role, (prefix, suffix)) in enumerate(self.roles.items()):
            head = "{%- if " if i == 0 else "{%- elif "
            body = "ns.content ~ " + _expr(suffix) if suffix else "ns.content"
            if role == "assistant":
                body = "{% generation %}{{- " + body + " }}{% endgeneration %}"
            else:
                body = "{{- " + body + " }}"
            sep = dict(self.separators).get(role, "")
            lines.append(head + "message['role'] == " + _literal(role) + " %}"
                         + ("{{- " + _expr(prefix) + " }}" if prefix else "") + body
                         + ("{{- " + _expr(sep) + " }}" if sep else ""))
        lines.append("{%- else %}{{- raise_exception(" + _literal(f"template {self.name!r} has no role '")
                     + " ~ message['role'] ~ " + _literal(f"' (roles: {roles})") + ") }}")
        lines.append("{%- endif %}")
        lines.append("{%- endfor %}")
        prompt = self.roles["assistant"][0]
        if prompt:
            lines.append("{%- if add_generation_prompt %}{{- " + _expr(prompt) + " }}{%- endif %}")
        return "\n".join(line for line in lines if line)


#: An assistant message's tool calls appended to its content (`ns.content`), as Template._content does.
_TOOL_CALLS = (
    "{%- for call in message['tool_calls'] %}"
    "{%- set call = call['function'] if call['function'] else call %}"
    "{%- set arguments = call['arguments'] if call['arguments'] is string else call['arguments'] | tojson %}"
    "{%- set ns.content = ns.content ~ ('\\n' if ns.content else '') ~ '<tool_call>\\n{\"name\": \"' ~ call['name'] "
    "~ '\", \"arguments\": ' ~ arguments ~ '}\\n</tool_call>' %}"
    "{%- endfor %}")


def _literal(text: str) -> str:
    """A jinja string literal for `text` (jinja reads Python-style escapes; json.dumps writes them)."""
    return json.dumps(text)


def _expr(text: str) -> str:
    """A jinja expression for template text: literals joined with eos_token / bos_token for {eos} / {bos}."""
    pieces = [p for p in re.split(r"(\{eos\}|\{bos\})", text) if p]
    names = {"{eos}": "eos_token", "{bos}": "bos_token"}
    return " ~ ".join(names.get(p, _literal(p)) for p in pieces) or "''"


def use_template(tokenizer: Any, template: Any) -> None:
    """Make `template` the tokenizer's chat template (its jinja form), so every directory saved with this
    tokenizer prompts the model as training did; a template without a jinja form leaves it unchanged."""
    to_jinja = getattr(template, "to_jinja", None)
    if to_jinja is not None:
        tokenizer.chat_template = to_jinja()
