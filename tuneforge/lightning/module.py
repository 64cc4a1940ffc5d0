"""The LightningModule that trains whatever was assembled: a HF causal LM (PEFT-wrapped or not),
an optimizer built from config and a scheduler component."""
from __future__ import annotations

from typing import Any, Callable

import lightning.pytorch as pl
import torch

from ..scheduler.base import Scheduler, lambda_lr

NO_DECAY_HINTS = ("bias", "norm", "ln_", "layernorm")


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Trainable parameters in two groups: weight decay on matrices, none on biases and norms."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        lowered = name.lower()
        (no_decay if p.ndim < 2 or any(h in lowered for h in NO_DECAY_HINTS) else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


class SFTModule(pl.LightningModule):
    """Supervised fine-tuning: the loss is the model's own causal-LM loss on the masked labels."""

    def __init__(self, model: torch.nn.Module, make_optimizer: Callable[..., torch.optim.Optimizer],
                 scheduler: Scheduler, weight_decay: float = 0.0):
        super().__init__()
        self.model, self.make_optimizer = model, make_optimizer
        self.scheduler, self.weight_decay = scheduler, weight_decay
        self.strict_loading = False  # checkpoints hold only the trainable weights

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Only trainable tensors: the frozen base is rebuilt identically from config on resume."""
        trainable = {n for n, p in self.named_parameters() if p.requires_grad}
        return {k: v for k, v in super().state_dict(*args, **kwargs).items() if k in trainable}

    def forward(self, batch: dict[str, torch.Tensor]) -> Any:
        return self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                          labels=batch["labels"], use_cache=False)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self(batch).loss
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["input_ids"].shape[0])
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self(batch).loss
        self.log("val/loss", loss, prog_bar=True, batch_size=batch["input_ids"].shape[0])
        return loss

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = self.make_optimizer(parameter_groups(self.model, self.weight_decay))
        total = int(self.trainer.estimated_stepping_batches)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": lambda_lr(optimizer, self.scheduler, total),
                                 "interval": "step", "frequency": 1}}
