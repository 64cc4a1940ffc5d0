"""Hydra glue: the search path (plugins' config dirs), running a primary config as an app, composing.

`train`, `preview`, ... are Hydra apps over `conf/<command>.yaml`; `-m`, `--cfg job`, `--help` and
`hydra.run.dir=...` work as in any Hydra app. `--config-dir DIR` adds a user config directory whose
`<group>/<name>.yaml` files are options of the groups (`peft=my_lora` for DIR/peft/my_lora.yaml), for the
apps and `validate` alike.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

from tuneforge.config.paths import CONF_DIR

_registered = False
#: User config directories (`--config-dir`) added to the search path while checking and composing outside
#: a Hydra app (inside one, Hydra adds them itself).
_extra_dirs: list[Path] = []


def register_search_path() -> None:
    """Register (once) the SearchPathPlugin that adds every plugin's config directory."""
    global _registered
    from tuneforge.config.signature_defaults import store_signature_defaults

    store_signature_defaults()  # each time: components registered since then count too
    if _registered:
        return
    from hydra.core.plugins import Plugins
    from hydra.plugins.search_path_plugin import SearchPathPlugin

    class TuneforgePluginSearchPath(SearchPathPlugin):
        def manipulate_search_path(self, search_path) -> None:  # noqa: ANN001 (hydra's type)
            for provider, path in plugin_config_dirs():
                search_path.append(provider=f"tuneforge-plugin:{provider}", path=path)
            for path in _extra_dirs:
                search_path.append(provider="command-line", path=f"file://{path}")

    Plugins.instance().register(TuneforgePluginSearchPath)
    _registered = True


def plugin_config_dirs() -> list[tuple[str, str]]:
    """(provider, search-path entry) of each loaded plugin that ships configs. Registered explicitly
    because Hydra 1.3 does not discover `hydra_plugins` namespace packages under an editable install."""
    from tuneforge.registry import loaded_plugins

    dirs = []
    for plugin in loaded_plugins():
        if plugin.config_dir:
            path = plugin.config_dir if "://" in plugin.config_dir else f"file://{plugin.config_dir}"
            dirs.append((plugin.provider, path))
    return dirs


#: Hydra's flags that take a value (`--cfg job`, `--config-dir DIR`); `--info` takes an optional one.
_VALUE_FLAGS = ("--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--cfg", "-c",
                "--package", "-p", "--experimental-rerun")
_INFO_CHOICES = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """(Hydra's flags with their values, the overrides) of a command line."""
    flags: list[str] = []
    overrides: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-"):
            overrides.append(arg)
        else:
            flags.append(arg)
            info = arg in ("--info", "-i") and i + 1 < len(argv) and argv[i + 1] in _INFO_CHOICES
            takes = arg in _VALUE_FLAGS or info
            if takes and i + 1 < len(argv):
                flags.append(argv[i + 1])
                i += 1
        i += 1
    return flags, overrides


def config_dirs(flags: list[str]) -> list[Path]:
    """The `--config-dir DIR` / `-cd DIR` / `--config-dir=DIR` directories of Hydra's flags, checked: each must
    exist, and a file in it must not be named as a built-in option of its group (the built-in would win)."""
    from tuneforge.errors import TuneforgeError

    dirs = []
    for i, flag in enumerate(flags):
        name, _, value = flag.partition("=")
        if name not in ("--config-dir", "-cd"):
            continue
        value = value or (flags[i + 1] if i + 1 < len(flags) else "")
        path = Path(value).expanduser().absolute()
        if not value or not path.is_dir():
            raise TuneforgeError(f"{name} {value}: no such directory (a user config directory holds "
                                 "<group>/<name>.yaml files, e.g. DIR/peft/my_lora.yaml for peft=my_lora)")
        for rel in _builtin_options():
            file = path / rel
            if file.is_file():
                group = "/".join(rel.parts[:-1])
                raise TuneforgeError(f"{file}: a built-in {group} option has this name and wins over it; "
                                     f"rename it (e.g. {file.with_name('my_' + file.name)}) and select "
                                     f"{group}=my_{file.stem}")
        dirs.append(path)
    return dirs


def _builtin_options() -> list[Path]:
    """`<group>/<option>.yaml` of every built-in option (recipes included), relative to conf/."""
    import os

    found = []
    for folder, _, files in os.walk(CONF_DIR, followlinks=True):
        rel = Path(folder).relative_to(CONF_DIR)
        found += [rel / f for f in files if f.endswith(".yaml") and rel.parts]
    return found


@contextlib.contextmanager
def extra_config_dirs(dirs: list[Path]) -> Iterator[None]:
    """Compose (and list group options) with the user config directories `dirs` on the search path."""
    from hydra.core.global_hydra import GlobalHydra

    register_search_path()
    before = list(_extra_dirs)
    _extra_dirs[:] = [*before, *dirs]
    try:
        yield
    finally:
        _extra_dirs[:] = before
        if dirs:
            GlobalHydra.instance().clear()  # its config loader holds the search path


#: Groups selected with `optional` in the primary configs: Hydra skips a missing option without a word.
OPTIONAL_GROUPS = ("recipe", "hparams_search")


def group_options(group: str) -> list[str]:
    """The options of a config group, plugins' included, as Hydra sees them."""
    return groups_options([group])[group]


def groups_options(groups: list[str]) -> dict[str, list[str]]:
    """Config group -> its options, plugins' included, as Hydra sees them (Hydra initialised once for all)."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_search_path()
    ready = GlobalHydra.instance().is_initialized()
    with contextlib.nullcontext() if ready else initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        loader = GlobalHydra.instance().config_loader()
        return {group: loader.get_group_options(group) for group in groups}


def check_group_overrides(argv: list[str]) -> None:
    """A config group takes option names: Hydra answers `loss_mask=0` or `peft=[1]` with a raw traceback,
    and skips a missing `recipe=` or `hparams_search=` option silently (they are `optional` in the defaults
    list: `recipe=smollm2_loraa` would train the quickstart); so is a key that moved (`data.template=alpaca`:
    `template=alpaca`). Each is one clear error here, before Hydra."""
    import difflib

    from hydra.core.override_parser.overrides_parser import OverridesParser

    from tuneforge.config.issues import moved_key
    from tuneforge.errors import TuneforgeError

    try:
        overrides = OverridesParser.create().parse_overrides(split_argv(argv)[1])
    except Exception:  # a syntax error: Hydra reports it clearly itself
        return
    groups = {p.name for p in CONF_DIR.iterdir() if p.is_dir() and not p.name.startswith("_")}
    for override in overrides:
        group = override.key_or_group
        moved = moved_key(group, override.input_line.split("=", 1)[-1])
        if moved:  # data.template=alpaca: Hydra would answer "not in struct"
            raise TuneforgeError(moved)
        if group not in groups or override.is_sweep_override() or override.is_delete():
            continue
        value = override.value()
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise TuneforgeError(f"{override.input_line}: `{group}` is a config group; give "
                                 f"an option name: {', '.join(group_options(group))}")
        if group in OPTIONAL_GROUPS:
            options = group_options(group)
            for name in values:
                if name not in options:
                    close = difflib.get_close_matches(name, options, n=1)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    raise TuneforgeError(f"{override.input_line}: no {group} option {name!r}.{hint} "
                                         f"Options: {', '.join(options)}")


def check_hydra_targets(command: str, argv: list[str]) -> None:
    """Hydra instantiates its own callbacks, launcher and sweeper before the task runs, so their `_target_`s
    (which a recipe may set) are checked first, on the config composed with the command line's overrides
    (sweeps aside). A config that does not compose is left to Hydra, which reports it itself."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from tuneforge.config.targets import check_targets
    from tuneforge.errors import TuneforgeError

    flags, overrides = split_argv(argv)
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        cfg = compose(command, [o.input_line for o in parsed if not o.is_sweep_override()],
                      return_hydra_config=True)
    except Exception as err:  # noqa: BLE001 (Hydra's own errors come, clearer, from the app itself)
        friendly = friendly_compose_error(err)
        if friendly:
            raise TuneforgeError(friendly) from None
        return
    check_targets(cfg.hydra, "hydra")
    check_writable(cfg, multirun=any(a in ("-m", "--multirun") for a in flags))


def friendly_compose_error(err: Exception) -> str | None:
    """One line naming the fix for the composition errors a user is likeliest to meet (a data key given without
    a data option that has it: `data.path=x.json` on the built-in `rules` data); None for the others."""
    import re

    from tuneforge.config.issues import missing_data_option

    found = re.search(r"Could not override '(data\.[\w.]+)'.*?use \+data\.[\w.]+=(.*)$", str(err), re.S)
    return missing_data_option(found.group(1), found.group(2).strip()) if found else None


def check_writable(cfg: Any, multirun: bool) -> None:
    """The run (or sweep) directory can be created: Hydra creates it before the task runs, and a read-only
    place would end in a traceback there."""
    import os
    from pathlib import Path

    from tuneforge.errors import TuneforgeError

    try:
        target = Path(str(cfg.hydra.sweep.dir if multirun else cfg.hydra.run.dir))
    except Exception:  # noqa: BLE001 (an interpolation only Hydra's run can resolve: Hydra checks it)
        return
    existing = next((p for p in (target, *target.absolute().parents) if p.exists()), None)
    if existing is not None and not os.access(existing, os.W_OK):
        raise TuneforgeError(f"cannot write the run directory {target}: {existing} is not writable "
                             "(a read-only file system or no permission); choose another hydra.run.dir")


def run_app(command: str, task: Callable[[Any], Any], argv: list[str]) -> None:
    """Run `task` as the Hydra app over `conf/<command>.yaml` with command-line `argv`."""
    import hydra

    from tuneforge.secrets import hide_secret_overrides

    register_search_path()
    with extra_config_dirs(config_dirs(split_argv(argv)[0])):  # Hydra's app adds them itself later
        check_group_overrides(argv)
        if not (CONF_DIR / f"{command}.yaml").exists():
            raise SystemExit(f"tuneforge: no config {CONF_DIR / (command + '.yaml')}")
        argv = hide_secret_overrides(argv)  # Hydra's files and loggers' records see ${oc.env:...}, not the secret
        check_hydra_targets(command, argv)
    sys.argv = [f"tuneforge-{command}", *argv]  # each primary config sets its hydra.job.name
    app = hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name=command)(task)
    app()


def compose(command: str, overrides: list[str] | None = None, *, return_hydra_config: bool = False):
    """Compose `conf/<command>.yaml` with overrides (for tests, `validate` and tooling)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_search_path()
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR), job_name=command):
        return hydra_compose(config_name=command, overrides=list(overrides or []),
                             return_hydra_config=return_hydra_config)


def with_run_dir(cfg):  # noqa: ANN001, ANN201 (omegaconf types)
    """Composed outside a run there is no hydra runtime dir: give run_dir a placeholder."""
    from omegaconf import OmegaConf, open_dict

    with open_dict(cfg):
        cfg.run_dir = "<run_dir>"
    return OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))


#: Options composed before `+<group>=<option>` when one option is composed alone: an option may select
#: another group's option from its own defaults list (a data option: `override /template@_global_.template:
#: alpaca`), and such an override needs the entry it overrides.
BASE_OPTIONS = {"template": "plain"}


def compose_options(group: str, option: str) -> dict[str, Any] | None:
    """What `+<group>=<option>` composes to over BASE_OPTIONS, unresolved: the option under `group`, and under
    the other groups what it selects (a data option's `template`); None when the group has no such option.
    Works inside a running app and outside one."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import MissingConfigException
    from omegaconf import OmegaConf

    register_search_path()
    base = [f"+{g}={o}" for g, o in BASE_OPTIONS.items() if g != group]

    def load() -> dict[str, Any] | None:
        try:
            cfg = hydra_compose(config_name=None, overrides=[*base, f"+{group}={option}"])
        except MissingConfigException:
            return None
        return OmegaConf.to_container(cfg, resolve=False)

    if GlobalHydra.instance().is_initialized():
        return load()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return load()


def compose_option(group: str, option: str) -> dict[str, Any] | None:
    """One option of a config group as Hydra composes it (plugins' config directories included), unresolved;
    None when the group has no such option. Works inside a running app and outside one."""
    composed = compose_options(group, option)
    return None if composed is None else composed[group]
