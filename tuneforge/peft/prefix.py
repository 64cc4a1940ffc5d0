"""Prefix tuning through peft: trained key/value prefixes in every attention layer,
head = Attention(X W_Q, P_K (+) X W_K, P_V (+) X W_V), reparameterised as P = MLP_theta(P')."""
from __future__ import annotations

from typing import Any

from tuneforge.registry import register
from tuneforge.peft._prompt_learning import PeftPromptLearning


@register("peft", "prefix")
class Prefix(PeftPromptLearning):
    """`num_virtual_tokens` key/value prefixes per layer; with `prefix_projection` they are produced by
    a two-layer MLP (hidden `encoder_hidden_size`) from a small embedding, as in the paper (Li & Liang 2021)."""

    def __init__(self, num_virtual_tokens: int = 16, prefix_projection: bool = True,
                 encoder_hidden_size: int = 256):
        self.num_virtual_tokens, self.prefix_projection = num_virtual_tokens, prefix_projection
        self.encoder_hidden_size = encoder_hidden_size

    def peft_config(self, model: Any) -> Any:
        from peft import PrefixTuningConfig

        return PrefixTuningConfig(num_virtual_tokens=self.num_virtual_tokens,
                                  prefix_projection=self.prefix_projection,
                                  encoder_hidden_size=self.encoder_hidden_size, task_type="CAUSAL_LM")
