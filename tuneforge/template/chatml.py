"""`template=chatml`: ChatML (Qwen, SmolLM2, ...) written out, for tokenizers without a chat template. OpenAI
tool messages render as `<|im_start|>tool\n...<|im_end|>` turns, an assistant's `tool_calls` as Hermes
`<tool_call>` blocks after its content."""
from __future__ import annotations

from typing import Any

from tuneforge.registry import register
from tuneforge.template.base import Template

CHATML = Template("chatml", {
    "system": ("<|im_start|>system\n", "<|im_end|>\n"),
    "user": ("<|im_start|>user\n", "<|im_end|>\n"),
    "assistant": ("<|im_start|>assistant\n", "<|im_end|>"),
    "tool": ("<|im_start|>tool\n", "<|im_end|>\n"),
}, separators=(("assistant", "\n"),), tool_calls=True)


@register("template", "chatml")
def chatml(tokenizer: Any) -> Template:
    """ChatML: `<|im_start|>role\\n...<|im_end|>`, the reply's end-of-turn marker trained."""
    return CHATML
