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
