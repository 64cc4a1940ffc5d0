"""In-depth evolving: deepen the inquiry."""
from __future__ import annotations

from tuneforge.registry import register
from tuneforge.evolution._templates import DepthOp

METHOD = ("If #Given Prompt# contains inquiries about certain issues, the depth and breadth of the "
          "inquiry can be increased.")


@register("evolution_op", "deepening")
class Deepening(DepthOp):
    """In-depth: increase the depth and breadth of the instruction's inquiry."""

    def __init__(self, method: str = METHOD):
        super().__init__("deepening", method)
