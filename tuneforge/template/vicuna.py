"""`template=vicuna`: Vicuna v1.1."""
from __future__ import annotations

from typing import Any

from tuneforge.registry import register
from tuneforge.template.base import Template

VICUNA = Template("vicuna", {
    "system": ("", " "),
    "user": ("USER: ", " "),
    "assistant": ("ASSISTANT: ", "{eos}"),
})


@register("template", "vicuna")
def vicuna(tokenizer: Any) -> Template:
    """Vicuna v1.1: `USER: ... ASSISTANT: ...<eos>`."""
    return VICUNA
