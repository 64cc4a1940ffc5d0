"""The evolution-operator protocol: build the prompt that asks an LLM to evolve one instruction."""
from __future__ import annotations

import random
from typing import Literal, Protocol


class EvolutionOp(Protocol):
    name: str
    direction: Literal["depth", "breadth"]

    def prompt(self, instruction: str, rng: random.Random) -> str:
        """The evolving prompt for `instruction` (rng: for operators with a random choice)."""
        ...
