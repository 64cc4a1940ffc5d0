"""Sweeps beyond the basic launcher (the `sweep` extra): a 2-trial Optuna search over
conf/hparams_search/optuna_lr.yaml that optimises val/loss from metrics.json, a 2-job joblib
run and a 2-job submitit_local run (separate processes); all end with the summary table and chart.
Skipped when the extra is not installed."""
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


needs_submitit = pytest.mark.skipif(not has("hydra_plugins.hydra_submitit_launcher"),
                                    reason="needs the sweep extra (hydra-submitit-launcher)")


@needs_submitit
@pytest.mark.slow
def test_submitit_local_runs_each_job_in_its_own_process_and_the_summary_gathers_them(tmp_path):
    """The launcher that submits to SLURM (`submitit_slurm`) run locally: each job is a separate submitit
    process; the trainer's node count comes from the launcher's resources through `${hydra:launcher.nodes}`."""
    sweep = tmp_path / "submitit"
    out = tuneforge("train", "-m", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10",
                    "+trainer.num_nodes=${hydra:launcher.nodes}", "peft=full,lora", *SMALL,
                    f"hydra.sweep.dir={sweep}")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Submitit 'local' sweep" in out.stdout + out.stderr
    logs = sorted((sweep / ".submitit").rglob("*_log.out"))
    assert len({p.parent.name for p in logs}) == 2  # two submitit jobs, each with its own process and log
    steps = {json.loads((sweep / j / "metrics.json").read_text()).get("trainer/global_step") for j in ("0", "1")}
    assert steps == {2}
    for job in ("0", "1"):
        config = yaml.safe_load((sweep / job / "config.yaml").read_text())
        assert config["trainer"]["num_nodes"] == 1 and config["trainer"]["devices"] == 1
    rows = [r for r in csv.DictReader((sweep / "summary.csv").open()) if not r["job"].startswith(".")]
    assert [r["job"] for r in rows] == ["0", "1"]
    assert ["peft=full" in rows[0]["overrides"], "peft=lora" in rows[1]["overrides"]] == [True, True]
    assert all(float(r["val/loss"]) > 0 for r in rows)


@needs_submitit
def test_slurm_launcher_takes_its_resources_from_the_trainer(compose):
    """conf/hydra/launcher/slurm.yaml: one SLURM task per device on `trainer.num_nodes` nodes, as Lightning's
    SLURM environment expects (not run here: no cluster)."""
    cfg = compose("train", ["hydra/launcher=slurm", "trainer.devices=4", "+trainer.num_nodes=2"],
                  return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.nodes, launcher.tasks_per_node, launcher.gpus_per_node) == (2, 4, 4)
    single = compose("train", ["hydra/launcher=slurm"], return_hydra_config=True).hydra.launcher
    assert (single.nodes, single.tasks_per_node) == (1, 1)
