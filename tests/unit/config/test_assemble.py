"""The one assembler: every command's config (components, stages, settings) checked by `tuneforge validate`
exactly as the command checks it, with each problem named by its config path; `--help` for every command."""
from __future__ import annotations

import pytest

from tuneforge.cli import COMMANDS, main
from tuneforge.commands.validate import validate
from tuneforge.config.assemble import EvalParts, GenerateParts, PreviewParts, TrainParts
from tuneforge.errors import ConfigError


def paths(err: ConfigError) -> set[str]:
    return {issue.path for issue in err.issues}


@pytest.mark.parametrize("command", ["train", "preview", "eval", "generate"])
def test_validate_accepts_every_commands_default_config(command, capsys):
    validate([], command)
    assert capsys.readouterr().out.startswith(f"config OK ({command})")


def test_validate_checks_every_stage_of_a_recipe(capsys):
    validate(["recipe=multi_stage"])
    assert "2 stage(s)" in capsys.readouterr().out


@pytest.mark.parametrize("command,overrides,expected", [
    ("train", ["stages=[{data: {name: rules, num_trian: 5}, max_steps: 0}]"],
     {"stages[0].data.num_trian", "stages[0].max_steps"}),
    ("train", ["stages=[{scheduler: {name: constant, warmup: 3}}]"], {"stages[0].scheduler.warmup"}),
    ("train", ["+eval.limitt=3", "eval.batch_size=big"], {"eval.limitt", "eval.batch_size"}),
    ("generate", ["llm.max_tokens=abc", "+pipeline.num_instructionz=3"],
     {"llm.max_tokens", "pipeline.num_instructionz"}),
    ("generate", ["+filters.rouge_l.threshhold=0.5"], {"filters.rouge_l.threshhold"}),
    ("eval", ["generation.max_new_tokens=abc", "+generation.beams=2"],
     {"generation.max_new_tokens", "generation.beams"}),
    ("eval", ["metrics=[exact_match]", "+metrics.exact_match.ignore_kase=true"], {"metrics.exact_match.ignore_kase"}),
    ("preview", ["preview.format=html", "data.batch_size=x"], {"preview.format", "data.batch_size"}),
    ("train", ["+foo.bar=1", "+checkpoint.every=3", "+trainer.max_stepz=3", "+logger.csv.nam=x"],
     {"foo", "checkpoint.every", "trainer.max_stepz", "logger.csv.nam"}),
    ("train", ["optimizer.lr=abc", "data.batch_size=0", "eval.max_new_tokens=-1"],
     {"optimizer.lr", "data.batch_size", "eval.max_new_tokens"}),
    ("train", ["optimizer.lr=nan"], {"optimizer.lr"}),
    ("train", ["trainer.max_steps=-1"], {"trainer.max_steps"}),  # max_epochs is -1 too: it would never end
    ("train", ["trainer.max_steps=abc"], {"trainer.max_steps"}),
    ("train", ["peft=prefix", "model.gradient_checkpointing=true"], {"model.gradient_checkpointing"}),
    ("generate", ["+seeed=3"], {"seeed"}),
    ("eval", ["+generation_max=3"], {"generation_max"}),
])
def test_validate_names_every_bad_key(command, overrides, expected):
    with pytest.raises(ConfigError) as err:
        validate(overrides, command)
    assert paths(err.value) == expected


def test_stage_options_come_from_hydra_not_from_files(compose):
    """A stage's `data: {name: alpaca}` takes the alpaca option's loader keys, and the template it selects, as
    Hydra composes them."""
    from tuneforge.config.app import compose_option, compose_options

    assert compose_option("data", "alpaca")["max_length"] == 512
    assert compose_options("data", "alpaca")["template"] == {"name": "alpaca"}
    assert compose_option("data", "no_such_option") is None


def test_assemble_returns_typed_parts(compose):
    from tuneforge.config.app import with_run_dir
    from tuneforge.config.assemble import assemble

    kinds = {"train": TrainParts, "preview": PreviewParts, "eval": EvalParts, "generate": GenerateParts}
    for command, kind in kinds.items():
        parts = assemble(command, with_run_dir(compose(command, [])))
        assert isinstance(parts, kind)
    train = assemble("train", with_run_dir(compose("train", ["peft=lora"])))
    assert type(train.peft).__name__ == "Lora" and train.stages[0].index is None
    assert train.fit.eval.exact_match is not None  # before/after exact match is a registry metric


def test_prompt_learning_methods_say_so_and_padding_free_refuses_a_plugins_too(compose):
    """`prompt_learning = True` on a PEFT method (built-in or a plugin's) is what the assembler reads."""
    from tuneforge import binding
    from tuneforge.config.app import with_run_dir
    from tuneforge.config.assemble import assemble, padding_free_check
    from tuneforge.config.issues import Issues

    for name in ("prefix", "prompt", "ptuning", "ptuning_free", "lora"):
        method = binding.build("peft", {"name": name}, "peft")
        assert getattr(method, "prompt_learning", False) is (name != "lora"), name

    class PluginPromptMethod:
        prompt_learning = True

    parts = assemble("train", with_run_dir(compose("train", ["model=tiny", "data.packing=padding_free"])))
    for peft, expected in ((parts.peft, []), (PluginPromptMethod(), ["data.packing"])):
        issues = Issues()
        padding_free_check(parts.model, peft, parts.stages, issues)
        assert [i.path for i in issues.items] == expected


def test_packed_batches_are_padded_for_a_prompt_learning_method_and_said(compose, caplog):
    """data=rules packs by default; prefix tuning numbers its virtual tokens per row, so its batches are padded
    (the same examples and loss) with one warning; other methods keep packing."""
    from tuneforge.config.app import with_run_dir
    from tuneforge.config.assemble import assemble

    lora = assemble("train", with_run_dir(compose("train", ["peft=lora"])))
    assert lora.stages[0].settings.packing is True and "data.packing=true" not in caplog.text
    prefix = assemble("train", with_run_dir(compose("train", ["peft=prefix"])))
    assert prefix.stages[0].settings.packing is False
    assert caplog.text.count("data.packing=true: padded batches instead for peft=prefix") == 1
    staged = assemble("train", with_run_dir(compose("train", ["peft=prefix", "recipe=multi_stage"])))
    assert [s.settings.packing for s in staged.stages] == [False] * len(staged.stages)
    assert caplog.text.count("data.packing=true: padded batches instead for peft=prefix") == 2  # once a run


@pytest.mark.parametrize("command", [c for c in COMMANDS], ids=lambda c: c.name)
def test_every_command_answers_help(command, capsys):
    if command.hydra:  # a Hydra app reconfigures logging and the streams: in a process of its own
        import subprocess
        import sys

        out = subprocess.run([sys.executable, "-m", "tuneforge.cli", command.name, "--help"], capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-2000:]
        assert "== Config ==" in out.stdout or "Powered by Hydra" in out.stdout
        return
    main([command.name, "--help"])
    out = capsys.readouterr().out
    assert out.startswith(f"usage: tuneforge {command.name}") and command.summary in out


def test_unknown_command_suggests_the_closest(capsys):
    with pytest.raises(SystemExit):
        main(["valdate"])
    err = capsys.readouterr().err
    assert "Did you mean 'validate'?" in err
    assert all(c.name in err for c in COMMANDS)


@pytest.mark.parametrize("override,expected", [
    ("recipe=smollm2_loraa", "Did you mean 'smollm2_lora'?"),
    ("hparams_search=optuna", "Did you mean 'optuna_lr'?"),
])
def test_a_missing_optional_option_is_an_error_not_the_quickstart(override, expected):
    """`optional recipe` in the defaults list makes Hydra skip a missing option silently."""
    from tuneforge.errors import TuneforgeError

    with pytest.raises(TuneforgeError, match=expected):
        validate([override])


def test_train_reports_the_same_lines_as_validate_before_any_work(tmp_path):
    import subprocess
    import sys

    bad = ["optimizer.lr=nan", "+trainer.max_stepz=3"]
    with pytest.raises(ConfigError) as err:
        validate(bad)
    run = tmp_path / "run"
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", *bad, f"hydra.run.dir={run}"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    for issue in err.value.issues:
        assert str(issue) in out.stderr
    assert not (run / "config.yaml").exists() and not (run / "checkpoints").exists()
