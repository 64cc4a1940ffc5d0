"""`tuneforge train` on one GPU: bf16-mixed is chosen when trainer.precision is left null (an explicit value
wins: tests/unit/lightning/test_precision.py), and trainer=fsdp runs 2 steps on a single device."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from tuneforge.lightning.precision import resolve_precision

COMMON = ["model.hidden_size=32", "model.num_layers=2", "model.num_heads=2", "data.num_train=32", "eval.enabled=false",
          "callbacks=none", "logger=none", "trainer.max_steps=2", "data.batch_size=4", "checkpoint.enabled=false"]


def train(run_dir, *overrides: str) -> str:
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", f"hydra.run.dir={run_dir}", *COMMON,
                          *overrides], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    assert json.loads((run_dir / "metrics.json").read_text())["trainer/global_step"] == 2
    return out.stdout + out.stderr


def test_bf16_mixed_is_the_default_on_a_bf16_gpu(tmp_path):
    assert torch.cuda.is_bf16_supported() and resolve_precision(None) == "bf16-mixed"
    assert "bfloat16 Automatic Mixed Precision" in train(tmp_path, "peft=lora")  # an explicit value: unit tests


def test_fsdp_runs_two_steps_on_one_gpu(tmp_path):
    if not torch.distributed.is_nccl_available():
        pytest.skip("FSDP needs NCCL")
    train(tmp_path, "trainer=fsdp", "trainer.devices=1")
