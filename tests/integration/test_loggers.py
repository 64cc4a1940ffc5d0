"""Several loggers at once, offline: CSV, TensorBoard and W&B each record the training loss."""
from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest


def test_csv_tensorboard_wandb_together_offline(tmp_path):
    pytest.importorskip("tensorboard")
    secret = "sk-tuneforge-test-4f9a1c0e77"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env |= {"OPENAI_API_KEY": secret, "WANDB_API_KEY": secret, "HF_TOKEN": secret}
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", "logger=[csv,tensorboard,wandb]",
                          "trainer.max_steps=4", "trainer.log_every_n_steps=1", "eval.enabled=false",
                          "callbacks=none", "data.num_train=64", "model.hidden_size=32", "model.num_layers=1",
                          f"hydra.run.dir={tmp_path}"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = list(csv.DictReader((tmp_path / "logs" / "metrics.csv").open()))
    assert sum(1 for r in rows if r.get("train/loss")) == 4
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))
    for file in (p for p in tmp_path.rglob("*") if p.is_file()):  # no secret from the environment
        assert secret.encode() not in file.read_bytes(), file
