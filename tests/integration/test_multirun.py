"""`tuneforge train -m`: every job runs with its own overrides and the sweep ends with a summary."""
from __future__ import annotations

import csv
import json
import subprocess
import sys


def test_multirun_writes_a_summary(tmp_path):
    sweep = tmp_path / "sweep"
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", "-m", "peft=full,lora",
                          "trainer.max_steps=3", "eval.enabled=false", "callbacks=none", "logger=none",
                          "data.num_train=64", "model.hidden_size=32", "model.num_layers=1",
                          f"hydra.sweep.dir={sweep}"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert [r["overrides"] for r in rows] == ["peft=full", "peft=lora"]
    for i, row in enumerate(rows):
        metrics = json.loads((sweep / str(i) / "metrics.json").read_text())
        assert float(row["params/trainable"]) == metrics["params/trainable"]
    assert float(rows[0]["params/trainable"]) > 2 * float(rows[1]["params/trainable"])
    assert "| job | overrides |" in (sweep / "summary.md").read_text()
