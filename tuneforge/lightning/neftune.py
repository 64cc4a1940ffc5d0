"""NEFTune (Jain et al., 2023): noisy input embeddings during instruction tuning.

While a model trains, every forward pass adds uniform noise U(-m, m), m = alpha / sqrt(L d) (L: the
batch's sequence length, padding included; d: the embedding width), to the output of its input
embeddings, as TRL's and HF Trainer's `neftune_noise_alpha` do. The hook checks the embedding module's
training mode, so validation, evaluation and generation (eval mode) see clean embeddings, and it is
removed when the fit ends: a saved model carries nothing of it. `callbacks=neftune` turns it on
(`callbacks.neftune.alpha`, 5 by default: the paper's value for 7B Llama models)."""
from __future__ import annotations

import math
from typing import Any

import lightning.pytorch as pl


def add_neftune(model: Any, alpha: float) -> Any:
    """Register the noise hook on `model`'s input embeddings; returns the hook's handle (`.remove()`)."""
    import torch

    def noisy(module: torch.nn.Module, args: Any, output: torch.Tensor) -> torch.Tensor:
        if not module.training or alpha == 0:
            return output
        scale = alpha / math.sqrt(output.size(-2) * output.size(-1))
        return output + torch.zeros_like(output).uniform_(-scale, scale)

    return model.get_input_embeddings().register_forward_hook(noisy)


class NEFTune(pl.Callback):
    """Uniform noise of scale alpha / sqrt(L d) on the input embeddings of training forward passes only."""

    def __init__(self, alpha: float = 5.0) -> None:
        self.alpha, self.handle = float(alpha), None

    @staticmethod
    def config_issues(alpha: float = 5.0) -> dict[str, str]:
        """Value problems by key, for `tuneforge validate` (the types are checked from the signature)."""
        return {} if math.isfinite(alpha) and alpha >= 0 else \
            {"alpha": f"must be a finite number >= 0 (5 is the paper's value; 0 adds no noise), got {alpha!r}"}

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.handle = add_neftune(getattr(pl_module, "model", pl_module), self.alpha)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.remove()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self.remove()

    def remove(self) -> None:
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
