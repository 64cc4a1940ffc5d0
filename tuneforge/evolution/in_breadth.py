"""In-breadth evolving: a brand-new, rarer instruction in the same domain (topic and skill coverage)."""
from __future__ import annotations

import random

from tuneforge.registry import register
from tuneforge.evolution._templates import BREADTH


@register("evolution_op", "in_breadth")
class InBreadth:
    """In-breadth mutation: create a new, rarer instruction of similar length and difficulty."""

    direction = "breadth"

    def __init__(self):
        self.name = "in_breadth"

    def prompt(self, instruction: str, rng: random.Random) -> str:
        return BREADTH.format(instruction=instruction.strip())
