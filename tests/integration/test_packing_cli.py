"""Short packed training runs from the CLI (`data.packing=true` and `padding_free`) follow the unpacked run's
loss curve step by step (packing changes the layout of each batch, not which examples it holds)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ARGS = ["model.hidden_size=32", "model.num_layers=2", "model.num_heads=2", "data.num_train=96",
        "data.batch_size=16", "eval.enabled=false", "callbacks=none", "logger=none", "checkpoint.enabled=false",
        "peft=lora", "peft.dropout=0.0", "peft.r=4", "trainer.max_steps=8", "trainer.val_check_interval=4",
        "scheduler=constant", "optimizer.lr=1e-2"]


def train(run_dir: Path, *extra: str) -> tuple[dict, list]:
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", f"hydra.run.dir={run_dir}", *ARGS,
                          *extra], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    history = json.loads((run_dir / "loss_history.json").read_text())
    return json.loads((run_dir / "metrics.json").read_text()), history


@pytest.mark.slow
def test_packed_runs_match_the_unpacked_run(tmp_path):
    plain_metrics, plain = train(tmp_path / "plain")
    for mode, extra in (("packed", ["data.packing=true", "data.pack_length=96"]),
                        ("padding_free", ["data.packing=padding_free"])):
        packed_metrics, packed = train(tmp_path / mode, *extra)
        assert packed_metrics["trainer/global_step"] == plain_metrics["trainer/global_step"] == 8
        assert len(packed["train"]) == len(plain["train"]) == 8
        for (s1, a), (s2, b) in zip(plain["train"], packed["train"]):
            assert s1 == s2 and abs(a - b) < 1e-4, (mode, s1, a, b)
        assert abs(packed_metrics["val/loss"] - plain_metrics["val/loss"]) < 1e-4, mode
        assert packed["train"][-1][1] < packed["train"][0][1]  # it learns


def test_group_by_length_run_from_the_cli(tmp_path):
    metrics, history = train(tmp_path, "data.group_by_length=true", "trainer.max_steps=4")
    assert metrics["trainer/global_step"] == 4 and len(history["train"]) == 4
