"""`tuneforge cp NAME DEST`: copy a recipe (NAME) or a config option (GROUP/OPTION, e.g. peft/lora) to DEST
(a file or a directory) to edit it, then use it from a user config directory:

    tuneforge cp peft/lora my_lora.yaml            # writes ./peft/my_lora.yaml
    tuneforge train --config-dir . peft=my_lora    # (edit it first) an option of the group, like the built-ins

An option is found by its group's folder, so the copy lands in `<group>/` under DEST's directory unless DEST
is already in such a folder; copied into a directory it is named `my_<option>.yaml` (a built-in option of
the same name would win over it). A recipe is the group `recipe` (`recipe=my_recipe`)."""
from __future__ import annotations

import shutil
from pathlib import Path

from tuneforge.config.paths import CONF_DIR, RECIPES_DIR
from tuneforge.errors import TuneforgeError


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise TuneforgeError("usage: tuneforge cp NAME DEST")
    name, dest = argv
    candidates = [(RECIPES_DIR / f"{name}.yaml", "recipe"), (CONF_DIR / f"{name}.yaml", name.rpartition("/")[0])]
    source, group = next(((c, g) for c, g in candidates if c.is_file()), (None, ""))
    if source is None:
        raise TuneforgeError(f"no recipe or config named {name!r} (try `tuneforge ls recipes`, "
                             f"or GROUP/OPTION such as peft/lora)")
    target = destination(Path(dest), source, group)
    if target.exists():
        raise TuneforgeError(f"{target} exists; not overwriting")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    print(f"copied {source} -> {target}")
    if group:
        root = target.parents[len(Path(group).parts)]
        root_arg = "." if root.resolve() == Path.cwd().resolve() else str(root)
        print(f"use it (after editing): tuneforge train --config-dir {root_arg} {group}={target.stem}")


def destination(dest: Path, source: Path, group: str) -> Path:
    """Where the copy goes: DEST, put inside `<group>/` (an option is found by its group's folder) unless DEST
    already sits in one; a directory DEST gets `<group>/my_<option>.yaml`."""
    if dest.is_dir() or str(dest).endswith("/"):
        base, name = dest, ("my_" + source.name if group else source.name)
    else:
        base, name = dest.parent, dest.name if dest.suffix == ".yaml" else dest.name + ".yaml"
    if not group:  # a primary config (train, preview, ...): as asked
        return base / name
    parts = Path(group).parts
    if base.absolute().parts[-len(parts):] == parts:  # already DIR/<group>/NAME.yaml
        return base / name
    return base / group / name
