"""Callbacks every run gets: the loss history (for metrics.json and the loss-curve PNG) and the
progress bar (rich on a terminal, plain and infrequent otherwise)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import lightning.pytorch as pl


class LossHistory(pl.Callback):
    """Records train/loss at every optimizer step and val/loss at every validation."""

    def __init__(self) -> None:
        self.train: list[tuple[int, float]] = []
        self.val: list[tuple[int, float]] = []

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is not None:
            self.train.append((trainer.global_step, float(loss.detach())))

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        value = trainer.callback_metrics.get("val/loss")
        if value is not None and not trainer.sanity_checking:
            self.val.append((trainer.global_step, float(value)))

    def plot(self, path: Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        if self.train:
            ax.plot(*zip(*self.train), label="train/loss", linewidth=1)
        if self.val:
            ax.plot(*zip(*self.val), "o-", label="val/loss")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path


def progress_bar(refresh_rate: int = 10, plain_refresh_rate: int = 50) -> pl.Callback:
    """Rich progress bar on a terminal; an infrequently refreshed plain bar in logs and CI."""
    from lightning.pytorch.callbacks import RichProgressBar, TQDMProgressBar

    if sys.stdout.isatty():
        return RichProgressBar(refresh_rate=refresh_rate)
    return TQDMProgressBar(refresh_rate=plain_refresh_rate)
