"""Activation (gradient) checkpointing for the built models: `model.gradient_checkpointing=true`.

Each decoder layer keeps only its input during the forward pass and recomputes the rest during backward
(non-reentrant `torch.utils.checkpoint`: it works with keyword inputs, inputs that need no grad and
frozen weights, and it replays the RNG, so dropout masks match). With a frozen base the input
embeddings' output is made to require grad, so that every method's gradient reaches the layers below
its trainable parts (peft's `enable_input_require_grads`).
"""
from __future__ import annotations

from typing import Any


def enable_checkpointing(model: Any) -> Any:
    """Switch non-reentrant activation checkpointing on for a Hugging Face model (in place)."""
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.23 (the old name warns)
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    model.enable_input_require_grads()
    return model
