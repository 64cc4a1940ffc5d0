"""Where the config and recipe directories are: in an installed wheel and in a source checkout alike.

conf/ and recipes/ stay at the top of the repository, for editing. A package-dir mapping
(pyproject.toml; setup.py lists the package) ships conf/ as the package `tuneforge.conf`, so a wheel
carries `tuneforge/conf/`, recipes included as `tuneforge/conf/recipe/`: building the wheel follows the
`conf/recipe -> ../recipes` symlink. conf/__init__.py keeps the config directory an importable package
(`conf` in a checkout, `tuneforge.conf` in a wheel), which Lightning's DDP relaunch of a Hydra app needs.

A `conf/` inside the package means an installed wheel; without one (an editable install, old or new, or
the checkout on PYTHONPATH) the checkout's conf/ beside the package is used. Plain paths rather than
importlib.resources: Hydra's `config_path`, `tuneforge cp` and the group listings need real directories,
and a wheel is always unpacked on install.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
#: The source checkout (pyproject.toml, README.md, conf/, recipes/); meaningless in an installed wheel.
ROOT = PACKAGE.parent
CONF_DIR = PACKAGE / "conf" if (PACKAGE / "conf").is_dir() else ROOT / "conf"
#: The recipe group's directory: recipes/ in a checkout (conf/recipe resolved), conf/recipe in a wheel.
RECIPES_DIR = (CONF_DIR / "recipe").resolve()
