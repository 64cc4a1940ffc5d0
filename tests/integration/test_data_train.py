"""End to end on a tiny model: `tuneforge train data=alpaca data.path=FILE` (with broken lines ->
rejects.jsonl), data=dialogue with multi_turn, and a two-stage run that trains both stages, resumes
between stages and skips a finished stage on rerun."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

TINY = ["model.hidden_size=32", "model.num_layers=2", "model.num_heads=2", "model.intermediate_size=64",
        "logger=none", "callbacks=none", "eval.max_new_tokens=4", "trainer.val_check_interval=null",
        "trainer.log_every_n_steps=1"]


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def run_train(compose, run_dir, overrides):
    from tuneforge.commands.train import train

    return train(compose("train", [*TINY, f"run_dir={run_dir}", *overrides]))


def test_cli_train_alpaca_file_with_broken_lines(tmp_path):
    rows = [{"instruction": "Reverse the word.", "input": w, "output": w[::-1], "id": i}
            for i, w in enumerate(["abc", "dog", "cat", "tree", "sun", "moon", "star", "lake"] * 3)]
    rows[3] = "{broken json"
    rows[7] = {"instruction": "Reverse the word.", "output": ""}
    path = write_jsonl(tmp_path / "generated.jsonl", rows)
    run = tmp_path / "run"
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", "data=alpaca", f"data.path={path}",
                          "trainer.max_steps=3", "data.batch_size=4", f"hydra.run.dir={run}", *TINY],
                         capture_output=True, text=True, env={**os.environ})
    assert out.returncode == 0, out.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["trainer/global_step"] == 3 and "exact_match_after" in metrics
    assert metrics["data/read"] == 24 and metrics["data/rejected"] == 2 and metrics["data/kept"] == 22
    rejects = [json.loads(line) for line in (run / "rejects.jsonl").read_text().splitlines()]
    assert [(r["file"], r["line"], r["kind"]) for r in rejects] == [(str(path), 4, "invalid_json"),
                                                                    (str(path), 8, "empty_response")]
    assert "data: read 24, kept 22, rejected 2" in (run / "train.log").read_text()
    strict = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", "data=alpaca", f"data.path={path}",
                             "data.strict=true", f"hydra.run.dir={tmp_path / 'strict'}", *TINY],
                            capture_output=True, text=True, env={**os.environ})
    assert strict.returncode == 2
    assert f"tuneforge: error: {path}:4: invalid JSON" in strict.stderr


def test_dialogue_multi_turn_trains(tmp_path, compose):
    rows = [{"messages": [{"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": f"hello {i}"},
                          {"role": "user", "content": "again"}, {"role": "assistant", "content": f"{i}"}]}
            for i in range(12)]
    rows += [{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}]
    path = write_jsonl(tmp_path / "chat.jsonl", rows)
    metrics = run_train(compose, tmp_path / "run", ["data=dialogue", f"data.path={path}", "loss_mask=multi_turn",
                                                    "data.val_fraction=0.2", "trainer.max_steps=2",
                                                    "data.batch_size=4", "data.system=Be brief.",
                                                    "trainer.val_check_interval=1"])
    assert metrics["trainer/global_step"] == 2 and metrics["data/kept"] == 13
    assert metrics["data/train/trained_tokens"] > 0 and "val/loss" in metrics


def stage_overrides(stage1_lr: float = 2e-3):
    stages = ("stages=[{name: nlp, data: {name: rules, tasks: [reverse], num_train: 256, num_val: 16, "
              "num_test: 8, max_length: 32}, max_steps: 25, lr: 0.004, scheduler: {name: constant}},"
              "{name: chat, data: {name: rules, tasks: [sort], num_train: 128, num_val: 16, num_test: 8, "
              f"max_length: 32}}, max_steps: 6, lr: {stage1_lr}, loss_mask: {{name: last_turn}}}}]")
    return [stages, "data.batch_size=16", "eval.before=false"]


def test_two_stage_run_trains_both_and_resumes_between_stages(tmp_path, compose):
    import torch

    run = tmp_path / "run"
    metrics = run_train(compose, run, stage_overrides())
    assert metrics["stage0/trainer/global_step"] == 25 and metrics["stage1/trainer/global_step"] == 6
    assert metrics["trainer/global_step"] == 31 and "stage1/exact_match_after" in metrics
    assert metrics["stage0/data/train/kept"] == 256 and metrics["stage1/data/train/kept"] == 128
    history = json.loads((run / "loss_history.json").read_text())["train"]
    steps = [s for s, _ in history]
    assert steps == sorted(steps) and len(history) == 31
    first0, last0, first1 = history[0][1], history[24][1], history[25][1]
    assert last0 < 0.6 * first0  # stage 0 trains
    assert first1 < 0.8 * first0  # stage 1 starts from stage 0's weights, not from scratch
    w0 = torch.load(run / "stages/0/weights.pt", weights_only=True)
    w1 = torch.load(run / "stages/1/weights.pt", weights_only=True)
    assert any(not torch.equal(w0[k], w1[k]) for k in w0)  # stage 1 trains
    done0 = (run / "stages/0/done.json").stat().st_mtime_ns

    import shutil

    shutil.rmtree(run / "stages/1")  # as if the run died during stage 1
    again = run_train(compose, run, stage_overrides())
    assert (run / "stages/0/done.json").stat().st_mtime_ns == done0  # stage 0 skipped
    assert again["stage0/train/loss"] == metrics["stage0/train/loss"]
    w1_again = torch.load(run / "stages/1/weights.pt", weights_only=True)
    assert all(torch.allclose(w1[k], w1_again[k], atol=1e-6) for k in w1)
    assert again["trainer/global_step"] == 31


def test_stage_config_errors_name_their_path(tmp_path, compose):
    from tuneforge.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        run_train(compose, tmp_path / "run", ["stages=[{data: {bogus: 1}, lr: -1, epochs: 2}]"])
    assert {i.path for i in err.value.issues} == {"stages[0].data.bogus", "stages[0].lr", "stages[0].epochs"}


def test_stage_data_nodes_take_their_option_loader_keys(compose):
    from tuneforge.config.assemble import assemble

    cfg = compose("train", ["run_dir=/unused", "data.batch_size=8", "stages=[{data: {name: dialogue, path: c.jsonl}},"
                            "{data: {name: alpaca, path: a.jsonl, max_length: 99}}, {data: {num_train: 10}}]"])
    stages = assemble("train", cfg).stages
    got = [(type(s.data).__name__, s.template.entry.name, s.settings.max_length, s.settings.batch_size)
           for s in stages]
    assert got == [("Dialogue", "auto", 1024, 8), ("Alpaca", "alpaca", 99, 8), ("RuleTasks", "plain", 64, 8)]
    assert stages[2].data.sizes["train"] == 10  # merged over the top-level rules node


def test_mix_with_pretraining_text_writes_realised_shares(tmp_path, compose):
    instr = write_jsonl(tmp_path / "i.jsonl", [{"instruction": f"echo {i}", "output": str(i)} for i in range(90)])
    (tmp_path / "p.txt").write_text("\n\n".join(f"plain text number {i}" for i in range(10)) + "\n")
    run = tmp_path / "run"
    metrics = run_train(compose, run, ["data=mix", f"data.sources.instructions.path={instr}",
                                       f"data.sources.pretrain.path={tmp_path / 'p.txt'}",
                                       "mixer@data.mixer=temperature", "data.mixer.temperature=2.0",
                                       "data.mixer.num_examples=400", "trainer.max_steps=2", "data.batch_size=8"])
    written = json.loads((run / "metrics.json").read_text())
    sizes = {n: written[f"data/mix/{n}/available"] for n in ("instructions", "pretrain")}
    assert sizes == {"instructions": 86, "pretrain": 10}  # 4 of 90 instructions held out for val
    target = 10 ** 0.5 / (10 ** 0.5 + 86 ** 0.5)
    assert written["data/mix/pretrain/target"] == pytest.approx(target, abs=1e-6)
    assert abs(written["data/mix/pretrain/share"] - target) < 4 * (target * (1 - target) / 400) ** 0.5
    assert written["data/mix/total"] == 400 and metrics["trainer/global_step"] == 2
