"""What every template shares: `Span` (a turn's character span in the rendered text) and `Template`, the
role-based form of the `plain`, `alpaca`, `chatml`, `vicuna` and `zephyr` options.

A template is a component of kind `template` (config group `template`, one file per option here), built with
the tokenizer: `template=alpaca`. Whatever its form, it renders a conversation to text plus one Span per
turn: `render(messages, *, eos, bos, add_generation_prompt) -> (text, spans)`. Jinja templates (the
tokenizer's own, `chat_template` / `auto`, or one written in config, `jinja`) are rendered by `ChatTemplate`
(chat_template.py), which reports spans the same way.

Role-based: each role renders as `prefix + content + suffix + separator`. A turn's span covers its content
and suffix (the end-of-turn marker or EOS, which must be trained so the model learns to stop); prefixes (role
headers) and separators (blank lines between turns) belong to no turn. `{eos}` and `{bos}` are replaced by
the tokenizer's tokens.
"""
from __future__ import annotations

from dataclasses import dataclass

from tuneforge.errors import TuneforgeError


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

    def render(self, messages: list[dict[str, str]], *, eos: str, bos: str = "",
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
                raise TuneforgeError(f"template {self.name!r} has no role {role!r} "
                                     f"(roles: {', '.join(self.roles)})")
            prefix, suffix = (self._fill(t, eos, bos) for t in self.roles[role])
            emit(prefix)
            start = pos
            emit(message["content"] + suffix)
            spans.append(Span(start, pos, role, turn))
            emit(dict(self.separators).get(role, ""))
        if add_generation_prompt:
            emit(self._fill(self.roles["assistant"][0], eos, bos))
        return "".join(parts), spans

    @staticmethod
    def _fill(text: str, eos: str, bos: str) -> str:
        return text.replace("{eos}", eos).replace("{bos}", bos)
