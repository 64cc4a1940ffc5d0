"""A short Lightning fit of a built model on CUDA with tuneforge's module and loader."""
from __future__ import annotations

from typing import Any


def fit_on_cuda(model: Any, tokenizer: Any, steps: int = 2, lr: float = 1e-2, **loader: Any) -> Any:
    import lightning.pytorch as pl
    import torch

    from tests.unit.lightning.test_packing import encoded
    from tuneforge.binding import build
    from tuneforge.data.base import LoaderSettings
    from tuneforge.lightning.loaders import make_loader
    from tuneforge.lightning.module import SFTModule
    from tuneforge.lightning.precision import resolve_precision

    settings = LoaderSettings(**{"batch_size": 4, **loader})
    data = make_loader(encoded(tokenizer, n=16), settings, tokenizer.pad_token_id, train=True, seed=0)
    val = make_loader(encoded(tokenizer, n=4), settings, tokenizer.pad_token_id, train=False, seed=0)
    module = SFTModule(model, lambda params: torch.optim.AdamW(params, lr=lr),
                       build("scheduler", {"name": "constant"}, "scheduler"))
    trainer = pl.Trainer(accelerator="gpu", devices=1, precision=resolve_precision(None, "gpu"), max_steps=steps,
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, num_sanity_val_steps=1, val_check_interval=1)
    trainer.fit(module, data, val)
    return trainer
