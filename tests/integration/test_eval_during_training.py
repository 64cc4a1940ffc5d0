"""eval.every_n_steps: generation metrics on the validation split during training, logged as
val/<metric>, with the best checkpoint kept by eval.best_by."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import torch


def test_metrics_every_n_steps_and_best_checkpoint(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", f"hydra.run.dir={tmp_path}",
                          "trainer.max_steps=70", "eval.every_n_steps=30", "eval.best_by=exact_match",
                          "eval.metrics=[exact_match,rouge_l]", "eval.limit=24", "eval.before=false",
                          "data.num_train=512", "model.hidden_size=64", "model.num_layers=2",
                          "trainer.log_every_n_steps=1", "optimizer.lr=3e-3"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [r for r in csv.DictReader((tmp_path / "logs" / "metrics.csv").open()) if r.get("val/exact_match")]
    assert [int(r["step"]) for r in rows] == [29, 59, 69]  # CSV steps are 0-based: after steps 30, 60, 70
    for name in ("val/exact_match", "val/rouge_l"):
        assert all(0.0 <= float(r[name]) <= 1.0 for r in rows)
    def eval_state(name: str) -> dict:
        callbacks = torch.load(tmp_path / "checkpoints" / name, weights_only=True)["callbacks"]
        return next(v for k, v in callbacks.items() if k.startswith("GenerationEval"))

    history = eval_state("last.ckpt")["history"]
    assert [step for step, _ in history] == [30, 60, 70]
    best_value = max(scores["exact_match"] for _, scores in history)
    best_step = min(s for s, scores in history if scores["exact_match"] == best_value)
    assert tuple(eval_state("last.ckpt")["best"]) == (best_step, best_value)
    assert tuple(eval_state("best.ckpt")["best"]) == (best_step, best_value)  # saved at the best step
    assert torch.load(tmp_path / "checkpoints" / "best.ckpt", weights_only=True)["global_step"] == best_step
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["val/exact_match"] == history[-1][1]["exact_match"]


def test_best_by_must_be_one_of_the_metrics(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", f"hydra.run.dir={tmp_path}",
                          "trainer.max_steps=2", "eval.every_n_steps=1", "eval.best_by=rouge_l",
                          "data.num_train=64", "model.hidden_size=32", "model.num_layers=1"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "eval.best_by: 'rouge_l' is not one of eval.metrics" in out.stderr
