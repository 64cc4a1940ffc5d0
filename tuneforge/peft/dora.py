"""DoRA through peft: W = m * (W0 + B A) / ||W0 + B A|| (magnitude and direction trained apart)."""
from __future__ import annotations

from tuneforge.registry import register
from tuneforge.peft.lora import Lora


@register("peft", "dora")
class Dora(Lora):
    """Weight-decomposed LoRA: a trained magnitude vector per output times the LoRA-updated direction."""

    def __init__(self, r: int = 8, alpha: int = 16, dropout: float = 0.05,
                 target_modules: list[str] | str = "all-linear", bias: str = "none", merge: bool = False,
                 rslora: bool = False, init: str = "default", loraplus_lr_ratio: float | None = None):
        super().__init__(r=r, alpha=alpha, dropout=dropout, target_modules=target_modules, bias=bias,
                         merge=merge, use_dora=True, rslora=rslora, init=init, loraplus_lr_ratio=loraplus_lr_ratio)
