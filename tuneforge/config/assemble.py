"""Bind every selected component of a composed config to its signature, without building models.

`assemble` is what `tuneforge validate` runs and the first thing `train` does: every bad key, missing
key or wrong type in any component is reported at once, with its config path.
"""
from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from tuneforge.data.base import LOADER_KEYS, LoaderSettings
from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.binding import bind, check_type, type_name
from tuneforge.config.targets import check_targets

#: config node -> component kind, for the single-select groups a training run uses.
TRAIN_COMPONENTS = {"model": "model", "peft": "peft", "loss_mask": "loss_masker",
                    "scheduler": "scheduler", "data": "data_builder"}
#: primary config (command) -> the components it assembles; `validate` and the config tests use it.
#: A kind ending in [] is a multi-select group: a mapping of key -> component config.
COMPONENTS_OF = {
    "train": TRAIN_COMPONENTS,
    "preview": {"model": "model", "loss_mask": "loss_masker", "data": "data_builder"},
    "eval": {"model": "model", "data": "data_builder", "metrics": "metric[]"},
    "generate": {"llm": "llm", "pipeline": "pipeline", "filters": "filter[]", "evolution": "evolution_op[]"},
}


@dataclass
class Assembly:
    components: dict[str, Any]  # config node -> constructed component (models not built yet)
    loader: LoaderSettings


def loader_settings(node: dict[str, Any]) -> LoaderSettings:
    """The loader keys of a `data` node, each checked against LoaderSettings' type hints."""
    issues, kwargs = [], {}
    hints = typing.get_type_hints(LoaderSettings)
    for key in LOADER_KEYS & node.keys():
        if not check_type(node[key], hints[key]):
            issues.append(ConfigIssue(f"data.{key}", f"expected {type_name(hints[key])}, got {node[key]!r}"))
        else:
            kwargs[key] = node[key]
    if issues:
        raise ConfigError(issues)
    return LoaderSettings(**kwargs)


def assemble(cfg: Any, components: dict[str, str] = TRAIN_COMPONENTS) -> Assembly:
    """Check `_target_`s and bind + construct every component named in `components`."""
    from omegaconf import OmegaConf

    from omegaconf.errors import OmegaConfBaseException

    check_targets(cfg)
    try:
        plain = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as err:  # missing mandatory values (???), broken interpolations
        raise ConfigError(ConfigIssue(getattr(err, "full_key", None) or "<config>",
                                      str(err).splitlines()[0])) from None
    issues: list[ConfigIssue] = []
    built: dict[str, Any] = {}
    loader = LoaderSettings()
    for node_name, kind in components.items():
        node = plain.get(node_name)
        if node is None:
            issues.append(ConfigIssue(node_name, f"missing: select a {kind} (e.g. {node_name}=...)"))
            continue
        if node_name == "data":
            try:
                loader = loader_settings(node)
            except ConfigError as err:
                issues += err.issues
            node = {k: v for k, v in node.items() if k not in LOADER_KEYS}
        if kind.endswith("[]"):
            built[node_name] = {}
            for key, sub in node.items():
                try:
                    built[node_name][key] = bind(kind[:-2], sub, f"{node_name}.{key}").build()
                except ConfigError as err:
                    issues += err.issues
            continue
        try:
            built[node_name] = bind(kind, node, node_name).build()
        except ConfigError as err:
            issues += err.issues
    if issues:
        raise ConfigError(issues)
    return Assembly(built, loader)
