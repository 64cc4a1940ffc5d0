"""Where the project's config and recipe directories live (a source checkout / editable install)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CONF_DIR = ROOT / "conf"
RECIPES_DIR = ROOT / "recipes"
