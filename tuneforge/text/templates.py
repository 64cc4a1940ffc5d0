"""Prompt templates that render a conversation to text with the character span of each turn.

Named templates: each role renders as `prefix + content + suffix + separator`. A turn's span covers
its content and suffix (the end-of-turn marker or EOS, which must be trained so the model learns to
stop); prefixes (role headers) and separators (blank lines between turns) belong to no turn.
`{eos}` and `{bos}` are replaced by the tokenizer's tokens.

A tokenizer's own jinja chat template (`data.template=auto` or `chat_template`) is wrapped by
`ChatTemplate` (tuneforge/text/chat_template.py), which reports spans the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import TuneforgeError


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


TEMPLATES: dict[str, Template] = {
    t.name: t for t in (
        # The shortest form: "prompt\nresponse<eos>" (the quickstart's rule tasks).
        Template("plain", {"system": ("", "\n"), "user": ("", "\n"), "assistant": ("", "{eos}")}),
        # Stanford Alpaca's prompt (the input, when present, is part of the user message).
        Template("alpaca", {
            "system": ("", "\n\n"),
            "user": ("### Instruction:\n", "\n\n"),
            "assistant": ("### Response:\n", "{eos}"),
        }, begin="Below is an instruction that describes a task. "
                 "Write a response that appropriately completes the request.\n\n",
            separators=(("assistant", "\n\n"),)),
        # ChatML (Qwen, SmolLM2, ...): the end-of-turn marker is trained.
        Template("chatml", {
            "system": ("<|im_start|>system\n", "<|im_end|>\n"),
            "user": ("<|im_start|>user\n", "<|im_end|>\n"),
            "assistant": ("<|im_start|>assistant\n", "<|im_end|>"),
        }, separators=(("assistant", "\n"),)),
        # Vicuna v1.1.
        Template("vicuna", {
            "system": ("", " "),
            "user": ("USER: ", " "),
            "assistant": ("ASSISTANT: ", "{eos}"),
        }),
        # Zephyr / TinyLlama-chat.
        Template("zephyr", {
            "system": ("<|system|>\n", "{eos}\n"),
            "user": ("<|user|>\n", "{eos}\n"),
            "assistant": ("<|assistant|>\n", "{eos}"),
        }, separators=(("assistant", "\n"),)),
    )
}
#: Names that select the tokenizer's own chat template instead of a named one.
CHAT_TEMPLATE_NAMES = ("auto", "chat_template")


def get_template(name: str, tokenizer: Any = None) -> Any:
    """A named template, or the tokenizer's chat template for `chat_template` (required) and `auto`
    (the chat template when the tokenizer has one, else `plain`)."""
    if name in CHAT_TEMPLATE_NAMES:
        from .chat_template import ChatTemplate

        has_own = tokenizer is not None and bool(getattr(tokenizer, "chat_template", None))
        if has_own:
            return ChatTemplate(tokenizer)
        if name == "chat_template":
            raise TuneforgeError("data.template=chat_template but the tokenizer has no chat template; "
                                 f"use a named template ({', '.join(TEMPLATES)}) or data.template=auto")
        return TEMPLATES["plain"]
    if name not in TEMPLATES:
        known = ", ".join([*TEMPLATES, *CHAT_TEMPLATE_NAMES])
        raise TuneforgeError(f"unknown template {name!r}; known: {known}")
    return TEMPLATES[name]
