"""Shared base of the prompt-learning methods that peft implements (prefix, prompt, ptuning)."""
from __future__ import annotations

from pathlib import Path
from typing import Any


class PeftPromptLearning:
    """apply / save / load for a peft prompt-learning config built by `peft_config(model)`."""

    def peft_config(self, model: Any) -> Any:  # pragma: no cover (overridden)
        raise NotImplementedError

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        from peft import get_peft_model

        peft_model = get_peft_model(model, self.peft_config(model))
        self.initialise(peft_model, tokenizer)
        return peft_model

    def initialise(self, peft_model: Any, tokenizer: Any) -> None:
        """Optional initialisation of the virtual tokens after wrapping (default: none)."""

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        from ._hf import save_adapter

        return save_adapter(model, tokenizer, out_dir)

    def load(self, model: Any, out_dir: Path) -> Any:
        from ._hf import load_adapter

        return load_adapter(model, Path(out_dir) / "adapter")

    def callbacks(self) -> list:
        return []
