"""`template=jinja template.source='{% for m in messages %}...'`: a jinja chat template written in config.

Rendered exactly like a tokenizer's own (ChatTemplate: spans from `{% generation %}` tags, else from rendering
prefixes), with the tokenizer's special tokens as variables (`{{ eos_token }}`). Free-form P-tuning's
placeholders (`peft=ptuning_free`, `<|v|>` by default) may be written into it wherever virtual tokens go.
"""
from __future__ import annotations

from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register
from tuneforge.template.chat_template import ChatTemplate


@register("template", "jinja")
def jinja(tokenizer: Any, source: str) -> ChatTemplate:
    """A jinja chat template given in config (`template.source`), spans as for the tokenizer's own."""
    if not source.strip():
        raise ConfigError(ConfigIssue("template.source", "empty: write a jinja chat template"))
    _check_syntax(source)
    return ChatTemplate(tokenizer, source=source, name="jinja")


def _check_syntax(source: str) -> None:
    """A syntax error is reported when the template is built, not at the first example rendered."""
    from jinja2 import TemplateSyntaxError
    from transformers.utils import chat_template_utils

    compile_template = getattr(chat_template_utils, "_compile_jinja_template", None)  # private: may go
    if compile_template is None:
        return
    try:
        compile_template(source)
    except TemplateSyntaxError as err:
        raise ConfigError(ConfigIssue("template.source", f"jinja syntax error on line {err.lineno}: "
                                                         f"{err.message}")) from None
