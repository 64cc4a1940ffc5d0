"""In-depth evolving: add structured input data (code, a table, JSON, ...) to the instruction."""
from __future__ import annotations

import random

from tuneforge.registry import register
from tuneforge.evolution._templates import DEPTH

METHOD = "You must add {format} format data as input data in #Rewritten Prompt#."
FORMATS = ["XML", "SQL database", "Python code", "HTML page", "Shell cmd", "JSON data", "Markdown",
           "LaTeX", "table"]


@register("evolution_op", "complicate_input")
class ComplicateInput:
    """In-depth: add input data in a format drawn from `formats` (XML, SQL, code, JSON, a table, ...)."""

    direction = "depth"

    def __init__(self, method: str = METHOD, formats: list[str] = FORMATS):  # noqa: B006
        self.name, self.method, self.formats = "complicate_input", method, list(formats) or ["table"]

    def prompt(self, instruction: str, rng: random.Random) -> str:
        method = self.method.format(format=rng.choice(self.formats))
        return DEPTH.format(method=method, instruction=instruction.strip())
