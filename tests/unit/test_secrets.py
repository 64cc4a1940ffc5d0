"""Secrets never reach a file a run writes: secret-named keys and secret-shaped values are recognised
(ordinary settings such as max_tokens are not), overrides carrying them are handed to Hydra as
${oc.env:...}, and a real run (single and sweep, W&B offline included) leaves no trace of them."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from tuneforge.artifacts import redacted
from tuneforge.secrets import hide_secret_overrides, is_secret_key, looks_like_secret, redact_value

KEY = "sk-proj-" + "a1B2c3D4" * 4
HF = "hf_" + "QwErTy" * 5


@pytest.mark.parametrize("key", ["api_key", "hf_token", "password", "secret", "credentials", "access_token",
                                 "llm.api_key", "aws_secret_key", "apikey"])
def test_secret_names(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["max_tokens", "max_new_tokens", "instance_max_tokens", "api_key_env",
                                 "tokenizer", "num_tokens", "token_budget", "secrets_dir_exists_flag"])
def test_ordinary_settings_are_not_secrets(key):
    assert not is_secret_key(key)


def test_values_that_look_like_keys_and_url_passwords():
    assert looks_like_secret(KEY) and looks_like_secret(HF) and looks_like_secret("AKIA" + "ABCDEFGHIJKLMNOP")
    assert looks_like_secret("https://bob:pa55word@host.example/v1")
    assert not looks_like_secret("http://127.0.0.1:8000/v1") and not looks_like_secret("OPENAI_API_KEY")
    assert redact_value("https://bob:pa55word@host/v1") == "https://bob:<redacted>@host/v1"
    assert redact_value(f"key {KEY} end") == "key <redacted> end"


def test_overrides_with_secrets_become_environment_interpolations():
    env: dict[str, str] = {}
    out = hide_secret_overrides(["peft=lora", f"+llm.api_key={KEY}", f"llm.api_key_env={HF}",
                                 "llm.base_url=https://u:p4ss@h/v1", "eval.max_new_tokens=32", "-m"], env)
    assert out[0] == "peft=lora" and out[4:] == ["eval.max_new_tokens=32", "-m"]
    assert [o.split("=", 1)[1] for o in out[1:4]] == [f"${{oc.env:TUNEFORGE_SECRET_{i}}}" for i in range(3)]
    assert sorted(env.values()) == sorted([KEY, HF, "https://u:p4ss@h/v1"])


def test_redacted_config_keeps_settings_and_hides_secrets():
    cfg = OmegaConf.create({"eval": {"max_new_tokens": 32}, "llm": {"max_tokens": 256, "api_key": "x",
                            "base_url": "https://u:p4ss@h/v1", "api_key_env": "OPENAI_API_KEY"},
                            "note": f"token {HF}"})
    out = redacted(cfg)
    assert out["eval"]["max_new_tokens"] == 32 and out["llm"]["max_tokens"] == 256
    assert out["llm"]["api_key"] == "<redacted>" and out["llm"]["api_key_env"] == "OPENAI_API_KEY"
    assert "p4ss" not in out["llm"]["base_url"] and HF not in out["note"]


@pytest.mark.slow
def test_no_file_of_a_run_or_a_sweep_holds_a_secret(tmp_path):
    """Secrets given on the command line: through Hydra's env_set (a run and a sweep that train, W&B offline
    recording the command line), and as keys the config refuses (the run stops; Hydra's records stay clean)."""
    small = ["trainer.max_steps=2", "data.num_train=64", "eval.enabled=false", "model.hidden_size=32",
             "model.num_layers=1", "model.num_heads=2", "logger=[csv,wandb]"]
    env_set = [f"+hydra.job.env_set.HF_TOKEN={HF}", f"+hydra.job.env_set.RUN_NOTE=see {KEY}"]
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", "COLUMNS": "200"}
    runs = {"single": ([*small, *env_set, f"hydra.run.dir={tmp_path / 'single'}"], 0),
            "sweep": (["-m", *small, *env_set, "optimizer.lr=1e-3,2e-3", f"hydra.sweep.dir={tmp_path / 'sweep'}"], 0),
            "refused": ([*small, "+password=hunter2hunter2", f"+llm.api_key={KEY}", f"hydra.run.dir={tmp_path / 'bad'}"],
                        2)}
    for name, (args, code) in runs.items():
        out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", *args], capture_output=True,
                             text=True, env=env, timeout=300)
        assert out.returncode == code, (name, out.stderr[-3000:])
        for stream in (out.stdout, out.stderr):
            assert "hunter2" not in stream and HF not in stream and KEY not in stream
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "overrides.yaml" for p in files) and any(p.name == "multirun.yaml" for p in files)
    assert any("wandb" in p.parts for p in files), "the W&B offline run is part of the check"
    leaks = [str(p) for p in files for s in ("hunter2", HF, KEY) if s.encode() in p.read_bytes()]
    assert not leaks, leaks
