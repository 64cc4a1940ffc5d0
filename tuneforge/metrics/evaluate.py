"""Run a set of metric components on examples: generate once if any metric needs it, then score."""
from __future__ import annotations

from typing import Any

from tuneforge.metrics.base import EvalInputs, Metric
from tuneforge.data.example import Example
from tuneforge.inference.generate import GenerationSettings, generate_responses


def evaluate(model: Any, tokenizer: Any, template: Any, examples: list[Example],
             metrics: dict[str, Metric], generation: GenerationSettings, progress: bool = False
             ) -> tuple[dict[str, float], list[str] | None]:
    """({metric name: value}, predictions or None when no metric needed generation)."""
    predictions = None
    if any(m.needs_generation for m in metrics.values()):
        predictions = generate_responses(model, tokenizer, template, examples, settings=generation,
                                         progress=progress)
    inputs = EvalInputs(examples, predictions, model, tokenizer, template, generation.batch_size)
    scores: dict[str, float] = {}
    for name, metric in metrics.items():
        value = metric.compute(inputs)  # a float, or {sub-name: float} for multi-valued metrics
        if isinstance(value, dict):
            scores |= {f"{name}/{key}": float(v) for key, v in value.items()}
        else:
            scores[name] = float(value)
    return scores, predictions
