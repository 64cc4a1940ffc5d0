"""Shared base of the prompt-learning methods that peft implements (prefix, prompt, ptuning)."""
from __future__ import annotations

from typing import Any

from tuneforge.peft._hf import AdapterFiles


class PeftPromptLearning(AdapterFiles):
    """apply / save / load for a peft prompt-learning config built by `peft_config(model)`."""

    prompt_learning = True  # virtual tokens per row: its rows cannot hold several packed examples

    def peft_config(self, model: Any) -> Any:  # pragma: no cover (overridden)
        raise NotImplementedError

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        from peft import get_peft_model

        peft_model = get_peft_model(model, self.peft_config(model))
        self.initialise(peft_model, tokenizer)
        return peft_model

    def initialise(self, peft_model: Any, tokenizer: Any) -> None:
        """Optional initialisation of the virtual tokens after wrapping (default: none)."""
