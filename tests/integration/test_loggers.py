"""Several loggers at once, offline: CSV, TensorBoard and W&B each record the training loss, and the run's
config as hyper-parameters (TensorBoard hparams, the W&B run config)."""
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
    env |= {"OPENAI_API_KEY": secret, "WANDB_API_KEY": secret, "HF_TOKEN": secret, "WANDB_MODE": "offline"}
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
    # the config as hyper-parameters: keys the command line never named (so not from W&B's record of argv)
    assert tensorboard_hparams(tmp_path / "tensorboard")["scheduler/name"].string_value == "warmup_cosine"
    assert b"warmup_cosine" in next(runs[0].glob("*.wandb")).read_bytes()
    for file in (p for p in tmp_path.rglob("*") if p.is_file()):  # no secret from the environment
        assert secret.encode() not in file.read_bytes(), file


def tensorboard_hparams(log_dir):
    """The hparams of the run's TensorBoard event file, as TensorBoard's HParams plugin reads them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    events = EventAccumulator(str(next(log_dir.glob("events.out.tfevents.*"))))
    events.Reload()
    for content in events.PluginTagToContent("hparams").values():
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        if data.HasField("session_start_info"):
            return data.session_start_info.hparams
    raise AssertionError(f"no hparams in {log_dir}")
