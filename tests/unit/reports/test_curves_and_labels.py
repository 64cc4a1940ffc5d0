"""The sweep summary charts every job's train and validation loss in one PNG, labelled by its overrides, and its
metrics as bars; `compare` keeps the keys that matter for its short table and labels, and draws its bars with
the same helper (reports/curves.py), each run's metrics.json read once."""
from __future__ import annotations

import json

import yaml

from tuneforge.reports.compare import headline_keys, run_labels
from tuneforge.reports.sweep_summary import summarize


def test_sweep_summary_overlays_the_jobs_loss_curves(tmp_path, capsys):
    for job, lr in enumerate(("1e-3", "2e-3")):
        run = tmp_path / str(job)
        (run / ".hydra").mkdir(parents=True)
        (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["peft=lora", f"optimizer.lr={lr}"]))
        (run / "metrics.json").write_text(json.dumps({"train/loss": 1.0 + job}))
        train = [[s, 3.0 / (s + 1) + job] for s in range(1, 30)]
        (run / "loss_history.json").write_text(json.dumps({"train": train, "val": [[10, 1.5 + job], [20, 1.2 + job]]}))
    summarize(tmp_path)
    from PIL import Image

    image = Image.open(tmp_path / "loss_curves.png").convert("RGB")
    colors = {c: n for n, c in image.getcolors(maxcolors=1 << 20)}
    assert colors.get((31, 119, 180), 0) > 200 and colors.get((255, 127, 14), 0) > 200  # both jobs drawn (C0, C1)
    bars = {c: n for n, c in Image.open(tmp_path / "summary.png").convert("RGB").getcolors(maxcolors=1 << 20)}
    assert bars.get((31, 119, 180), 0) > 200 and bars.get((255, 127, 14), 0) > 200  # one bar per job
    assert str(tmp_path / "loss_curves.png") in capsys.readouterr().out


def test_compare_reads_each_runs_metrics_once_and_charts_them(tmp_path, monkeypatch, capsys):
    from PIL import Image

    from tuneforge.reports import compare as compare_mod

    runs = []
    for name, lr, loss in (("a", 0.001, 1.5), ("b", 0.002, 0.7)):
        run = tmp_path / name
        run.mkdir()
        (run / "config.yaml").write_text(yaml.safe_dump({"optimizer": {"lr": lr}, "seed": 42}))
        (run / "metrics.json").write_text(json.dumps({"val/loss": loss, "train/loss": loss + 0.1, "note": "x"}))
        runs.append(str(run))
    reads = []
    read = compare_mod.numeric_metrics
    monkeypatch.setattr(compare_mod, "numeric_metrics", lambda run: reads.append(run) or read(run))
    files = compare_mod.compare(runs, str(tmp_path / "out"))
    assert len(reads) == 2  # rows_for's read gives the metric names too
    table = (tmp_path / "out" / "compare.md").read_text().splitlines()
    assert table[0] == "| run | optimizer.lr | val/loss | train/loss |"  # config keys, then metrics (not "note")
    bars = {c: n for n, c in Image.open(files["metrics_png"]).convert("RGB").getcolors(maxcolors=1 << 20)}
    assert bars.get((31, 119, 180), 0) > 200 and bars.get((255, 127, 14), 0) > 200  # one bar per run
    assert "losses_png" not in files  # no loss history


def test_a_differing_method_stands_for_its_keys_and_logging_keys_are_left_out():
    keys = ["data.num_train", "logger.wandb.project", "optimizer.lr", "peft.alpha", "peft.name", "peft.r",
            "trainer.log_every_n_steps", "trainer.max_steps", "peft._target_"]
    assert headline_keys(keys) == ["peft.name", "optimizer.lr", "trainer.max_steps", "data.num_train"]
    rows = [{"run": "/x/0", "peft.name": "full", "optimizer.lr": 0.001}, {"run": "/x/1", "peft.name": "lora",
                                                                         "optimizer.lr": 0.001}]
    assert run_labels(rows, ["peft.name"]) == ["peft.name=full", "peft.name=lora"]
    assert run_labels(rows, ["optimizer.lr"]) == ["optimizer.lr=0.001 (0)", "optimizer.lr=0.001 (1)"]
