"""Shared helpers for the PEFT tests: a small composed config and a short real training run."""
from __future__ import annotations

from pathlib import Path

SMALL = ["model.hidden_size=32", "model.num_layers=2", "model.num_heads=2", "model.intermediate_size=64",
         "data.num_train=64", "data.num_val=8", "data.num_test=4", "data.batch_size=8",
         "data.eval_batch_size=8", "callbacks=none", "logger=none", "eval.enabled=false",
         "trainer.val_check_interval=null", "+trainer.enable_progress_bar=false",
         "trainer.log_every_n_steps=1"]


def small_cfg(compose, run_dir: Path, *overrides: str):
    return compose("train", [*SMALL, f"run_dir={run_dir}", *overrides])


def train_small(compose, run_dir: Path, *overrides: str) -> dict:
    from tuneforge.commands.train import train

    return train(small_cfg(compose, run_dir, *overrides))
