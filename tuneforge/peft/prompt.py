"""Prompt tuning through peft: trained virtual-token embeddings prepended to the input."""
from __future__ import annotations

from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register
from tuneforge.peft._prompt_learning import PeftPromptLearning


@register("peft", "prompt")
class PromptTuning(PeftPromptLearning):
    """`num_virtual_tokens` trained embeddings before the input; `init_text` initialises them from the
    embeddings of a text's tokens (repeated / truncated to the count), otherwise random."""

    def __init__(self, num_virtual_tokens: int = 16, init_text: str | None = None):
        self.num_virtual_tokens, self.init_text = num_virtual_tokens, init_text

    def peft_config(self, model: Any) -> Any:
        from peft import PromptTuningConfig

        return PromptTuningConfig(num_virtual_tokens=self.num_virtual_tokens, task_type="CAUSAL_LM")

    def initialise(self, peft_model: Any, tokenizer: Any) -> None:
        if not self.init_text:
            return
        if tokenizer is None:
            raise ConfigError(ConfigIssue("peft.init_text", "initialising from text needs the tokenizer: "
                                                             "call apply(model, tokenizer)"))
        import torch

        ids = tokenizer(self.init_text, add_special_tokens=False)["input_ids"]
        if not ids:
            raise ConfigError(ConfigIssue("peft.init_text", "the text has no tokens"))
        ids = (ids * (self.num_virtual_tokens // len(ids) + 1))[: self.num_virtual_tokens]
        embeddings = peft_model.get_input_embeddings()
        encoder = peft_model.prompt_encoder[peft_model.active_adapter]
        with torch.no_grad():
            weight = embeddings(torch.tensor(ids, device=embeddings.weight.device))
            encoder.embedding.weight.copy_(weight.to(encoder.embedding.weight.dtype))
