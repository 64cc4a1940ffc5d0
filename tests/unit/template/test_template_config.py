"""The `template` config group: the primary configs' default, a data option selecting its own (the command
line and recipes win), stages choosing theirs, the old `data.template=` spelling failing in one line that
names the fix, an older run directory's `data.template` still evaluated, and a jinja template written on
the command line training a tiny model with free-form P-tuning's placeholders in it."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tuneforge.errors import TuneforgeError

TINY = ["model.hidden_size=32", "model.num_layers=2", "model.num_heads=2", "model.intermediate_size=64",
        "logger=none", "callbacks=none", "eval.max_new_tokens=4", "trainer.val_check_interval=null"]


SELECTED = [
    ([], "plain"),
    (["data=alpaca"], "alpaca"),
    (["data=dialogue"], "auto"),
    (["data=mix"], "alpaca"),
    (["data=nlp_task"], "plain"),
    (["data=alpaca", "template=chatml"], "chatml"),
    (["template=chatml", "data=alpaca"], "chatml"),
]
RECIPES = [(["recipe=smollm2_lora"], "auto"), (["recipe=smollm2_lora", "template=zephyr"], "zephyr")]


@pytest.mark.parametrize("primary,overrides,expected", [(p, o, e) for p in ("train", "preview", "eval")
                                                        for o, e in SELECTED + (RECIPES if p == "train" else [])])
def test_the_template_a_config_selects(compose, primary, overrides, expected):
    cfg = compose(primary, overrides)
    assert cfg.template.name == expected and "template" not in cfg.data


@pytest.mark.parametrize("command", ["train", "preview", "eval"])
def test_each_command_binds_the_template_it_builds(compose, command):
    from tuneforge.config.app import with_run_dir
    from tuneforge.config.assemble import assemble

    parts = assemble(command, with_run_dir(compose(command, ["data=alpaca", "data.path=a.jsonl"])))
    bound = parts.template if command == "eval" else (parts.stages[0] if command == "train" else parts.stage).template
    assert bound.entry.name == "alpaca"
    assert bound.build(tokenizer=None).name == "alpaca"


def test_template_keys_are_checked_with_the_rest_of_the_config():
    from tuneforge.commands.validate import validate
    from tuneforge.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        validate(["template=jinja", "+template.extra=1"])
    assert {i.path for i in err.value.issues} == {"template.source", "template.extra"}


def test_stages_take_their_own_template_else_their_data_options_else_the_runs(compose):
    from tuneforge.config.assemble import assemble

    cfg = compose("train", ["run_dir=/unused", "template=vicuna",
                            "stages=[{data: {name: alpaca, path: a.jsonl}}, {data: {name: rules}},"
                            "{data: {name: alpaca, path: a.jsonl}, template: {name: zephyr}}, {max_steps: 1},"
                            "{template: {name: jinja, source: 'x'}}]"])
    stages = assemble("train", cfg).stages
    assert [s.template.entry.name for s in stages] == ["alpaca", "vicuna", "zephyr", "vicuna", "jinja"]
    assert stages[4].template.kwargs == {"source": "x"}


@pytest.mark.parametrize("overrides,line", [
    (["data.template=alpaca"], "data.template moved: the prompt template is a config group of its own now: "
                               "template=alpaca"),
    (["+data.template=chatml"], "template=chatml"),
    (["stages=[{data: {name: rules, template: auto}}]"], "template: {name: auto}"),
])
def test_the_old_data_template_spelling_names_the_fix(overrides, line):
    from tuneforge.commands.validate import validate

    with pytest.raises(TuneforgeError, match="moved") as err:
        validate(overrides)
    assert line in str(err.value) and "struct" not in str(err.value)


def test_the_old_spelling_on_the_command_line_is_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", "data.template=alpaca",
                          f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True, text=True, env={**os.environ})
    assert out.returncode == 2 and not (tmp_path / "run").exists()
    assert out.stderr.strip().splitlines() == [
        "tuneforge: error: data.template moved: the prompt template is a config group of its own now: "
        "template=alpaca"]


def test_an_older_run_directory_keeps_its_data_template(tmp_path, compose):
    """A run written before templates were a group (its config.yaml says data.template) is evaluated with
    that template; `template=` on eval's command line wins."""
    import yaml

    from tuneforge.config.app import with_run_dir
    from tuneforge.config.assemble import assemble

    run = tmp_path / "old_run"
    run.mkdir()
    old = {"seed": 3, "model": {"name": "tiny", "hidden_size": 32}, "peft": {"name": "full"},
           "data": {"name": "rules", "max_length": 64, "template": "chatml"}}
    (run / "config.yaml").write_text(yaml.safe_dump(old))
    parts = assemble("eval", with_run_dir(compose("eval", [f"run={run}"])), [f"run={run}"])
    assert parts.template.entry.name == "chatml" and parts.loader.max_length == 64
    parts = assemble("eval", with_run_dir(compose("eval", [f"run={run}", "template=zephyr"])),
                     [f"run={run}", "template=zephyr"])
    assert parts.template.entry.name == "zephyr"


PTUNING_SOURCE = ("{% for m in messages %}{% if m['role'] == 'assistant' %}{{ m['content'] + eos_token }}"
                  "{% else %}<|v|><|v|>Input: {{ m['content'] }}{{ '\\n' }}<|v|>Output: {% endif %}{% endfor %}")


def test_a_jinja_template_from_the_command_line_trains_a_step(tmp_path):
    """`template=jinja template.source=...`: the prompt template written in config, with free-form P-tuning's
    virtual-token placeholders in it, trains one step and evaluates through the same template."""
    run = tmp_path / "run"
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", "template=jinja",
                          f'template.source="{PTUNING_SOURCE}"', "peft=ptuning_free", "peft.num_virtual_tokens=3",
                          "trainer.max_steps=1", "data.batch_size=4", "eval.limit=4", f"hydra.run.dir={run}", *TINY],
                         capture_output=True, text=True, env={**os.environ})
    assert out.returncode == 0, out.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["trainer/global_step"] == 1 and "exact_match_after" in metrics
    saved = (run / "config.yaml").read_text()
    assert "name: jinja" in saved and "<|v|><|v|>Input:" in saved
