"""Gradients are freed right after each optimizer step (not after the next forward pass, as Lightning alone
does), so they never sit beside the next step's activations; accumulation keeps them between micro-batches."""
from __future__ import annotations

import lightning.pytorch as pl
import torch

from tests.conftest import make_tiny
from tests.unit.lightning.test_packing import encoded
from tuneforge.binding import build
from tuneforge.data.base import LoaderSettings
from tuneforge.lightning.loaders import make_loader
from tuneforge.lightning.module import SFTModule


class GradsAtForward(pl.Callback):
    def __init__(self) -> None:
        self.seen: list[bool] = []

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
        self.seen.append(any(p.grad is not None for p in module.parameters()))


def test_gradients_are_freed_after_each_step_and_kept_while_accumulating(byte_tokenizer):
    model, tok = make_tiny(hidden_size=16, num_layers=1)
    loader = make_loader(encoded(tok, n=16), LoaderSettings(batch_size=2), tok.pad_token_id, train=True, seed=0)
    module = SFTModule(model, lambda params: torch.optim.AdamW(params, lr=1e-3),
                       build("scheduler", {"name": "constant"}, "scheduler"))
    probe = GradsAtForward()
    trainer = pl.Trainer(accelerator="cpu", max_steps=2, accumulate_grad_batches=2, logger=False, callbacks=[probe],
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, loader)
    assert trainer.global_step == 2
    assert probe.seen == [False, True, False, True]  # freed after each step; kept between micro-batches
