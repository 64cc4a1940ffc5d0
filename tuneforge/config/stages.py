"""Stage planning: a run's `stages:` list (multi-stage instruction tuning) as checked Stage objects.

Each stage may set its own `data`, `template`, `loss_mask` and `scheduler`, `lr`, and `max_steps` or
`max_epochs`; it starts from the weights the previous stage left. A node with `name` selects an option as
`data=<name>` would: the option composed through Hydra (so plugins' options and aliases such as
`loss_mask=output_only` count), resolved against the run's config, with the stage's own keys over it (for
`data`, over the top-level loader keys too). A `data` node without `name` is merged over the top-level `data`.
A stage's template: its own `template` node, else the one its data option selects (`data: {name: alpaca}`:
alpaca, as `data=alpaca` would), else the run's. Without `stages`, a run is one unprefixed stage over the
top-level config.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from tuneforge.config.issues import Issues, data_parts
from tuneforge.data.base import LOADER_KEYS, LoaderSettings

STAGE_KEYS = ("name", "data", "template", "loss_mask", "scheduler", "lr", "max_steps", "max_epochs")
#: What a template is built with: `stage.template.build(tokenizer=...)`.
TEMPLATE_OBJECTS = ("tokenizer",)


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
    template: Any = None  # a checked Bound: build_template(tokenizer) builds it

    @property
    def prefix(self) -> str:
        return "" if self.index is None else f"stage{self.index}/"

    def build_template(self, tokenizer: Any) -> Any:
        """The stage's prompt template, built with the tokenizer (once per stage: evaluation before, during
        and after training takes the same object)."""
        return self.template.build(tokenizer=tokenizer)


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _resolved(option: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """`option` with interpolations such as `${seed}` resolved against the run's `root` config; a required key
    left out (`???`) is dropped, so that it is reported as missing."""
    from omegaconf import OmegaConf

    scope = OmegaConf.create({**{k: v for k, v in root.items() if k != "stages"}, "_option": option})
    resolved = OmegaConf.to_container(scope, resolve=True)["_option"]
    return {k: v for k, v in resolved.items() if v != "???"}


def option_node(group: str, node: dict[str, Any], root: dict[str, Any],
                composed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stage's `node` over the `<group>=<node.name>` option as Hydra composes it (`composed`: that
    composition, when the caller has it), resolved against the run's `root` config; `node` as it is when
    there is no such option."""
    from tuneforge.config.app import compose_options

    composed = compose_options(group, str(node["name"])) if composed is None else composed
    if composed is None:
        return node
    return {**_resolved(composed[group], root), **{k: v for k, v in node.items() if k != "name"}}


def selected_template(composed: dict[str, Any] | None, root: dict[str, Any]) -> dict[str, Any] | None:
    """The template node a composed data option selects (`override /template@_global_.template: alpaca` in its
    defaults list), or None when it keeps the default one (the stage then takes the run's)."""
    from tuneforge.config.app import BASE_OPTIONS

    node = (composed or {}).get("template")
    if not isinstance(node, dict) or node.get("name") == BASE_OPTIONS["template"]:
        return None
    return _resolved(node, root)


def _positive(value: Any, tp: type) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (tp is int and not isinstance(value, int)):
        return False
    return value > 0


def plan_stages(nodes: list[Any], root: dict[str, Any], top: Stage, issues: Issues) -> list[Stage]:
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
        data_node, top_data, template = node.get("data") or {}, root["data"], None
        if isinstance(data_node, dict) and "name" in data_node:  # like `data=<name>`: over the top loader keys
            from tuneforge.config.app import compose_options

            composed = compose_options("data", str(data_node["name"]))
            data_node = {**{k: v for k, v in top_data.items() if k in LOADER_KEYS},
                         **option_node("data", data_node, root, composed)}
            template = selected_template(composed, root)
        else:
            data_node = _merge(top_data, data_node)
        data, settings = data_parts(data_node, f"{path}.data", issues)
        stage = Stage(i, str(node.get("name", f"stage{i}")), data, settings, top.loss_mask, top.scheduler,
                      node.get("lr"), node.get("max_steps"), node.get("max_epochs"), top.template)
        own = node.get("template")
        if isinstance(own, dict) and "name" in own:
            template = option_node("template", own, root)
        elif own is not None:
            issues.add(f"{path}.template", f"expected {{name: <template>}}, got {own!r}")
        if template is not None:
            stage.template = issues.bound("template", template, f"{path}.template", TEMPLATE_OBJECTS)
        for key, kind in (("loss_mask", "loss_masker"), ("scheduler", "scheduler")):
            sub = node.get(key)
            if isinstance(sub, dict) and "name" in sub:
                sub = option_node(key, sub, root)
            if sub is not None:
                setattr(stage, key, issues.build(kind, sub, f"{path}.{key}"))
        for key, tp in (("lr", float), ("max_steps", int), ("max_epochs", int)):
            value = node.get(key)
            if value is not None and not _positive(value, tp):
                issues.add(f"{path}.{key}", f"expected a positive {tp.__name__}, got {value!r}")
        stages.append(stage)
    return stages
