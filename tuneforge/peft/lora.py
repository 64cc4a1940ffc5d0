"""LoRA through peft: W = W0 + (alpha / r) * B A, with A, B trained and W0 frozen."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneforge.registry import register


@register("peft", "lora")
class Lora:
    """Low-rank adapters on `target_modules`; saved in PEFT format, optionally merged too. With
    `load_in_8bit` the frozen base's linear layers are int8 (bitsandbytes LLM.int8, `lm_head` kept):
    loaded so by builders that read weights (hf, smollm2_135m), quantised after building otherwise."""

    def __init__(self, r: int = 8, alpha: int = 16, dropout: float = 0.05,
                 target_modules: list[str] | str = "all-linear", bias: str = "none",
                 merge: bool = False, use_dora: bool = False, load_in_8bit: bool = False):
        self.r, self.alpha, self.dropout = r, alpha, dropout
        self.target_modules, self.bias = target_modules, bias
        self.merge, self.use_dora, self.load_in_8bit = merge, use_dora, load_in_8bit

    def quantization_config(self) -> Any:
        """What the model builder should load the base with (None: full precision)."""
        if not self.load_in_8bit:
            return None
        from transformers import BitsAndBytesConfig

        return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=["lm_head"])

    def quantize(self, model: Any) -> Any:
        """The base as this method trains it: int8 with `load_in_8bit` (unless loaded so), else as built."""
        if not self.load_in_8bit or getattr(model, "is_loaded_in_8bit", False):
            return model
        from tuneforge.model.quantize import quantize_linears

        return quantize_linears(model, bits=8)

    def peft_config(self) -> Any:
        from peft import LoraConfig

        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout,
                          target_modules=self.target_modules, bias=self.bias,
                          use_dora=self.use_dora, task_type="CAUSAL_LM")

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        return self.add_adapters(self.quantize(model))

    def add_adapters(self, model: Any) -> Any:
        from peft import get_peft_model

        return get_peft_model(model, self.peft_config())

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        adapter = Path(out_dir) / "adapter"
        model.save_pretrained(adapter)
        tokenizer.save_pretrained(adapter)
        saved = {"adapter": str(adapter)}
        if self.merge:
            merged_dir = Path(out_dir) / "merged"
            merged = model.merge_and_unload(safe_merge=True)
            merged.save_pretrained(merged_dir)
            tokenizer.save_pretrained(merged_dir)
            saved["merged"] = str(merged_dir)
        return saved

    def load(self, model: Any, out_dir: Path) -> Any:
        from tuneforge.peft._hf import load_adapter

        return load_adapter(self.quantize(model), Path(out_dir) / "adapter")

    def callbacks(self) -> list:
        return []
