"""What a config may build through `_target_`: classes of the bases allowed where the node stands, never an
arbitrary callable.

A shared recipe, a `--config-dir` file, a run directory's config.yaml or an override can name any
importable callable in `_target_`: `torch.hub.load` runs a directory's hubconf.py, `torch.load` unpickles,
`torch.utils.cpp_extension.load_inline` compiles code. So a target must
1. lie under an allowed package (torch., lightning., transformers., tuneforge., an active plugin's
   top-level module), checked on the string before anything is imported, and
2. resolve to a class derived from a base allowed for its place in the config (`trainer`: Lightning's
   Trainer, `optimizer`: torch optimizers, `callbacks`: Lightning callbacks, `logger`: Lightning loggers;
   in Hydra's own node, which Hydra instantiates before tuneforge runs: its callbacks, launchers, sweepers
   and Optuna samplers), or to a function registered with `@config_factory(place)` for that place
   (tuneforge's logger and progress-bar factories; a plugin may register its own).
A `_target_` anywhere else is refused.
"""
from __future__ import annotations

from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import config_factories, loaded_plugins

ALLOWED_PREFIXES = ("torch.", "lightning.", "transformers.", "tuneforge.")
#: config place (a node's path starts with it; the longest match counts) -> (packages allowed there besides
#: ALLOWED_PREFIXES, the bases a target there must derive from).
BASES = {
    "trainer": ((), ("lightning.pytorch.Trainer",)),
    "optimizer": ((), ("torch.optim.Optimizer",)),
    "callbacks": ((), ("lightning.pytorch.Callback",)),
    "logger": ((), ("lightning.pytorch.loggers.Logger",)),
    "hydra.callbacks": ((), ("hydra.experimental.callback.Callback",)),
    "hydra.launcher": (("hydra_plugins.", "hydra."), ("hydra.plugins.launcher.Launcher",)),
    "hydra.sweeper": (("hydra_plugins.", "hydra."), ("hydra.plugins.sweeper.Sweeper",)),
    "hydra.sweeper.sampler": (("optuna.",), ("optuna.samplers.BaseSampler",)),
}


def allowed_prefixes() -> tuple[str, ...]:
    return ALLOWED_PREFIXES + tuple(p.module.split(":")[0].split(".")[0] + "." for p in loaded_plugins())


def _place(path: str) -> str | None:
    """The BASES key a node at `path` belongs to (`callbacks.progress` -> `callbacks`)."""
    return max((p for p in BASES if path == p or path.startswith(p + ".")), key=len, default=None)


def _problem(target: str, place: str | None, prefixes: tuple[str, ...]) -> str | None:
    """Why `target` may not be built at `place`, or None."""
    from hydra._internal.utils import _locate

    if place is None:
        return f"_target_ is allowed only under {', '.join(BASES)}"
    prefixes = prefixes + BASES[place][0]
    if not target.startswith(prefixes):
        return f"{target!r} is not allowed; _target_ must start with one of {', '.join(prefixes)}"
    try:
        obj = _locate(target)
    except Exception as err:  # noqa: BLE001 (an unknown name or a broken module: one line)
        return f"cannot import {target!r}: {str(err).splitlines()[0]}"
    if isinstance(obj, type):
        names = BASES[place][1]
        if issubclass(obj, tuple(_locate(b) for b in names)):
            return None
        return f"{target!r} is not a subclass of {' or '.join(names)}, which `{place}` takes"
    if place in config_factories(obj):
        return None
    return (f"{target!r} is not a class that `{place}` takes ({' or '.join(BASES[place][1])}) nor a "
            f"function registered with @config_factory({place!r})")


def check_targets(node: Any, path: str = "") -> None:
    """Raise ConfigError for every `_target_` under `node` that may not be built where it stands."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(node, (DictConfig, ListConfig)):
        node = OmegaConf.to_container(node, resolve=False)
    prefixes, issues = allowed_prefixes(), []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            target = value.get("_target_")
            if target is not None:
                problem = _problem(str(target), _place(where), prefixes) if isinstance(target, str) \
                    else f"expected a dotted name, got {target!r}"
                if problem:
                    issues.append(ConfigIssue(f"{where}._target_".lstrip("."), problem))
            for k, v in value.items():
                walk(v, f"{where}.{k}" if where else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")

    walk(node, path)
    if issues:
        raise ConfigError(issues)
