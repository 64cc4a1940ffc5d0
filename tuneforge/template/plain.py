"""`template=plain`: "prompt\\nresponse<eos>", the shortest form (the quickstart's rule tasks; the default)."""
from __future__ import annotations

from typing import Any

from tuneforge.registry import register
from tuneforge.template.base import Template

PLAIN = Template("plain", {"system": ("", "\n"), "user": ("", "\n"), "assistant": ("", "{eos}")})


@register("template", "plain")
def plain(tokenizer: Any) -> Template:
    """Each message on its own line, the reply ending with EOS: `prompt\\nresponse<eos>`."""
    return PLAIN
