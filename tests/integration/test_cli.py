"""The CLI as a user meets it: fast tools, Hydra apps, and one clear error per bad input."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

TUNEFORGE = [sys.executable, "-m", "tuneforge.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*TUNEFORGE, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "200"})


def test_help_is_fast_and_lists_commands():
    start = time.perf_counter()
    out = run("--help")
    assert time.perf_counter() - start < 5  # generous; benchmarks/ measures the real figure
    assert out.returncode == 0 and "train" in out.stdout and "validate" in out.stdout


def test_ls_lists_components_without_heavy_imports():
    code = ("import sys; from tuneforge.cli import main; main(['ls']); "
            "assert not [m for m in ('torch', 'transformers', 'peft', 'lightning') if m in sys.modules]")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    for name in ("tiny", "lora", "output_only", "warmup_cosine", "rules", "exact_match"):
        assert name in out.stdout


def test_ls_unknown_kind_is_one_clear_error():
    out = run("ls", "optimisers")
    assert out.returncode == 2
    assert "unknown kind 'optimisers'" in out.stderr and "Traceback" not in out.stderr


def test_train_help_lists_groups_and_options():
    out = run("train", "--help")
    assert out.returncode == 0
    assert re.search(r"^peft: .*\blora\b", out.stdout, re.M)
    assert re.search(r"^model: .*\btiny\b", out.stdout, re.M)


def test_cfg_job_prints_the_composed_config():
    out = run("train", "peft=lora", "peft.r=4", "--cfg", "job")
    assert out.returncode == 0, out.stderr
    assert "name: lora" in out.stdout and "r: 4" in out.stdout


@pytest.mark.parametrize("args,expected", [
    (["peft=lora", "+peft.alpah=3"], "peft.alpah: unknown key for peft 'lora'. Did you mean 'alpha'?"),
    (["peft=lora", "peft.r=abc"], "peft.r: expected int, got 'abc'"),
    (["model=hf", "model.name_or_path=/does/not/exist"], "model.name_or_path: no model directory"),
    (["scheduler=warmup_cosine", "+scheduler.warmup=5"], "scheduler.warmup: unknown key"),
])
def test_validate_names_the_bad_key(args, expected):
    out = run("validate", *args)
    assert out.returncode == 2, out.stdout
    assert expected in out.stderr and "Traceback" not in out.stderr


def test_train_with_bad_key_fails_before_building_anything(tmp_path):
    out = run("train", "peft=lora", "peft.r=abc", f"hydra.run.dir={tmp_path}")
    assert out.returncode == 2
    assert "peft.r: expected int" in out.stderr and "Traceback" not in out.stderr


def test_unknown_option_lists_available_ones(tmp_path):
    out = run("train", "peft=lorra", f"hydra.run.dir={tmp_path}")
    assert out.returncode != 0
    assert "Could not find 'peft/lorra'" in out.stderr and "lora" in out.stderr
    assert "Traceback" not in out.stderr


def test_misspelled_override_key_is_reported(tmp_path):
    out = run("train", "optimizer.learning_rate=1e-3", f"hydra.run.dir={tmp_path}")
    assert out.returncode != 0 and "optimizer.learning_rate" in out.stderr
    assert "Traceback" not in out.stderr


def test_disallowed_target_is_refused(tmp_path):
    out = run("validate", "optimizer._target_=os.system")
    assert out.returncode == 2 and "optimizer._target_: 'os.system' is not allowed" in out.stderr


def test_cp_copies_a_config_to_edit(tmp_path):
    out = run("cp", "peft/lora", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "name: lora" in (tmp_path / "peft" / "my_lora.yaml").read_text()  # an option of peft under --config-dir
    again = run("cp", "peft/lora", str(tmp_path))
    assert again.returncode == 2 and "exists" in again.stderr
    missing = run("cp", "nope", str(tmp_path))
    assert missing.returncode == 2 and "no recipe or config named 'nope'" in missing.stderr


def test_unknown_command():
    out = run("trian")
    assert out.returncode == 2 and "unknown command 'trian'" in out.stderr


def test_group_given_a_number_is_one_clear_error(tmp_path):
    out = run("train", "loss_mask=[0]", f"hydra.run.dir={tmp_path}")
    assert out.returncode == 2 and "`loss_mask` is a config group" in out.stderr
    assert "Traceback" not in out.stderr
