"""Accuracy on classification / multiple choice by scoring each option's log-likelihood."""
from __future__ import annotations

from typing import Literal

from tuneforge.errors import TuneforgeError
from tuneforge.registry import register
from tuneforge.metrics.base import EvalInputs


@register("metric", "choice_accuracy")
class ChoiceAccuracy:
    """Each example lists its options in `meta["options"]`; the option whose tokens (as the reply)
    have the highest log-likelihood is the prediction. `normalize=length` divides by the option's
    token count, `chars` by its character count (evaluation harnesses' acc_norm)."""

    needs_generation = False

    def __init__(self, normalize: Literal["none", "length", "chars"] = "none"):
        self.normalize = normalize

    def compute(self, inputs: EvalInputs) -> float:
        from tuneforge.inference.likelihood import token_logprobs
        from tuneforge.loss_mask.last_turn import LastTurn
        from tuneforge.render.encode import encode
        from tuneforge.data.example import Example

        masker, encoded, owners = LastTurn(), [], []
        for i, ex in enumerate(inputs.examples):
            options = ex.meta.get("options")
            if not options or ex.reference not in options:
                raise TuneforgeError(f"choice_accuracy: example {i} needs meta['options'] containing its "
                                     f"reference {ex.reference!r} (got {options!r})")
            for option in options:
                candidate = Example(ex.prompt_messages + [{"role": "assistant", "content": option}])
                encoded.append(encode(candidate, inputs.tokenizer, inputs.template, masker, 10**9))
                owners.append((i, option))
        logps = token_logprobs(inputs.model, inputs.tokenizer.pad_token_id, encoded, inputs.batch_size)
        best: dict[int, tuple[float, str]] = {}
        for (i, option), row in zip(owners, logps):
            score = sum(row)
            if self.normalize == "length":
                score /= max(1, len(row))
            elif self.normalize == "chars":
                score /= max(1, len(option))
            if i not in best or score > best[i][0]:
                best[i] = (score, option)
        hits = sum(best[i][1] == ex.reference for i, ex in enumerate(inputs.examples))
        return hits / len(inputs.examples) if inputs.examples else 0.0
