"""In-depth evolving: replace general concepts with more specific ones."""
from __future__ import annotations

from tuneforge.registry import register
from tuneforge.evolution._templates import DepthOp

METHOD = "Please replace general concepts with more specific concepts."


@register("evolution_op", "concretizing")
class Concretizing(DepthOp):
    """In-depth: replace general concepts with more specific concepts."""

    def __init__(self, method: str = METHOD):
        super().__init__("concretizing", method)
