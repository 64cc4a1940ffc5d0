"""By-name lookup for code that holds no config (tests, benchmarks): `get_template(name, tokenizer)` builds the
`template` component `name` exactly as `template=<name>` would; TEMPLATES maps the role-based ones to their
Template. Commands never use it: they build the template node the assembler checked."""
from __future__ import annotations

from typing import Any

from tuneforge.template.alpaca import ALPACA
from tuneforge.template.base import Template
from tuneforge.template.chatml import CHATML
from tuneforge.template.plain import PLAIN
from tuneforge.template.vicuna import VICUNA
from tuneforge.template.zephyr import ZEPHYR

TEMPLATES: dict[str, Template] = {t.name: t for t in (PLAIN, ALPACA, CHATML, VICUNA, ZEPHYR)}


def get_template(name: str, tokenizer: Any = None, **config: Any) -> Any:
    """The template component `name` (config keys such as jinja's `source` as keywords), built with `tokenizer`."""
    from tuneforge.binding import build

    return build("template", {"name": name, **config}, "template", tokenizer=tokenizer)
