"""The `_target_` allow-list: only these module prefixes (and active plugins' modules) are built."""
from __future__ import annotations

from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue

ALLOWED_PREFIXES = ("torch.", "lightning.", "transformers.", "tuneforge.")


def allowed_prefixes() -> tuple[str, ...]:
    from tuneforge.registry import loaded_plugins

    return ALLOWED_PREFIXES + tuple(p.module.split(":")[0].split(".")[0] + "." for p in loaded_plugins())


def check_targets(node: Any, path: str = "") -> None:
    """Raise ConfigError for every `_target_` under `node` outside the allow-list."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(node, (DictConfig, ListConfig)):
        node = OmegaConf.to_container(node, resolve=False)
    prefixes, issues = allowed_prefixes(), []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            target = value.get("_target_")
            if isinstance(target, str) and not target.startswith(prefixes):
                issues.append(ConfigIssue(f"{where}._target_".lstrip("."),
                                          f"{target!r} is not allowed; _target_ must start with one "
                                          f"of {', '.join(prefixes)}"))
            for k, v in value.items():
                walk(v, f"{where}.{k}" if where else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")

    walk(node, path)
    if issues:
        raise ConfigError(issues)
