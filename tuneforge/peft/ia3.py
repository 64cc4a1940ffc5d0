"""(IA)^3 through peft: learned vectors rescale keys, values and the feed-forward activations."""
from __future__ import annotations

from typing import Any

from tuneforge.registry import register
from tuneforge.peft._hf import AdapterFiles


@register("peft", "ia3")
class IA3(AdapterFiles):
    """h = l * (W x): one trained vector per target module (keys, values, feed-forward input)."""

    def __init__(self, target_modules: list[str] | None = None, feedforward_modules: list[str] | None = None):
        self.target_modules, self.feedforward_modules = target_modules, feedforward_modules

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        from peft import IA3Config, get_peft_model

        return get_peft_model(model, IA3Config(target_modules=self.target_modules,
                                               feedforward_modules=self.feedforward_modules,
                                               task_type="CAUSAL_LM"))
