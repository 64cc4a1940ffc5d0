"""`tuneforge ls [KIND|GROUP|recipes]`: every component (name, kind, provider, description) and every option of
the config groups that are not components (trainer, optimizer, logger, callbacks, hparams_search, Hydra's
launchers and sweepers), one kind or group, or the recipes.

Never imports torch, transformers, peft or lightning: it answers in well under a second.
"""
from __future__ import annotations

from pathlib import Path

from tuneforge.config.paths import CONF_DIR, RECIPES_DIR
from tuneforge.config.signature_defaults import option_aliases
from tuneforge.errors import TuneforgeError
from tuneforge.registry import GROUP_OF_KIND, KINDS, entries, failed_plugins


def recipe_descriptions() -> dict[str, str]:
    """Recipe name -> the first sentence of its file's opening comment (the line above its command example)."""
    return {path.stem: yaml_description(path) for path in sorted(RECIPES_DIR.glob("*.yaml"))}


#: Hydra's own groups that users select on the command line (their options come from Hydra's plugins too).
HYDRA_GROUPS = ("hydra/launcher", "hydra/sweeper")


def yaml_description(path: Path) -> str:
    """The first sentence of a config file's opening comment (its package header aside)."""
    block = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line[1:].strip()
        if text.startswith("@package"):
            continue
        if not text or text.startswith(("tuneforge ", "pip ")):  # a blank comment line or a command example
            break
        block.append(text)
    joined = first_sentence(" ".join(block))
    return joined[:-1] + "." if joined.endswith(":") else joined


def first_sentence(text: str) -> str:
    """`text` up to its first ". " outside brackets that does not end "et al.", "e.g.", "i.e." or "..."."""
    depth = 0
    for i, char in enumerate(text):
        depth += (char in "([") - (char in ")]")
        ends = char == "." and text[i + 1:i + 2] == " " and depth <= 0
        if ends and not text[:i].endswith((" al", "e.g", "i.e", ".")):
            return text[: i + 1]
    return text


def config_groups() -> dict[str, list[tuple[str, str]]]:
    """Config groups that are not component kinds -> [(option, description)], as Hydra sees them (plugins'
    config directories and Hydra's launcher / sweeper plugins included)."""
    from tuneforge.config.app import groups_options

    component_groups = set(GROUP_OF_KIND.values())
    groups = [p.name for p in sorted(CONF_DIR.iterdir()) if p.is_dir() and not p.name.startswith(("_", "."))
              and p.name not in component_groups and p.name not in ("recipe", "hydra")] + list(HYDRA_GROUPS)
    out: dict[str, list[tuple[str, str]]] = {}
    for group, options in groups_options(groups).items():
        rows = []
        for option in options:
            file = CONF_DIR / group / f"{option}.yaml"
            text = yaml_description(file) if file.is_file() else ""
            if not text and group.startswith("hydra/"):
                text = f"Hydra's {option} {group.split('/')[1]} ({group}={option})"
            rows.append((option, text))
        out[group] = rows
    return out


def main(argv: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    if len(argv) > 1:
        raise TuneforgeError("usage: tuneforge ls [KIND|GROUP|recipes]")
    what = argv[0] if argv else None
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
    groups = config_groups() if what is None or what not in (*KINDS, *kinds) else {}
    if what is not None and what not in KINDS and what not in kinds and what not in groups:
        raise TuneforgeError(f"unknown kind {what!r}; kinds: {', '.join(KINDS)}; config groups: "
                             f"{', '.join(groups)} (or 'recipes')")
    table = Table(title="tuneforge components and config options")
    for col in ("name", "kind", "provider", "description"):
        table.add_column(col, style="bold" if col == "name" else None)
    rows = []
    if what is None or what in KINDS or what in kinds:
        kind = kinds.get(what, what)
        rows += [(e.kind, e.name, e.provider, e.description) for e in entries(kind)]
        rows += [(kinds[group], option, "tuneforge", f"config alias of {target} ({group}={option})")
                 for group, option, target in option_aliases() if kind in (None, kinds[group])]
    order = [*KINDS, *groups]
    rows += [(group, option, "tuneforge" if (CONF_DIR / group / f"{option}.yaml").is_file() else "hydra", text)
             for group, options in groups.items() if what in (None, group) for option, text in options]
    for k, name, provider, text in sorted(rows, key=lambda r: (order.index(r[0]), r[1])):
        table.add_row(name, k, provider, text)
    console.print(table)
    for plugin, error in failed_plugins().items():
        console.print(f"[red]plugin {plugin} failed to load:[/red] {error}")
