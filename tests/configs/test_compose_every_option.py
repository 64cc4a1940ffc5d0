"""Every option of every config group, and every recipe, composes and binds; the count of options
composed equals the YAML files on disk."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hydra.errors import HydraException

from tuneforge.binding import bind
from tuneforge.config.assemble import COMMANDS, assemble
from tuneforge.registry import GROUP_OF_KIND
from tuneforge.config.app import with_run_dir
from tuneforge.config.paths import CONF_DIR, RECIPES_DIR

PRIMARIES = sorted(p.stem for p in CONF_DIR.glob("*.yaml"))


def option_files() -> list[tuple[str, str]]:
    """(group, option) for every option YAML under conf/ (recipes are counted separately)."""
    found = []
    for path in sorted(CONF_DIR.rglob("*.yaml")):
        rel = path.relative_to(CONF_DIR)
        if len(rel.parts) < 2 or rel.parts[0] == "recipe" or path.name.startswith("_"):
            continue
        found.append(("/".join(rel.parts[:-1]), path.stem))
    return found


def extra_overrides(group: str, option: str, tmp_path: Path) -> list[str]:
    if (group, option) == ("model", "hf"):
        (tmp_path / "some_model").mkdir(exist_ok=True)
        return [f"model.name_or_path={tmp_path / 'some_model'}"]
    if (group, option) == ("template", "jinja"):  # its one required key: the template itself
        return ["template.source='{% for m in messages %}{{ m.content }}{% endfor %}'"]
    return []


def compose_option(compose, group: str, option: str, extra: list[str]):
    """Compose the first primary config that accepts group=option (or +group=option)."""
    errors = []  # a primary that has the group first (an added group is an unknown root key to the assembler)
    for form in (f"{group}={option}", f"{group}=[{option}]", f"+{group}={option}", f"+{group}=[{option}]"):
        for primary in PRIMARIES:
            try:
                return primary, form, compose(primary, [form, *extra])
            except HydraException as err:
                errors.append(f"{primary} {form}: {err}")
    raise AssertionError(f"{group}/{option} composes in no primary config:\n" + "\n".join(errors))


def test_every_option_composes_and_binds(compose, tmp_path):
    files = option_files()
    composed = 0
    for group, option in files:
        primary, form, cfg = compose_option(compose, group, option, extra_overrides(group, option, tmp_path))
        if form.startswith("+"):  # a group no primary has (e.g. mixer, used inside data=mix): bind it alone
            kind = {g: k for k, g in GROUP_OF_KIND.items()}.get(group)
            if kind is not None:
                bind(kind, cfg[group], group)
        elif primary in COMMANDS and group.split("/")[0] not in ("hydra",):
            assemble(primary, with_run_dir(cfg))
        composed += 1
    assert composed == len(files) and composed >= 15


@pytest.mark.parametrize("recipe", sorted(p.stem for p in RECIPES_DIR.glob("*.yaml")))
def test_every_recipe_composes_and_binds(compose, recipe):
    text = (RECIPES_DIR / f"{recipe}.yaml").read_text()
    assert text.startswith("# @package _global_"), "recipes are deltas over the defaults"
    # the command in the recipe's header (`tuneforge train|generate recipe=NAME ...`) names its primary
    command = re.search(rf"^#\s+tuneforge (\w+) (?:-m )?recipe={recipe}\b", text, re.M)
    primary = command.group(1) if command else "train"
    cfg = compose(primary, [f"recipe={recipe}"])
    assemble(primary, with_run_dir(cfg))


def test_recipe_group_is_the_recipes_directory():
    assert (CONF_DIR / "recipe").resolve() == RECIPES_DIR.resolve()
