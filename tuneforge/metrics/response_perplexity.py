"""Perplexity of the reference response given the prompt (teacher-forced)."""
from __future__ import annotations

import math

from tuneforge.registry import register
from tuneforge.metrics.base import EvalInputs


@register("metric", "response_perplexity")
class ResponsePerplexity:
    """exp(mean negative log-likelihood) over the final reply's tokens (its EOS included), pooled
    over all examples' tokens."""

    needs_generation = False

    def compute(self, inputs: EvalInputs) -> float:
        from tuneforge.inference.likelihood import token_logprobs
        from tuneforge.loss_mask.last_turn import LastTurn
        from tuneforge.render.encode import encode

        masker = LastTurn()
        encoded = [encode(ex, inputs.tokenizer, inputs.template, masker, max_length=10**9)
                   for ex in inputs.examples]
        logps = [lp for row in token_logprobs(inputs.model, inputs.tokenizer.pad_token_id, encoded,
                                              inputs.batch_size) for lp in row]
        return math.exp(-sum(logps) / len(logps)) if logps else float("nan")
