"""`template=zephyr`: Zephyr / TinyLlama-chat."""
from __future__ import annotations

from typing import Any

from tuneforge.registry import register
from tuneforge.template.base import Template

ZEPHYR = Template("zephyr", {
    "system": ("<|system|>\n", "{eos}\n"),
    "user": ("<|user|>\n", "{eos}\n"),
    "assistant": ("<|assistant|>\n", "{eos}"),
}, separators=(("assistant", "\n"),))


@register("template", "zephyr")
def zephyr(tokenizer: Any) -> Template:
    """Zephyr / TinyLlama-chat: `<|user|>\\n...<eos>` turns."""
    return ZEPHYR
