"""LoRA+ (Hayou et al., 2024): the B matrices learn `ratio` times faster than the A matrices (the paper's
default ratio: 16). The method records per-parameter learning-rate multipliers on the model
(`tuneforge_lr_scales`: parameter name -> multiplier); the training module gives those parameters optimizer
groups of their own whose learning rate is the optimizer's times the multiplier (schedules then scale it)."""
from __future__ import annotations

from typing import Any

LR_SCALES = "tuneforge_lr_scales"  # read by tuneforge/lightning/module.py's parameter_groups
B_MATRICES = ("lora_B", "lora_embedding_B")


def mark_loraplus(model: Any, ratio: float | None) -> Any:
    """With a ratio: every trainable LoRA B matrix of `model` gets learning rate x `ratio`; returns `model`."""
    if ratio is not None:
        setattr(model, LR_SCALES, {name: float(ratio) for name, p in model.named_parameters()
                                   if p.requires_grad and any(f".{b}." in name for b in B_MATRICES)})
    return model
