"""`template=alpaca`: Stanford Alpaca's prompt (the input, when present, is part of the user message)."""
from __future__ import annotations

from typing import Any

from tuneforge.registry import register
from tuneforge.template.base import Template

ALPACA = Template("alpaca", {
    "system": ("", "\n\n"),
    "user": ("### Instruction:\n", "\n\n"),
    "assistant": ("### Response:\n", "{eos}"),
}, begin="Below is an instruction that describes a task. "
         "Write a response that appropriately completes the request.\n\n",
    separators=(("assistant", "\n\n"),))


@register("template", "alpaca")
def alpaca(tokenizer: Any) -> Template:
    """Stanford Alpaca's prompt: `### Instruction:` / `### Response:` blocks, the reply ending with EOS."""
    return ALPACA
