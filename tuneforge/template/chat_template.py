"""`template=chat_template`: the tokenizer's own jinja chat template; and `ChatTemplate`, which renders any
jinja chat template (this one, `auto`'s, `jinja`'s from config) to text plus the character span of each turn.

Spans come from how the template renders each turn, never from searching for the reply text:
- with `{% generation %}` tags, an assistant turn's span is its generation block (exactly what
  transformers' `return_assistant_tokens_mask` and TRL's `assistant_only_loss` train);
- without them, from rendering prefixes of the conversation: turn i spans from the end of
  `render(messages[:i])` (for an assistant turn: `render(messages[:i], add_generation_prompt=True)`,
  so its header is not trained) to the end of `render(messages[:i+1])`. This needs the prefix property
  (each prefix renders as a prefix of the whole); a template without it fails with a clear error.
"""
from __future__ import annotations

import re
from typing import Any

from tuneforge.errors import TuneforgeError
from tuneforge.registry import register
from tuneforge.template.base import Span, UnrenderableMessage

GENERATION_TAG = re.compile(r"\{%-?\s*generation\s*-?%\}")
#: What a message passes to the template: OpenAI's fields (tool messages, an assistant's tool calls) included.
MESSAGE_KEYS = ("role", "content", "tool_calls", "tool_call_id", "name")


class ChatTemplate:
    """Renders a jinja chat template (by default `tokenizer.chat_template`) with transformers' sandboxed
    renderer; the tokenizer's special tokens (`eos_token`, `bos_token`, ...) are its variables."""

    def __init__(self, tokenizer: Any, source: str | None = None, name: str = "chat_template"):
        self.name = name
        self.source: str = tokenizer.chat_template if source is None else source
        self.variables = dict(tokenizer.special_tokens_map)
        self.has_generation_tags = bool(GENERATION_TAG.search(self.source))

    def to_jinja(self) -> str:
        """The jinja source itself (what a saved tokenizer carries)."""
        return self.source

    def _render(self, messages: list[dict[str, str]], add_generation_prompt: bool = False,
                track: bool = False) -> tuple[str, list[tuple[int, int]]]:
        from transformers.utils.chat_template_utils import render_jinja_template

        try:
            rendered, indices = render_jinja_template(
                conversations=[messages], chat_template=self.source, add_generation_prompt=add_generation_prompt,
                return_assistant_tokens_mask=track, **self.variables)
        except Exception as err:  # noqa: BLE001 (jinja errors, raise_exception() in templates)
            raise UnrenderableMessage(f"the {self.name} template failed to render a conversation of "
                                      f"{len(messages)} message(s): {err}") from None
        return rendered[0], (indices[0] if indices else [])

    def render(self, messages: list[dict[str, str]], *, eos: str = "", bos: str = "",
               add_generation_prompt: bool = False) -> tuple[str, list[Span]]:
        """Render `messages`; `eos` / `bos` are unused (the template writes its own special tokens)."""
        messages = [{k: m[k] for k in MESSAGE_KEYS if k in m} for m in messages]
        if add_generation_prompt:
            return self._render(messages, add_generation_prompt=True)[0], []
        if self.has_generation_tags:
            return self._spans_from_tags(messages)
        return self._spans_from_prefixes(messages)

    def _spans_from_tags(self, messages: list[dict[str, str]]) -> tuple[str, list[Span]]:
        text, blocks = self._render(messages, track=True)
        turns = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
        if len(blocks) != len(turns):
            raise UnrenderableMessage(f"the {self.name} template rendered {len(blocks)} generation block(s) "
                                      f"for {len(turns)} assistant turn(s); cannot tell which tokens to train")
        return text, [Span(start, end, "assistant", turn) for (start, end), turn in zip(blocks, turns)]

    def _spans_from_prefixes(self, messages: list[dict[str, str]]) -> tuple[str, list[Span]]:
        text = self._render(messages)[0]
        spans = []
        for i, message in enumerate(messages):
            assistant = message["role"] == "assistant"
            before = self._render(messages[:i], add_generation_prompt=assistant)[0] if i or assistant else ""
            after = self._render(messages[: i + 1])[0]
            if not (after.startswith(before) and text.startswith(after)):
                raise TuneforgeError(
                    f"the {self.name} template does not have the prefix property at message {i} "
                    f"({message['role']}): rendering the first {i + 1} message(s) is not a prefix of "
                    "the whole conversation, so turn spans cannot be derived; add {% generation %} tags "
                    "to the template or choose a role-based one (template=chatml, alpaca, ...)")
            spans.append(Span(len(before), len(after), message["role"], i))
        return text, spans


@register("template", "chat_template")
def chat_template(tokenizer: Any) -> ChatTemplate:
    """The tokenizer's own jinja chat template (an error when it has none; `auto` falls back to plain)."""
    if not getattr(tokenizer, "chat_template", None):
        raise TuneforgeError("template=chat_template but the tokenizer has no chat template; choose another "
                             "template (template=auto falls back to plain; tuneforge ls template)")
    return ChatTemplate(tokenizer)
