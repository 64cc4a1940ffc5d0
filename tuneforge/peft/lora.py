"""LoRA through peft: W = W0 + (alpha / r) * B A, with A, B trained and W0 frozen."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.peft._init_conversion import keep_initial_adapter
from tuneforge.peft._loraplus import mark_loraplus
from tuneforge.registry import register

INITS = ("default", "gaussian", "pissa", "olora")  # and pissa_niter_<n> (fast randomised SVD)


@register("peft", "lora")
class Lora:
    """Low-rank adapters on `target_modules`; saved in PEFT format, optionally merged too. With
    `load_in_8bit` the frozen base's linear layers are int8 (bitsandbytes LLM.int8, `lm_head` kept):
    loaded so by builders that read weights (hf, smollm2_135m), quantised after building otherwise."""

    quantized_base = False  # whether the method always quantises the base (QLoRA): PiSSA / OLoRA refused

    def __init__(self, r: int = 8, alpha: int = 16, dropout: float = 0.05,
                 target_modules: list[str] | str = "all-linear", bias: str = "none",
                 merge: bool = False, use_dora: bool = False, load_in_8bit: bool = False,
                 rslora: bool = False, init: str = "default", loraplus_lr_ratio: float | None = None):
        self.r, self.alpha, self.dropout = r, alpha, dropout
        self.target_modules, self.bias = target_modules, bias
        self.merge, self.use_dora, self.load_in_8bit = merge, use_dora, load_in_8bit
        # Variants (docs/peft.md): rsLoRA scaling alpha / sqrt(r), the A/B initialisation, LoRA+'s lr ratio.
        self.rslora, self.init, self.loraplus_lr_ratio = rslora, init, loraplus_lr_ratio
        problems = [*init_issues(init, quantized=load_in_8bit or self.quantized_base, dora=use_dora),
                    *loraplus_issues(loraplus_lr_ratio)]
        if problems:
            raise ConfigError(problems)

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
                          use_dora=self.use_dora, task_type="CAUSAL_LM", use_rslora=self.rslora,
                          init_lora_weights=True if self.init == "default" else self.init)

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        return self.add_adapters(self.quantize(model))

    def add_adapters(self, model: Any) -> Any:
        from peft import get_peft_model

        from tuneforge.peft._skip_dropout import use_skip_dropout

        model = get_peft_model(model, self.peft_config())
        use_skip_dropout(model)  # the same dropout, drawn ~4x faster on a CPU
        keep_initial_adapter(model, self.init)  # PiSSA / OLoRA: saved as a LoRA on the original base
        return mark_loraplus(model, self.loraplus_lr_ratio)

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        from tuneforge.peft._hf import save_adapter, save_tokenizer

        saved = save_adapter(model, tokenizer, out_dir)  # model=tiny: run/base; PiSSA / OLoRA: converted
        if self.merge:
            merged_dir = Path(out_dir) / "merged"
            merged = model.merge_and_unload(safe_merge=True)
            merged.save_pretrained(merged_dir)
            save_tokenizer(tokenizer, merged_dir, merged)
            saved["merged"] = str(merged_dir)
        return saved

    def load(self, model: Any, out_dir: Path) -> Any:
        from tuneforge.peft._hf import load_adapter

        return load_adapter(self.quantize(model), Path(out_dir) / "adapter")

    def callbacks(self) -> list:
        return []


# --- LoRA variants' option checks (rsLoRA, init, LoRA+) ---

def init_issues(init: str, quantized: bool = False, dora: bool = False) -> list[ConfigIssue]:
    """`peft.init`: one of INITS or pissa_niter_<n>; PiSSA / OLoRA need a full-precision base (they rewrite
    its weights) and plain LoRA (the saved adapter is converted to a LoRA on the original base)."""
    if init not in INITS and not (init.startswith("pissa_niter_") and init[len("pissa_niter_"):].isdigit()):
        return [ConfigIssue("peft.init", f"expected one of {', '.join(INITS)} or pissa_niter_<n> "
                                         f"(e.g. pissa_niter_16), got {init!r}")]
    if init.startswith(("pissa", "olora")) and (quantized or dora):
        what = "DoRA (its magnitude vector cannot be converted back to the original base)" if dora else \
            "a quantised base (PiSSA / OLoRA rewrite the base weights in full precision)"
        return [ConfigIssue("peft.init", f"init={init} does not work with {what}: use peft=lora without "
                                         "load_in_8bit, or peft.init=default")]
    return []


def loraplus_issues(ratio: float | None) -> list[ConfigIssue]:
    """`peft.loraplus_lr_ratio`: null (off) or a finite ratio > 0 (the LoRA+ paper's default: 16)."""
    if ratio is None or 0 < ratio < float("inf"):
        return []
    return [ConfigIssue("peft.loraplus_lr_ratio", f"must be > 0 (e.g. 16; null turns LoRA+ off), got {ratio!r}")]

