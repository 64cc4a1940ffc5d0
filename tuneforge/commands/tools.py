"""The fast tools of the CLI: ls, validate, cp (no torch / transformers / peft imports)."""
from __future__ import annotations

import shutil
from pathlib import Path

from tuneforge.errors import TuneforgeError
from tuneforge.config.paths import CONF_DIR, RECIPES_DIR
from tuneforge.registry import GROUP_OF_KIND, KINDS, entries, failed_plugins


def recipe_descriptions() -> dict[str, str]:
    """Recipe name -> the first comment line of its file that is not the package header."""
    out = {}
    for path in sorted(RECIPES_DIR.glob("*.yaml")):
        lines = [ln[1:].strip() for ln in path.read_text().splitlines() if ln.startswith("#")]
        lines = [ln for ln in lines if not ln.startswith("@package")]
        out[path.stem] = lines[0] if lines else ""
    return out


def ls(what: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if what == "recipes":
        table = Table(title="recipes (tuneforge train recipe=NAME)")
        table.add_column("name", style="bold")
        table.add_column("description")
        for name, text in recipe_descriptions().items():
            table.add_row(name, text)
        console.print(table)
        return
    kinds = {GROUP_OF_KIND.get(k, k): k for k in KINDS}
    if what is not None and what not in KINDS and what not in kinds:
        raise TuneforgeError(f"unknown kind {what!r}; kinds: {', '.join(KINDS)} (or 'recipes')")
    kind = kinds.get(what, what)
    table = Table(title="tuneforge components")
    for col in ("name", "kind", "provider", "description"):
        table.add_column(col, style="bold" if col == "name" else None)
    for entry in entries(kind):
        table.add_row(entry.name, entry.kind, entry.provider, entry.description)
    console.print(table)
    for plugin, error in failed_plugins().items():
        console.print(f"[red]plugin {plugin} failed to load:[/red] {error}")


def validate(overrides: list[str], command: str = "train") -> None:
    """Compose the config with `overrides` and bind every component; print OK or raise."""
    from hydra.errors import HydraException

    from tuneforge.config.assemble import COMPONENTS_OF, assemble
    from tuneforge.config.app import compose

    from tuneforge.config.app import check_group_overrides

    check_group_overrides(overrides)
    try:
        cfg = compose(command, overrides, return_hydra_config=False)
    except (HydraException, ValueError, TypeError) as err:  # Hydra's raw errors for some bad overrides
        raise TuneforgeError(str(err)) from None
    assembly = assemble(with_run_dir(cfg), COMPONENTS_OF[command])
    names = ", ".join(f"{k}={getattr(v, '__class__').__name__}" for k, v in assembly.components.items())
    print(f"config OK: {names}")


def with_run_dir(cfg):  # noqa: ANN001, ANN202 (omegaconf types)
    """Composed outside a run there is no hydra runtime dir: give run_dir a placeholder."""
    from omegaconf import OmegaConf, open_dict

    with open_dict(cfg):
        cfg.run_dir = "<run_dir>"
    return OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))


def cp(name: str, dest: str) -> None:
    """Copy recipe `name` or config `group/option` to `dest` (a file or directory)."""
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
