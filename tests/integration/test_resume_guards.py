"""Resuming someone's (or yesterday's) run directory: nothing is silently skipped, taken or overwritten.
- a finished stage whose settings changed is refused with the diff (an unchanged one is skipped);
- checkpoints without the config.yaml they were made with are refused (never loaded after "starting fresh");
- resume=force writes nothing until every checkpoint has loaded;
- config.yaml records existing paths as absolute, so a run is evaluated or resumed from anywhere."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tuneforge.errors import TuneforgeError

TINY = ["model.hidden_size=32", "model.num_layers=1", "model.num_heads=2", "logger=none", "callbacks=none",
        "eval.enabled=false", "data.batch_size=16"]
RULES = ["data.num_train=64"]
STAGES = "stages=[{name: a, max_steps: 2, lr: %s}, {name: b, max_steps: 2}]"


def run_train(compose, run_dir: Path, *overrides: str) -> dict:
    from tuneforge.commands.train import train

    rules = [] if any(o.startswith("data=") for o in overrides) else RULES
    return train(compose("train", [*TINY, *rules, f"run_dir={run_dir}", *overrides]))


def test_a_finished_stage_with_changed_settings_is_refused(compose, tmp_path):
    run = tmp_path / "run"
    run_train(compose, run, STAGES % 0.002)
    again = run_train(compose, run, STAGES % 0.002)  # unchanged: both stages skipped, same metrics
    assert again["trainer/global_step"] == 4
    with pytest.raises(TuneforgeError) as err:
        run_train(compose, run, STAGES % 0.005)
    message = str(err.value)
    assert "stage 0 (a) finished in an earlier run with other settings" in message
    assert "stages[0].lr: 0.002 -> 0.005" in message or "0.002 -> 0.005" in message
    assert f"delete {run / 'stages' / '0'}" in message


def test_checkpoints_without_their_config_are_refused(compose, tmp_path):
    run = tmp_path / "run"
    run_train(compose, run, "trainer.max_steps=2")
    (run / "config.yaml").unlink()
    with pytest.raises(TuneforgeError, match="holds checkpoints .* but no config.yaml"):
        run_train(compose, run, "trainer.max_steps=4", "resume=auto")


def test_resume_force_writes_nothing_before_the_checkpoint_loads(compose, tmp_path):
    run = tmp_path / "run"
    run_train(compose, run, "trainer.max_steps=2")
    saved = (run / "config.yaml").read_text()
    ckpt = run / "checkpoints" / "last.ckpt"
    ckpt.write_bytes(ckpt.read_bytes()[:100])  # truncated
    with pytest.raises(TuneforgeError, match="is corrupt"):
        run_train(compose, run, "trainer.max_steps=4", "optimizer.lr=0.01", "resume=force")
    assert (run / "config.yaml").read_text() == saved  # the run can still resume with its real config


def test_config_records_existing_paths_as_absolute(compose, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("d.jsonl").write_text("".join(json.dumps({"instruction": f"echo {i}", "output": str(i)}) + "\n"
                                       for i in range(20)))
    run_train(compose, Path("run"), "data=alpaca", "data.path=d.jsonl", "trainer.max_steps=1")
    import yaml

    recorded = yaml.safe_load(Path("run/config.yaml").read_text())
    assert recorded["data"]["path"] == os.path.abspath("d.jsonl")
    assert recorded["run_dir"] == os.path.abspath("run")
