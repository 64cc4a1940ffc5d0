"""Sweeps beyond the basic launcher (the `sweep` extra): a 2-trial Optuna search over
conf/hparams_search/optuna_lr.yaml that optimises val/loss from metrics.json, and a 2-job joblib
run; both end with the summary table and chart. Skipped when the extra is not installed."""
from __future__ import annotations

import csv
import importlib.util
import json
import math
import subprocess
import sys

import pytest
import yaml

from tuneforge.commands.train import optimized_value
from tuneforge.errors import TuneforgeError

SMALL = ["model.hidden_size=32", "model.num_layers=1", "model.num_heads=2", "model.intermediate_size=64",
         "data.num_train=64", "data.num_val=8", "data.batch_size=16", "trainer.max_steps=2",
         "trainer.val_check_interval=2", "eval.enabled=false", "callbacks=none", "logger=none",
         "checkpoint.enabled=false"]


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


needs_optuna = pytest.mark.skipif(not has("hydra_plugins.hydra_optuna_sweeper"),
                                  reason="needs the sweep extra (hydra-optuna-sweeper)")
needs_joblib = pytest.mark.skipif(not has("hydra_plugins.hydra_joblib_launcher"),
                                  reason="needs the sweep extra (hydra-joblib-launcher)")


def tuneforge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tuneforge.cli", *args], capture_output=True, text=True,
                          timeout=300)


def test_optimized_metric_is_returned_as_a_float():
    metrics = {"val/loss": 1.25, "trainer/global_step": 3, "model": "x"}
    assert optimized_value(metrics, None) is metrics
    assert optimized_value(metrics, "val/loss") == 1.25
    assert isinstance(optimized_value(metrics, "trainer/global_step"), float)
    with pytest.raises(TuneforgeError, match=r"'eval/f1' is not a number .*numeric metrics: trainer/global_step, val/loss"):
        optimized_value(metrics, "eval/f1")


@needs_optuna
@pytest.mark.slow
def test_optuna_search_optimises_val_loss_from_metrics_json(tmp_path):
    sweep = tmp_path / "optuna"
    out = tuneforge("train", "hparams_search=optuna_lr", "hydra.sweeper.n_trials=2", *SMALL,
                    f"hydra.sweep.dir={sweep}")
    assert out.returncode == 0, out.stderr[-3000:]
    losses, lrs = [], []
    for job in ("0", "1"):
        metrics = json.loads((sweep / job / "metrics.json").read_text())
        losses.append(metrics["val/loss"])
        config = yaml.safe_load((sweep / job / "config.yaml").read_text())
        lrs.append(config["optimizer"]["lr"])
        assert 1e-4 <= config["optimizer"]["lr"] <= 1e-2 and config["optimized_metric"] == "val/loss"
    assert not (sweep / "2").exists()
    assert lrs[0] != lrs[1], "each trial trains with its own sampled learning rate"
    result = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert math.isclose(result["best_value"], min(losses))  # Optuna got the jobs' metrics.json values
    assert math.isclose(result["best_params"]["optimizer.lr"], lrs[losses.index(min(losses))])
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert [float(r["val/loss"]) for r in rows] == losses
    assert all("optimizer.lr=" in r["overrides"] for r in rows)
    assert (sweep / "summary.png").stat().st_size > 1000


@needs_joblib
@pytest.mark.slow
def test_joblib_launcher_runs_two_jobs_in_worker_processes(tmp_path):
    sweep = tmp_path / "joblib"
    out = tuneforge("train", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "peft=full,lora", *SMALL,
                    f"hydra.sweep.dir={sweep}")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Joblib.Parallel(n_jobs=2" in out.stdout + out.stderr
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert [r["overrides"] for r in rows] == ["peft=full", "peft=lora"]
    full, lora = (json.loads((sweep / j / "metrics.json").read_text()) for j in ("0", "1"))
    assert full["params/trainable"] > 2 * lora["params/trainable"]  # each job got its own peft
    for metrics in (full, lora):
        assert metrics["trainer/global_step"] == 2
        assert metrics["perf/tokens_per_s"] > 0 and metrics["perf/peak_rss_mb"] > 50
