"""Exact resume: a run killed with SIGKILL (or stopped by SIGTERM) and resumed with resume=auto ends
with the same step count and the same weights as an uninterrupted run."""
from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ARGS = ["model.hidden_size=32", "model.num_layers=1", "model.num_heads=2", "data.num_train=200",
        "data.batch_size=32", "eval.enabled=false", "callbacks=none", "logger=none",
        "checkpoint.every_n_steps=5", "peft=lora", "peft.dropout=0.1", "peft.r=4"]
# 200 examples / 32 = 7 batches an epoch: checkpoints fall inside epochs and on their last batch.


def command(run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tuneforge.cli", "train", f"hydra.run.dir={run_dir}", *ARGS, *extra]


def finish(run_dir: Path, *extra: str) -> dict:
    out = subprocess.run(command(run_dir, *extra), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads((run_dir / "metrics.json").read_text())


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(run_dir / "adapter" / "adapter_model.safetensors")


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.allclose(wa[key], wb[key], atol=1e-5, rtol=0), key


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, dict]:
    run = tmp_path_factory.mktemp("uninterrupted")
    return run, finish(run, "trainer.max_steps=60")


def start_and_kill(run_dir: Path, sig: int, seed: int) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(command(run_dir, "trainer.max_steps=60"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    deadline = time.time() + 240
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(random.Random(seed).uniform(0.0, 0.6))
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("seed", [0, 1])
def test_sigkill_midway_then_resume_gives_the_same_weights(reference, tmp_path, seed):
    ref_dir, ref_metrics = reference
    killed = start_and_kill(tmp_path, signal.SIGKILL, seed)
    if killed.returncode == 0:
        pytest.skip("the run finished before the kill (machine too fast for this timing)")
    assert not (tmp_path / "metrics.json").exists()
    metrics = finish(tmp_path, "trainer.max_steps=60", "resume=auto")
    assert metrics["trainer/global_step"] == ref_metrics["trainer/global_step"] == 60
    assert_same_weights(ref_dir, tmp_path)


def test_sigterm_checkpoints_stops_clearly_and_resumes_exactly(reference, tmp_path):
    ref_dir, _ = reference
    stopped = start_and_kill(tmp_path, signal.SIGTERM, 2)
    if stopped.returncode == 0:
        pytest.skip("the run finished before the signal")
    assert stopped.returncode == 2 and "continue with resume=auto" in stopped.stderr
    finish(tmp_path, "trainer.max_steps=60", "resume=auto")
    assert_same_weights(ref_dir, tmp_path)


def test_checkpoint_on_an_epoch_end_loses_no_epoch(tmp_path):
    # The schedule must not depend on the changed length; 7 batches an epoch.
    common = ["scheduler=constant", "trainer.max_steps=-1"]
    straight = tmp_path / "straight"
    assert finish(straight, "trainer.max_epochs=3", *common)["trainer/global_step"] == 21
    split = tmp_path / "split"
    finish(split, "trainer.max_epochs=2", *common)  # saved on an epoch's last batch: an exhausted iterator
    metrics = finish(split, "trainer.max_epochs=3", "resume=auto", *common)
    assert metrics["trainer/global_step"] == 21  # no epoch silently skipped
    assert_same_weights(straight, split)


def test_changed_config_is_refused_with_a_diff(reference, tmp_path):
    ref_dir, _ = reference
    out = subprocess.run(command(ref_dir, "trainer.max_steps=60", "resume=auto", "optimizer.lr=0.5"),
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "refusing to resume" in out.stderr and "optimizer.lr: 0.002 -> 0.5" in out.stderr
