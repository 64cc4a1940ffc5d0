"""Config defaults taken from Python signatures, so that option YAMLs and code cannot drift.

Every registered component (built-in or plugin) gets a node `{name, each keyword argument with its
default}` in Hydra's ConfigStore, as the root config `_signature.<group>.<name>`; an option YAML
starts from it and keeps only what differs (plus `name`, required `???` keys and interpolations):

    defaults:
      - /_signature.peft.lora@_here_
      - _self_
    name: lora

Every key is then in the composed config: `peft.alpha=32` overrides it without `+`, and
`--cfg job` shows it. `_loader_settings` holds LoaderSettings' defaults: the `data` block of the
train, preview and eval configs. Root configs rather than a `_signature/<group>` group, because Hydra's
`--help` lists every config group as something to choose from. Defaults that are not plain YAML
values (objects, callables) are left out: such a key is set in YAML or given with `+`.
"""
from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any, Callable

LOADER_NODE = "_loader_settings"
_SKIP = object()  # a default with no YAML form
_stored: tuple = ()  # (kind, name, id) of the entries stored last time


def node_name(group: str, component: str) -> str:
    """The ConfigStore name of a component's signature node (what an option YAML's defaults list names)."""
    return f"_signature.{group}.{component}"


def _yaml_value(value: Any) -> Any:
    """`value` as a plain YAML value (tuples become lists), or _SKIP."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):  # OmegaConf would read these as an interpolation / a missing value
        return _SKIP if value == "???" else value.replace("${", "\\${")
    if isinstance(value, (list, tuple)):
        items = [_yaml_value(v) for v in value]
        return _SKIP if any(v is _SKIP for v in items) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _yaml_value(v) for k, v in value.items()}
        return _SKIP if any(v is _SKIP for v in items.values()) else items
    return _SKIP


def signature_defaults(obj: Callable[..., Any]) -> dict[str, Any]:
    """Keyword arguments of `obj` (a class or function) with a plain default; required ones are left out
    (the option YAML says `???` where the user must give one)."""
    factories = {f.name: f.default_factory for f in dataclasses.fields(obj)
                 if f.default_factory is not dataclasses.MISSING} if dataclasses.is_dataclass(obj) else {}
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):  # no introspectable signature (a builtin): nothing to give
        return {}
    out = {}
    for name, param in params.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or param.default is param.empty:
            continue
        value = _yaml_value(factories[name]() if name in factories else param.default)
        if value is not _SKIP:
            out[name] = value
    return out


def store_signature_defaults() -> None:
    """Store the signature node of every registered component and the loader settings node. Called
    before each composition (a no-op when the registry is unchanged), so components registered since count."""
    global _stored
    from hydra.core.config_store import ConfigStore

    from tuneforge.data.base import LoaderSettings
    from tuneforge.registry import GROUP_OF_KIND, entries

    found = entries()
    if tuple((e.kind, e.name, id(e.obj)) for e in found) == _stored:
        return
    _stored = tuple((e.kind, e.name, id(e.obj)) for e in found)
    store = ConfigStore.instance()
    for entry in found:
        store.store(name=node_name(GROUP_OF_KIND[entry.kind], entry.name),
                    node={"name": entry.name, **signature_defaults(entry.obj)}, provider=entry.provider)
    store.store(name=LOADER_NODE, node=signature_defaults(LoaderSettings), provider="tuneforge")


def option_aliases() -> list[tuple[str, str, str]]:
    """(group, option, component) for each option of tuneforge's conf/ whose `name` selects a component
    of another name, e.g. ("loss_mask", "output_only", "multi_turn"); for listings (`tuneforge ls`)."""
    import yaml

    from tuneforge.config.paths import CONF_DIR
    from tuneforge.registry import GROUP_OF_KIND

    found = []
    for group in sorted(set(GROUP_OF_KIND.values())):
        for path in sorted(Path(CONF_DIR, group).glob("*.yaml")):
            node = yaml.safe_load(path.read_text()) or {}
            name = node.get("name") if isinstance(node, dict) else None
            if isinstance(name, str) and name != path.stem:
                found.append((group, path.stem, name))
    return found
