"""The recipes in recipes/: each one's header (description, the command to run it), the settings it
stands for, and a scaled-down run of each to completion on model=tiny (data written by the tests)."""
from __future__ import annotations

import csv
import json
import random
import re
import shlex
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tuneforge.commands.ls import recipe_descriptions
from tuneforge.config.paths import RECIPES_DIR

OURS = {"alpaca_lora": "train", "instructgpt_style": "train", "qlora": "train", "multi_stage": "train",
        "peft_compare": "train", "self_instruct": "generate", "evol_instruct": "generate"}
TINY = ["model.hidden_size=32", "model.num_layers=1", "model.num_heads=2", "model.intermediate_size=64",
        "callbacks=none", "logger=none", "checkpoint.enabled=false", "+trainer.enable_progress_bar=false"]


def words(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 6))) for _ in range(n)]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def data(tmp_path) -> dict[str, Path]:
    """Small files in each format the recipes read: alpaca, dialogue (messages), NLP-task rows."""
    ws = words(40)
    return {
        "alpaca": write_jsonl(tmp_path / "alpaca.jsonl", [
            {"instruction": f"Reverse the word {w}.", "input": "", "output": w[::-1]} for w in ws]),
        "dialogue": write_jsonl(tmp_path / "chats.jsonl", [
            {"messages": [{"role": "user", "content": f"reverse {w}"}, {"role": "assistant", "content": w[::-1]},
                          {"role": "user", "content": "upper-case it"}, {"role": "assistant", "content": w.upper()}]}
            for w in ws]),
        "nlp": write_jsonl(tmp_path / "tasks.jsonl", [
            {"text": f"{w} is a {'long' if len(w) > 4 else 'short'} word", "label": "long" if len(w) > 4 else "short"}
            for w in ws]),
    }


def header(name: str) -> tuple[str, list[str]]:
    """(the first comment line after the package line, the comment lines)."""
    lines = [ln for ln in (RECIPES_DIR / f"{name}.yaml").read_text().splitlines() if ln.startswith("#")]
    return lines[1][1:].strip(), lines


def test_ls_recipes_lists_all_seven_with_their_descriptions():
    described = recipe_descriptions()
    for name in OURS:
        assert described[name] == header(name)[0] and len(described[name]) > 30
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "ls", "recipes"], capture_output=True, text=True,
                         env={"COLUMNS": "250", "PATH": ""})
    assert out.returncode == 0, out.stderr
    for name in OURS:
        assert re.search(rf"│ {name}\s+│ {re.escape(described[name][:40])}", out.stdout), name


@pytest.mark.parametrize("name", sorted(OURS))
def test_header_is_package_description_command_and_the_command_composes(compose, name):
    from tuneforge.config.assemble import assemble
    from tuneforge.config.app import with_run_dir

    text = (RECIPES_DIR / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_\n# ")
    _, comments = header(name)
    command = comments[2].lstrip("#").strip()
    assert command.startswith(f"tuneforge {OURS[name]} recipe={name}"), command
    args = shlex.split(re.sub(r"\[[^]]*\]", "", command))[2:]  # optional [parts] left out
    cfg = compose(OURS[name], args)
    assemble(OURS[name], with_run_dir(cfg))


def test_no_block_is_repeated_between_recipes():
    """Recipes are deltas: no top-level block (a key with several settings) appears twice verbatim."""
    seen: dict[str, str] = {}
    for path in sorted(RECIPES_DIR.glob("*.yaml")):
        for key, value in (yaml.safe_load(path.read_text()) or {}).items():
            if key == "defaults" or not isinstance(value, (dict, list)) or len(value) < 2:
                continue
            block = f"{key}: {json.dumps(value, sort_keys=True)}"
            assert block not in seen, f"{path.stem} repeats {seen.get(block)}'s block {block}"
            seen[block] = path.stem


def test_recipes_stand_for_the_seeds_settings(compose):
    from tuneforge.config.assemble import assemble
    from tuneforge.config.app import with_run_dir

    alpaca = compose("train", ["recipe=alpaca_lora"])
    assert alpaca.data.batch_size * alpaca.trainer.accumulate_grad_batches == 128
    assert alpaca.optimizer.lr == 2e-5 and alpaca.peft.name == "lora" and alpaca.data.name == "alpaca"
    sched = assemble("train", with_run_dir(alpaca)).stages[0].scheduler
    lrs = [2e-5 * sched.multiplier(t, 1000) for t in range(1000)]
    peak = max(range(1000), key=lrs.__getitem__)
    assert peak == 30 and lrs[peak] == pytest.approx(2e-5)  # warm-up over 3 %, then the maximum
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:])) and lrs[-1] < 1e-8  # cosine decay to 0
    assert lrs[515] == pytest.approx(1e-5, rel=1e-3)  # halfway through the decay: a_0 / 2

    igpt = compose("train", ["recipe=instructgpt_style"])
    sched = assemble("train", with_run_dir(igpt)).stages[0].scheduler
    assert igpt.data.batch_size == 8 and igpt.optimizer.lr == 5.03e-6 and igpt.peft.name == "full"
    assert {sched.multiplier(t, 500) for t in range(500)} == {1.0}

    qlora = compose("train", ["recipe=qlora"])
    assert (qlora.peft.name, qlora.peft.quant_type, qlora.peft.double_quant, qlora.peft.r) == ("qlora", "nf4", True, 64)

    stages = compose("train", ["recipe=multi_stage"]).stages
    assert [s.data.name for s in stages] == ["nlp_task", "dialogue"]
    assert [s.loss_mask.name for s in stages] == ["output_only", "multi_turn"]

    compare = compose("train", ["recipe=peft_compare"], return_hydra_config=True)
    methods = compare.hydra.sweeper.params.peft.split(",")
    on_disk = {p.stem for p in (RECIPES_DIR.parent / "conf" / "peft").glob("*.yaml")}
    assert set(methods) == on_disk - {"ptuning_free"} and compare.hydra.mode.name == "MULTIRUN"


def run_train(compose, tmp_path: Path, name: str, *overrides: str) -> dict:
    from tuneforge.commands.train import train

    run_dir = tmp_path / name
    metrics = train(compose("train", [f"recipe={name}", *TINY, f"run_dir={run_dir}", *overrides]))
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    return metrics


def test_alpaca_lora_scaled_down_accumulates_eight_batches_a_step(compose, tmp_path, data):
    metrics = run_train(compose, tmp_path, "alpaca_lora", f"data.path={data['alpaca']}", "data.batch_size=2",
                        "trainer.max_steps=2")
    assert metrics["trainer/global_step"] == 2 and metrics["params/trainable"] < metrics["params/total"] / 2
    history = json.loads((tmp_path / "alpaca_lora" / "loss_history.json").read_text())["train"]
    assert len(history) == 16  # 2 optimizer steps x 8 accumulated micro-batches
    assert metrics["perf/tokens_per_s"] > 0 and metrics["perf/train_tokens"] > 16 * 2 * 5
    assert (tmp_path / "alpaca_lora" / "adapter" / "adapter_config.json").is_file()


def test_instructgpt_style_scaled_down_trains_every_parameter(compose, tmp_path, data):
    metrics = run_train(compose, tmp_path, "instructgpt_style", f"data.path={data['dialogue']}",
                        "trainer.max_steps=2")
    assert metrics["trainer/global_step"] == 2
    assert metrics["params/trainable"] == metrics["params/total"]


def test_qlora_scaled_down_trains_lora_over_a_4bit_base(compose, tmp_path, data):
    metrics = run_train(compose, tmp_path, "qlora", f"data.path={data['alpaca']}", "data.batch_size=4",
                        "trainer.max_steps=2", "eval.enabled=false")
    assert metrics["trainer/global_step"] == 2 and metrics["params/trainable"] < metrics["params/total"]
    saved = json.loads(next((tmp_path / "qlora").rglob("adapter_config.json")).read_text())
    assert saved["r"] == 64


def test_multi_stage_scaled_down_runs_both_stages(compose, tmp_path, data):
    metrics = run_train(compose, tmp_path, "multi_stage", f"stages.0.data.path={data['nlp']}",
                        f"stages.1.data.path={data['dialogue']}", "+stages.0.max_steps=2", "+stages.1.max_steps=2",
                        "data.batch_size=8", "eval.enabled=false")
    assert metrics["stage0/trainer/global_step"] == 2 and metrics["stage1/trainer/global_step"] == 2
    assert metrics["trainer/global_step"] == 4
    assert metrics["stage0/data/train/kept"] > 0 and metrics["stage1/data/train/kept"] > 0
    assert all((tmp_path / "multi_stage" / "stages" / i / "done.json").is_file() for i in ("0", "1"))


@pytest.mark.slow
def test_peft_compare_scaled_down_writes_the_table_and_chart(tmp_path):
    sweep = tmp_path / "sweep"
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", "recipe=peft_compare", *TINY,
                          "trainer.max_steps=2", "trainer.val_check_interval=2", "data.num_train=32",
                          "data.num_val=8", "data.num_test=4", "data.batch_size=8", "eval.max_new_tokens=4",
                          f"hydra.sweep.dir={sweep}"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    methods = compose_methods()
    assert [r["overrides"] for r in rows] == [f"peft={m}" for m in methods]
    for row in rows:
        for column in ("params/trainable", "perf/peak_rss_mb", "perf/fit_rss_mb", "perf/tokens_per_s", "val/loss",
                       "exact_match_after"):
            assert row[column] != "", (row["overrides"], column)
        assert float(row["perf/tokens_per_s"]) > 0 and float(row["perf/peak_rss_mb"]) > 50
    trainable = {r["overrides"]: float(r["params/trainable"]) for r in rows}
    assert max(trainable, key=trainable.get) in ("peft=full", "peft=prefix", "peft=ptuning")
    assert trainable["peft=ia3"] < trainable["peft=lora"] < trainable["peft=full"]
    md = (sweep / "summary.md").read_text()
    assert "| job | overrides | params/trainable |" in md and "peft=adalora" in md
    assert (sweep / "summary.png").read_bytes()[:4] == b"\x89PNG"


def compose_methods() -> list[str]:
    text = (RECIPES_DIR / "peft_compare.yaml").read_text()
    return re.search(r"^\s+peft: (\S+)$", text, re.M).group(1).split(",")


def test_self_instruct_scaled_down_generates(compose, tmp_path):
    from tests.servers.openai_server import OpenAITestServer
    from tests.servers.scripts import SyntheticLLM
    from tuneforge.commands.generate import generate

    with OpenAITestServer(reply=SyntheticLLM(seed=1)) as server:
        stats = generate(compose("generate", ["recipe=self_instruct", f"llm.base_url={server.base_url}",
                                              "llm.model=scripted", "pipeline.num_instructions=8",
                                              "pipeline.batch_size=2", f"run_dir={tmp_path}"]))
    records = [json.loads(ln) for ln in (tmp_path / "generated.jsonl").read_text().splitlines()]
    assert len(records) == 8 and all(r["instruction"] and r["output"] for r in records)
    assert stats["llm"]["requests"] > 0


def test_evol_instruct_scaled_down_evolves_the_given_source(compose, tmp_path, data):
    from tests.servers.openai_server import OpenAITestServer
    from tests.servers.scripts import SyntheticLLM
    from tuneforge.commands.generate import generate

    with OpenAITestServer(reply=SyntheticLLM(seed=2)) as server:
        generate(compose("generate", ["recipe=evol_instruct", f"pipeline.source={data['alpaca']}",
                                      f"llm.base_url={server.base_url}", "llm.model=scripted", "pipeline.rounds=1",
                                      "pipeline.num_instructions=4", f"run_dir={tmp_path}"]))
    records = [json.loads(ln) for ln in (tmp_path / "generated.jsonl").read_text().splitlines()]
    assert records and all(r["instruction"] and r["output"] for r in records)
    # one round, every record evolved from a record of the given file
    assert all(r["lineage"]["round"] == 1 and r["lineage"]["parents"][0].startswith("src-") for r in records)
    assert any("Reverse the word" in r["instruction"] for r in records)


def test_a_train_recipe_under_generate_fails_clearly(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "generate", "recipe=alpaca_lora",
                          f"hydra.run.dir={tmp_path}"], capture_output=True, text=True)
    assert out.returncode != 0 and "Could not override 'data'" in out.stderr
