"""`tuneforge eval` on a training run reproduces the run's exact_match_after; `tuneforge compare`
produces the table and the charts of two runs (a short terminal table, every differing key in the files)."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

TUNEFORGE = [sys.executable, "-m", "tuneforge.cli"]
SMALL = ["data.num_train=512", "data.num_test=48", "callbacks=none", "model.hidden_size=64",
         "model.num_layers=2", "model.num_heads=2", "trainer.val_check_interval=20"]


def cli(*args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([*TUNEFORGE, *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-4000:]
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    base = tmp_path_factory.mktemp("runs")
    cli("train", f"hydra.run.dir={base / 'full'}", "trainer.max_steps=40", *SMALL)
    cli("train", f"hydra.run.dir={base / 'lora'}", "trainer.max_steps=20", "peft=lora", "peft.r=4", *SMALL)
    return [base / "full", base / "lora"]


@pytest.mark.parametrize("which", [0, 1])
def test_eval_reproduces_the_runs_exact_match(runs, tmp_path, which):
    run = runs[which]
    cli("eval", f"run={run}", f"hydra.run.dir={tmp_path}", "metrics=[exact_match,response_perplexity]")
    trained = json.loads((run / "metrics.json").read_text())
    evaluated = json.loads((tmp_path / "metrics.json").read_text())
    assert evaluated["eval/exact_match"] == trained["exact_match_after"]
    assert evaluated["eval/examples"] == 48
    assert evaluated["eval/response_perplexity"] > 1.0
    predictions = [json.loads(ln) for ln in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == 48 and {"prompt", "reference", "prediction"} <= predictions[0].keys()
    hits = sum(p["prediction"].strip() == p["reference"] for p in predictions)
    assert hits / 48 == evaluated["eval/exact_match"]


def test_eval_refuses_a_directory_that_is_not_a_run(tmp_path):
    out = subprocess.run([*TUNEFORGE, "eval", f"run={tmp_path}", f"hydra.run.dir={tmp_path / 'o'}"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "is not a tuneforge run directory" in out.stderr


def test_compare_writes_table_and_charts(runs, tmp_path):
    from PIL import Image

    out = cli("compare", *map(str, runs), f"--out={tmp_path}")
    table = [ln for ln in out.stdout.splitlines() if "│" in ln]  # the terminal table: one column per run
    assert any("peft.name" in ln and "full" in ln and "lora" in ln for ln in table)
    assert any("trainer.max_steps" in ln and "40" in ln and "20" in ln for ln in table)
    assert any(ln.split("│")[1].strip() == "exact_match_after" for ln in table)
    assert not any("peft.r " in ln or "logger." in ln for ln in table)  # lora's own keys come with peft.name
    rows = list(csv.DictReader((tmp_path / "compare.csv").open()))
    assert [Path(r["run"]).name for r in rows] == ["full", "lora"]
    assert [r["peft.name"] for r in rows] == ["full", "lora"]  # the config keys that differ
    for row, run in zip(rows, runs):
        assert float(row["exact_match_after"]) == json.loads((run / "metrics.json").read_text())["exact_match_after"]
    md = (tmp_path / "compare.md").read_text()
    assert "| run | " in md and "peft.name" in md and "exact_match_after" in md and "peft.r" in md  # every diff
    for png in ("metrics.png", "loss_curves.png"):
        image = Image.open(tmp_path / png)
        assert image.width > 400 and image.height > 200
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert len(colors) > 20  # something is drawn, not a blank canvas
