"""`tuneforge ls` covers every config group: components, and the groups that are not (trainer, optimizer,
logger, callbacks, hparams_search, Hydra's launchers and sweepers), each option with its description."""
from __future__ import annotations

from tuneforge.commands.ls import main
from tuneforge.config.paths import CONF_DIR


def test_ls_lists_every_option_of_every_group(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    main([])
    out = capsys.readouterr().out
    for group in ("trainer", "optimizer", "logger", "callbacks", "hparams_search"):
        for file in (CONF_DIR / group).glob("*.yaml"):
            assert f"│ {file.stem} " in out and f"│ {group} " in out, (group, file.stem)
    for option in ("joblib", "submitit_local", "slurm"):  # Hydra's plugins and tuneforge's own launcher
        assert f"│ {option} " in out
    assert "│ hydra/sweeper " in out and "│ optuna " in out
    assert "Metrics as CSV under <run_dir>/logs." in out  # the option file's own description


def test_ls_one_group(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    main(["logger"])
    out = capsys.readouterr().out
    assert "│ wandb " in out and "│ tensorboard " in out and "│ lora " not in out and "│ ddp " not in out


def test_config_files_and_recipes_are_described_by_one_reader_to_the_first_sentence():
    from tuneforge.commands.ls import first_sentence, recipe_descriptions, yaml_description
    from tuneforge.config.paths import RECIPES_DIR

    assert first_sentence("QLoRA (Dettmers et al. 2023): NF4. More.") == "QLoRA (Dettmers et al. 2023): NF4."
    assert first_sentence("Self-Instruct (Wang et al. 2022) x, e.g. y. Next") == "Self-Instruct (Wang et al. 2022) x, e.g. y."
    assert first_sentence('Vicuna: "USER: ... ASSISTANT: ...". Next.') == 'Vicuna: "USER: ... ASSISTANT: ...".'
    described = recipe_descriptions()
    assert described["qlora"].startswith("QLoRA (Dettmers et al. 2023): NF4 4-bit base")
    assert described == {p.stem: yaml_description(p) for p in RECIPES_DIR.glob("*.yaml")}


def test_groups_options_lists_several_groups_at_once():
    from tuneforge.config.app import group_options, groups_options

    options = groups_options(["logger", "optimizer", "hydra/launcher"])
    assert list(options) == ["logger", "optimizer", "hydra/launcher"]
    assert options["logger"] == group_options("logger") and "wandb" in options["logger"]
    assert "joblib" in options["hydra/launcher"]
