"""W&B follows the user's set-up: WANDB_MODE when set, online after a login, otherwise offline with one line."""
from __future__ import annotations

import logging

import pytest

from tuneforge.lightning.loggers import wandb_logged_in, wandb_logger


@pytest.fixture
def no_wandb_env(monkeypatch, tmp_path):
    for key in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_BASE_URL", "NETRC"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    return tmp_path


def test_no_login_and_no_mode_runs_offline_and_says_so(no_wandb_env, caplog):
    assert not wandb_logged_in()
    with caplog.at_level(logging.INFO, logger="tuneforge.loggers"):
        logger = wandb_logger(save_dir=str(no_wandb_env))
    assert logger._offline
    assert "logging offline" in caplog.text and "wandb sync" in caplog.text


def test_a_login_in_netrc_or_the_environment_goes_online(no_wandb_env, monkeypatch, caplog):
    (no_wandb_env / ".netrc").write_text("machine api.wandb.ai\n  login user\n  password 0123456789abcdef\n")
    assert wandb_logged_in()
    with caplog.at_level(logging.INFO, logger="tuneforge.loggers"):
        assert not wandb_logger(save_dir=str(no_wandb_env))._offline  # built lazily: nothing is contacted
    assert "offline" not in caplog.text
    monkeypatch.setenv("WANDB_BASE_URL", "https://wandb.example.org")  # a login for another host does not count
    assert not wandb_logged_in()
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    assert wandb_logged_in()


def test_wandb_mode_wins_and_offline_true_forces(no_wandb_env, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "online")
    assert not wandb_logger(save_dir=str(no_wandb_env))._offline  # wandb itself reads WANDB_MODE
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    assert wandb_logger(save_dir=str(no_wandb_env), offline=True)._offline
    assert "anonymous" not in wandb_logger(save_dir=str(no_wandb_env))._wandb_init  # wandb would warn
