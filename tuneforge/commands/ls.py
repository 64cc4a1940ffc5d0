"""`tuneforge ls [KIND|recipes]`: every component (name, kind, provider, description), one kind, or the recipes.

Never imports torch, transformers, peft or lightning: it answers in well under a second.
"""
from __future__ import annotations

from tuneforge.config.paths import RECIPES_DIR
from tuneforge.config.signature_defaults import option_aliases
from tuneforge.errors import TuneforgeError
from tuneforge.registry import GROUP_OF_KIND, KINDS, entries, failed_plugins


def recipe_descriptions() -> dict[str, str]:
    """Recipe name -> the first comment line of its file that is not the package header."""
    out = {}
    for path in sorted(RECIPES_DIR.glob("*.yaml")):
        lines = [ln[1:].strip() for ln in path.read_text().splitlines() if ln.startswith("#")]
        lines = [ln for ln in lines if not ln.startswith("@package")]
        out[path.stem] = lines[0] if lines else ""
    return out


def main(argv: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    if len(argv) > 1:
        raise TuneforgeError("usage: tuneforge ls [KIND|recipes]")
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
    if what is not None and what not in KINDS and what not in kinds:
        raise TuneforgeError(f"unknown kind {what!r}; kinds: {', '.join(KINDS)} (or 'recipes')")
    table = Table(title="tuneforge components")
    for col in ("name", "kind", "provider", "description"):
        table.add_column(col, style="bold" if col == "name" else None)
    kind = kinds.get(what, what)
    rows = [(e.kind, e.name, e.provider, e.description) for e in entries(kind)]
    rows += [(kinds[group], option, "tuneforge", f"config alias of {target} ({group}={option})")
             for group, option, target in option_aliases() if kind in (None, kinds[group])]
    for k, name, provider, text in sorted(rows, key=lambda r: (KINDS.index(r[0]), r[1])):
        table.add_row(name, k, provider, text)
    console.print(table)
    for plugin, error in failed_plugins().items():
        console.print(f"[red]plugin {plugin} failed to load:[/red] {error}")
