"""Exact match between generated and reference responses."""
from __future__ import annotations

import re
import string

from tuneforge.registry import register
from tuneforge.metrics.base import EvalInputs


@register("metric", "exact_match")
class ExactMatch:
    """Share of predictions equal to their reference, after optional normalisation."""

    needs_generation = True

    def __init__(self, strip: bool = True, ignore_case: bool = False, ignore_punctuation: bool = False,
                 collapse_whitespace: bool = False):
        self.strip, self.ignore_case = strip, ignore_case
        self.ignore_punctuation, self.collapse_whitespace = ignore_punctuation, collapse_whitespace

    def normalize(self, text: str) -> str:
        if self.ignore_case:
            text = text.lower()
        if self.ignore_punctuation:
            text = text.translate(str.maketrans("", "", string.punctuation))
        if self.collapse_whitespace:
            text = re.sub(r"\s+", " ", text)
        return text.strip() if self.strip else text

    def score(self, predictions: list[str], references: list[str]) -> float:
        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
        if not references:
            return 0.0
        hits = sum(self.normalize(p) == self.normalize(r) for p, r in zip(predictions, references))
        return hits / len(references)

    def compute(self, inputs: EvalInputs) -> float:
        return self.score(inputs.predictions or [], inputs.references)
