"""tuneforge as a real package: wheels of tuneforge and of the example plugin, installed NON-editable into a
fresh environment that cannot see the checkout, work from an unrelated directory (ls, ls recipes, cp,
train the quickstart, train with the plugin's PEFT method).

The fresh environment: `python -m venv --without-pip`, plus a .pth line naming this interpreter's
site-packages for the dependencies. A plain path line in a .pth file does not process the .pth files
inside that directory, so the editable install's finder there stays inactive and `import tuneforge`
finds only the wheel."""
from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.plugins.conftest import plugin_env
from tuneforge.config.paths import CONF_DIR, RECIPES_DIR, ROOT

pytestmark = pytest.mark.slow

PLUGIN_SRC = ROOT / "plugins" / "tuneforge-example"
#: What building tuneforge's wheel reads (the rest of the checkout, .venv included, is not copied).
SOURCES = ("pyproject.toml", "setup.py", "README.md", "tuneforge", "conf", "recipes")
IGNORE = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist")
SHORT = ["trainer.max_steps=3", "data.num_train=64", "eval.enabled=false", "callbacks=none", "logger=none",
         "checkpoint.enabled=false", "model.hidden_size=32", "model.num_layers=1", "model.num_heads=2"]


def build_wheel(project: Path, keep: tuple[str, ...] | None, src: Path, out: Path) -> Path:
    """Copy `project` (only its top-level entries `keep`, if given) to `src`, since setuptools builds in
    the source tree and the checkout must stay clean; then `pip wheel` it offline into `out`."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set(IGNORE(folder, names))
        return skipped | (set(names) - set(keep)) if keep and Path(folder) == project else skipped

    shutil.copytree(project, src, symlinks=True, ignore=ignore)  # conf/recipe stays a symlink
    before = set(out.glob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--wheel-dir", str(out), str(src)], check=True, cwd=src, timeout=300,
                   env={**plugin_env(None), "PIP_NO_CACHE_DIR": "1"})
    (wheel,) = set(out.glob("*.whl")) - before
    return wheel


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    src = tmp_path_factory.mktemp("src")
    return {"tuneforge": build_wheel(ROOT, SOURCES, src / "tuneforge", out),
            "example": build_wheel(PLUGIN_SRC, None, src / "example", out)}


@pytest.fixture(scope="module")
def env(wheels, tmp_path_factory) -> Path:
    """A fresh environment with both wheels installed (tuneforge's console script included)."""
    env = tmp_path_factory.mktemp("env") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    (purelib,) = env.glob("lib/python*/site-packages")
    (purelib / "_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "--quiet",
                    "--no-deps", "--no-index", *map(str, wheels.values())], check=True, timeout=300,
                   env={**plugin_env(None), "PIP_NO_CACHE_DIR": "1"})
    return env


def tuneforge(env: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([str(env / "bin" / "tuneforge"), *args], capture_output=True, text=True, cwd=cwd,
                         timeout=300, env={**plugin_env(None), "COLUMNS": "250"})
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    return out


def test_the_wheel_ships_every_config_and_recipe(wheels):
    names = set(zipfile.ZipFile(wheels["tuneforge"]).namelist())
    on_disk = {(Path(top) / name).relative_to(CONF_DIR).as_posix()
               for top, _, files in os.walk(CONF_DIR, followlinks=True) if "__pycache__" not in top
               for name in files}
    assert {f"recipe/{p.name}" for p in RECIPES_DIR.glob("*.yaml")} <= on_disk  # through the symlink
    missing = {f"tuneforge/conf/{rel}" for rel in on_disk} - names
    assert not missing, f"not in the wheel (pyproject.toml's package-data for tuneforge.conf?): {sorted(missing)}"
    assert "tuneforge/conf/__init__.py" in names and "tuneforge/assets/seed_tasks.jsonl" in names


def test_the_environment_runs_the_wheel_not_the_checkout(env, tmp_path):
    code = ("import json, sys, tuneforge; from tuneforge.config import paths; "
            "print(json.dumps([tuneforge.__file__, str(paths.CONF_DIR), str(paths.RECIPES_DIR), "
            "[m for m in sys.modules if 'editable' in m]]))")
    out = subprocess.run([str(env / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         timeout=60, env=plugin_env(None))
    assert out.returncode == 0, out.stderr
    module, conf, recipes, editable = json.loads(out.stdout)
    assert not editable
    for path in (module, conf, recipes):
        assert Path(path).is_relative_to(env) and not Path(path).is_relative_to(ROOT), path
    assert Path(recipes) == Path(conf) / "recipe"


def test_ls_lists_components_plugin_and_recipes(env, tmp_path):
    out = tuneforge(env, tmp_path, "ls").stdout
    assert "│ lora " in out and "│ tuneforge " in out
    for name, kind in {"qa_text": "data_builder", "bitfit": "peft", "no_urls": "filter"}.items():
        assert re.search(rf"│ {name}\s+│ {kind}\s+│ tuneforge-example\s+│", out), name
    assert "failed to load" not in out
    recipes = tuneforge(env, tmp_path, "ls", "recipes").stdout
    expected = sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))
    assert expected and all(f"│ {name} " in recipes for name in expected)


def test_cp_copies_a_config_and_a_recipe(env, tmp_path):
    tuneforge(env, tmp_path, "cp", "peft/lora", "x.yaml")
    assert (tmp_path / "peft" / "x.yaml").read_text() == (CONF_DIR / "peft" / "lora.yaml").read_text()
    tuneforge(env, tmp_path, "cp", "qlora", ".")  # a copy lands in its group's folder, for --config-dir
    assert (tmp_path / "recipe" / "my_qlora.yaml").read_text() == (RECIPES_DIR / "qlora.yaml").read_text()


def test_trains_the_quickstart(env, tmp_path):
    run_dir = tmp_path / "run"
    tuneforge(env, tmp_path, "train", *SHORT, f"hydra.run.dir={run_dir}")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["trainer/global_step"] == 3 and metrics["data/train/kept"] == 64
    assert metrics["params/trainable"] == metrics["params/total"]  # peft=full, the quickstart's default


def test_trains_with_the_plugins_peft_method(env, tmp_path):
    run_dir = tmp_path / "run"
    tuneforge(env, tmp_path, "train", "peft=bitfit", *SHORT, f"hydra.run.dir={run_dir}")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["trainer/global_step"] == 3
    assert 0 < metrics["params/trainable"] < metrics["params/total"]  # biases only
    assert (run_dir / "bitfit" / "bitfit_config.json").exists()
    assert "name: bitfit" in (run_dir / "config.yaml").read_text()
