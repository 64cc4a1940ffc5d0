"""A quickstart run (LoRA, so peft and bitsandbytes are imported) prints no advert, no deprecation and no line
twice; its CSV log has the learning rate and gradient norm at every step; Lightning writes no second
checkpoint directory."""
from __future__ import annotations

import collections
import csv
import math
import os
import re
import subprocess
import sys

#: What the libraries printed before tuneforge/quiet.py: Lightning's adverts, deprecations (transformers,
#: torchdata, Lightning's pytree, wandb), bitsandbytes' kernels hint, Lightning's checkpoint note.
NOISE = re.compile(r"Tip:|litlogger|litmodels|deprecat|Deprecat|FutureWarning|UserWarning|warnings\.warn|"
                   r"pip install kernels|gemm_4bit|weights_only|anonymous setting")
HYDRA_PREFIX = re.compile(r"^\[[^]]+\]\[[^]]+\]\[[A-Z]+\] - ")
PROGRESS = re.compile(r"it/s\]|s/it\]|%\||\x1b\[A")  # tqdm bars redraw their line by design


def log_lines(text: str) -> list[str]:
    """Non-empty lines of a stream without progress-bar redraws, each without Hydra's time/logger prefix."""
    lines = (ln.strip() for part in text.split("\n") for ln in part.split("\r"))
    return [HYDRA_PREFIX.sub("", ln) for ln in lines if ln and not PROGRESS.search(ln)]


def test_a_run_prints_no_noise_and_logs_lr_and_grad_norm(tmp_path):
    env = {**os.environ, "WANDB_MODE": "offline", "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", "peft=lora", "trainer.max_steps=4",
                          "trainer.log_every_n_steps=1", "trainer.val_check_interval=2", "data.num_train=128",
                          "data.batch_size=32", "data.num_test=8", "eval.limit=8", "model.hidden_size=32",
                          "model.num_layers=1", f"hydra.run.dir={tmp_path}"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    noise = [ln for ln in (out.stdout + out.stderr).splitlines() if NOISE.search(ln)]
    assert not noise, "\n".join(noise)
    stdout, stderr = log_lines(out.stdout), log_lines(out.stderr)
    assert (out.stdout + out.stderr).count("`Trainer.fit` stopped") == 1  # Lightning's lines reach the app's
    assert not [ln for ln in stderr if ln.startswith("INFO:")]  # log once, not again through its own handler
    repeated = [ln for ln, n in collections.Counter(stdout + stderr).items() if n > 1]
    assert not repeated, repeated
    assert "`Trainer.fit` stopped" in (tmp_path / "train.log").read_text()

    rows = [r for r in csv.DictReader((tmp_path / "logs" / "metrics.csv").open()) if r.get("train/loss")]
    assert [int(r["step"]) for r in rows] == [0, 1, 2, 3]
    lrs = [float(r["train/lr"]) for r in rows]
    assert lrs == sorted(lrs) and lrs[-1] > 0  # the warm-up of warmup_cosine, one value per step
    norms = [float(r["train/grad_norm"]) for r in rows]
    assert all(math.isfinite(n) and n > 0 for n in norms)

    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert not (tmp_path / "logs" / "checkpoints").exists()  # Lightning's default ModelCheckpoint is off
