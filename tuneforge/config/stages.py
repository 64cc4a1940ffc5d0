"""Stage planning: a run's `stages:` list (multi-stage instruction tuning) as checked Stage objects.

Each stage may set its own `data` (a node with `name` selects a builder as `data=<name>` would: the loader
keys of that option, composed through Hydra so that plugins' options count too, over the top-level ones;
a node without `name` is merged over the top-level `data`), `loss_mask`, `scheduler`, `lr`, and
`max_steps` or `max_epochs`; it starts from the weights the previous stage left. Without `stages`, a run
is one unprefixed stage over the top-level config.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from tuneforge.config.issues import Issues, data_parts
from tuneforge.data.base import LOADER_KEYS, LoaderSettings

STAGE_KEYS = ("name", "data", "loss_mask", "scheduler", "lr", "max_steps", "max_epochs")


@dataclass
class Stage:
    index: int | None  # None: the single stage of a run without `stages`
    name: str
    data: Any  # the data builder
    settings: LoaderSettings
    loss_mask: Any
    scheduler: Any
    lr: float | None = None
    max_steps: int | None = None
    max_epochs: int | None = None

    @property
    def prefix(self) -> str:
        return "" if self.index is None else f"stage{self.index}/"


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def option_loader_keys(name: str) -> dict[str, Any]:
    """Loader keys (template, max_length, ...) that the `data=<name>` option sets, as Hydra composes it."""
    from tuneforge.config.app import compose_option

    node = compose_option("data", name) or {}
    return {k: node[k] for k in LOADER_KEYS if k in node and node[k] != "???"}


def _positive(value: Any, tp: type) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (tp is int and not isinstance(value, int)):
        return False
    return value > 0


def plan_stages(nodes: list[Any], top_data: dict[str, Any], top: Stage, issues: Issues) -> list[Stage]:
    """The stages of a run (`top` when there are none); every stage's problems go to `issues`, so that
    all are reported at once."""
    if not nodes:
        return [top]
    stages = []
    for i, node in enumerate(nodes):
        path = f"stages[{i}]"
        if not isinstance(node, dict):
            issues.add(path, "expected a mapping with data / lr / max_steps / ...")
            continue
        for key in node:
            if key not in STAGE_KEYS:
                issues.add(f"{path}.{key}", f"unknown stage key; valid: {', '.join(STAGE_KEYS)}")
        data_node = node.get("data") or {}
        if "name" in data_node:  # like `data=<name>`: its option's loader keys over the top level's
            data_node = {**{k: v for k, v in top_data.items() if k in LOADER_KEYS},
                         **option_loader_keys(str(data_node["name"])), **data_node}
        else:
            data_node = _merge(top_data, data_node)
        data, settings = data_parts(data_node, f"{path}.data", issues)
        stage = Stage(i, str(node.get("name", f"stage{i}")), data, settings, top.loss_mask, top.scheduler,
                      node.get("lr"), node.get("max_steps"), node.get("max_epochs"))
        for key, kind in (("loss_mask", "loss_masker"), ("scheduler", "scheduler")):
            if node.get(key) is not None:
                setattr(stage, key, issues.build(kind, node[key], f"{path}.{key}"))
        for key, tp in (("lr", float), ("max_steps", int), ("max_epochs", int)):
            value = node.get(key)
            if value is not None and not _positive(value, tp):
                issues.add(f"{path}.{key}", f"expected a positive {tp.__name__}, got {value!r}")
        stages.append(stage)
    return stages
