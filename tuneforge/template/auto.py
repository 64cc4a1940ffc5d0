"""`template=auto`: the tokenizer's own chat template when it has one, else `plain`."""
from __future__ import annotations

from typing import Any

from tuneforge.registry import register
from tuneforge.template.chat_template import ChatTemplate
from tuneforge.template.plain import PLAIN


@register("template", "auto")
def auto(tokenizer: Any) -> Any:
    """The tokenizer's own chat template when it has one, else plain (one config for either kind of model)."""
    return ChatTemplate(tokenizer) if getattr(tokenizer, "chat_template", None) else PLAIN
