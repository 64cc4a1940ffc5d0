"""A real plugin package, installed with pip into a separate directory, adds a component and its
config; without it on the path, both are gone."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.conftest import install_plugin, plugin_env

PLUGIN_SRC = Path(__file__).parent / "tuneforge-testplugin"
TUNEFORGE = [sys.executable, "-m", "tuneforge.cli"]


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    return install_plugin(PLUGIN_SRC, tmp_path_factory)


def run(args: list[str], site: Path | None, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*TUNEFORGE, *args], capture_output=True, text=True, env=plugin_env(site), cwd=cwd)


def test_installed_plugin_appears_in_ls_with_its_provider(plugin_site, tmp_path):
    out = run(["ls", "scheduler"], plugin_site, tmp_path)
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if "step_decay" in ln)
    assert "tuneforge-testplugin" in line


def test_without_the_plugin_its_component_is_gone(tmp_path):
    out = run(["ls", "scheduler"], None, tmp_path)
    assert out.returncode == 0 and "step_decay" not in out.stdout
    bad = run(["validate", "scheduler=step_decay"], None, tmp_path)
    assert bad.returncode != 0 and "Could not find 'scheduler/step_decay'" in bad.stderr


def test_plugin_config_is_selectable_and_trains(plugin_site, tmp_path):
    ok = run(["validate", "scheduler=step_decay"], plugin_site, tmp_path)
    assert ok.returncode == 0, ok.stderr
    out = run(["train", "scheduler=step_decay", "trainer.max_steps=4", "eval.enabled=false",
               "model.hidden_size=32", "model.num_layers=1", "model.num_heads=2", "data.num_train=64",
               "callbacks=none", "logger=none", f"hydra.run.dir={tmp_path / 'run'}"], plugin_site, tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert "name: step_decay" in config
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["trainer/global_step"] == 4
