"""`tuneforge cp NAME DEST`: copy a recipe (NAME) or a config option (GROUP/OPTION, e.g. peft/lora) to DEST
(a file or a directory) to edit it."""
from __future__ import annotations

import shutil
from pathlib import Path

from tuneforge.config.paths import CONF_DIR, RECIPES_DIR
from tuneforge.errors import TuneforgeError


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise TuneforgeError("usage: tuneforge cp NAME DEST")
    name, dest = argv
    candidates = [RECIPES_DIR / f"{name}.yaml", CONF_DIR / f"{name}.yaml"]
    source = next((c for c in candidates if c.is_file()), None)
    if source is None:
        raise TuneforgeError(f"no recipe or config named {name!r} (try `tuneforge ls recipes`, "
                             f"or GROUP/OPTION such as peft/lora)")
    target = Path(dest)
    if target.is_dir():
        target = target / source.name
    if target.exists():
        raise TuneforgeError(f"{target} exists; not overwriting")
    shutil.copyfile(source, target)
    print(f"copied {source} -> {target}")
