"""In-depth evolving: add one more constraint or requirement."""
from __future__ import annotations

from tuneforge.registry import register
from tuneforge.evolution._templates import DepthOp

METHOD = "Please add one more constraints/requirements into #Given Prompt#"


@register("evolution_op", "add_constraints")
class AddConstraints(DepthOp):
    """In-depth: add one more constraint/requirement to the instruction."""

    def __init__(self, method: str = METHOD):
        super().__init__("add_constraints", method)
