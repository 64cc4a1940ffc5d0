"""The metric protocol and what a metric is given."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tuneforge.data.example import Example
from tuneforge.template.base import Template


@dataclass
class EvalInputs:
    """Everything a metric may use: generation-based metrics read `predictions`; likelihood-based
    ones run `model` on `examples` themselves."""

    examples: list[Example]
    predictions: list[str] | None
    model: Any = None
    tokenizer: Any = None
    template: Template | None = None
    batch_size: int = 16

    @property
    def references(self) -> list[str]:
        return [ex.reference for ex in self.examples]


class Metric(Protocol):
    #: True when the metric scores generated text (the evaluator then generates first).
    needs_generation: bool

    def compute(self, inputs: EvalInputs) -> float | dict[str, float]:
        """The metric over the whole set (a mean in [0, 1] for per-example scores); a metric with
        several values returns {sub-name: value}, reported as `<metric>/<sub-name>`."""
        ...
