"""In-depth evolving: ask explicitly for multiple-step reasoning."""
from __future__ import annotations

from tuneforge.registry import register
from tuneforge.evolution._templates import DepthOp

METHOD = ("If #Given Prompt# can be solved with just a few simple thinking processes, you can rewrite it "
          "to explicitly request multiple-step reasoning.")


@register("evolution_op", "increase_reasoning")
class IncreaseReasoning(DepthOp):
    """In-depth: rewrite the instruction to require multiple reasoning steps."""

    def __init__(self, method: str = METHOD):
        super().__init__("increase_reasoning", method)
