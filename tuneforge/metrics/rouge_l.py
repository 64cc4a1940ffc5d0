"""ROUGE-L F-measure between each prediction and its reference (rouge-score exact, fast)."""
from __future__ import annotations

from typing import Literal

from tuneforge.registry import register
from tuneforge.metrics.base import EvalInputs


@register("metric", "rouge_l")
class RougeL:
    """Mean ROUGE-L F-measure, bit-identical to rouge_score's RougeScorer(["rougeL"]) with its
    default tokenizer (which drops non-ASCII letters); `tokenizer=unicode` keeps them."""

    needs_generation = True

    def __init__(self, tokenizer: Literal["default", "unicode"] = "default"):
        self.tokenizer = tokenizer

    def scores(self, predictions: list[str], references: list[str]) -> list[float]:
        from rapidfuzz.distance import LCSseq

        from tuneforge.filters.rouge_l import RougeIndex

        index, out = RougeIndex(self.tokenizer), []
        for pred, ref in zip(predictions, references):
            p_enc, r_enc = index.encode(pred), index.encode(ref)
            lcs = LCSseq.similarity(p_enc, r_enc)
            if lcs == 0:
                out.append(0.0)
                continue
            precision, recall = lcs / len(p_enc), lcs / len(r_enc)
            out.append(2 * precision * recall / (precision + recall))
        return out

    def compute(self, inputs: EvalInputs) -> float:
        scores = self.scores(inputs.predictions or [], inputs.references)
        return sum(scores) / len(scores) if scores else 0.0
