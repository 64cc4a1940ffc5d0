"""P-tuning through peft: virtual tokens re-encoded by an LSTM or MLP prompt encoder, f_theta: P_i -> h_i."""
from __future__ import annotations

from typing import Any, Literal

from tuneforge.registry import register
from tuneforge.peft._prompt_learning import PeftPromptLearning


@register("peft", "ptuning")
class PTuning(PeftPromptLearning):
    """`num_virtual_tokens` trained embeddings passed through a prompt encoder (`encoder`: LSTM or
    MLP) and prepended to the input; only P and theta train."""

    def __init__(self, num_virtual_tokens: int = 16, encoder: Literal["MLP", "LSTM"] = "MLP",
                 encoder_hidden_size: int = 128, encoder_num_layers: int = 2, encoder_dropout: float = 0.0):
        self.num_virtual_tokens, self.encoder = num_virtual_tokens, encoder
        self.encoder_hidden_size, self.encoder_num_layers = encoder_hidden_size, encoder_num_layers
        self.encoder_dropout = encoder_dropout

    def peft_config(self, model: Any) -> Any:
        from peft import PromptEncoderConfig

        return PromptEncoderConfig(num_virtual_tokens=self.num_virtual_tokens,
                                   encoder_reparameterization_type=self.encoder,
                                   encoder_hidden_size=self.encoder_hidden_size,
                                   encoder_num_layers=self.encoder_num_layers,
                                   encoder_dropout=self.encoder_dropout, task_type="CAUSAL_LM")
