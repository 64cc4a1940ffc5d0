"""The named templates (plain, alpaca, chatml, vicuna, zephyr) and `get_template`, which also selects
the tokenizer's own chat template (`auto`, `chat_template`)."""
from __future__ import annotations

from typing import Any

from tuneforge.errors import TuneforgeError
from tuneforge.template.base import Template

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
        from tuneforge.template.chat_template import ChatTemplate

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
