"""Full fine-tuning: every weight trains; saves a complete Hugging Face model directory."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneforge.registry import register


@register("peft", "full")
class FullFineTuning:
    """All parameters train (about 16 bytes per parameter with AdamW in fp32)."""

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        for p in model.parameters():
            p.requires_grad_(True)
        return model

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        path = Path(out_dir) / "model"
        from tuneforge.peft._hf import save_tokenizer

        model.save_pretrained(path)
        save_tokenizer(tokenizer, path, model)
        return {"model": str(path)}

    def load(self, model: Any, out_dir: Path) -> Any:
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM.from_pretrained(Path(out_dir) / "model").eval()

    def callbacks(self) -> list:
        return []
