"""Third-party plugins: packages that declare an entry point in the group `tuneforge.plugins`.

The entry point names a module. Importing it registers its components (attributed to the plugin's
distribution); its optional `CONFIG_DIR` (a `pkg://module.path` or a filesystem path) holds config
groups that join tuneforge's own through a Hydra SearchPathPlugin registered explicitly, because
Hydra 1.3 does not discover `hydra_plugins` namespace packages under an editable install.
"""
from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass

from .registry import provider_scope

GROUP = "tuneforge.plugins"


@dataclass(frozen=True)
class LoadedPlugin:
    name: str  # entry point name
    provider: str  # distribution name
    module: str
    config_dir: str | None


_loaded: list[LoadedPlugin] = []


def _distribution_name(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.metadata["Name"] if dist is not None else ep.name


def load_plugins(failed: dict[str, str]) -> list[LoadedPlugin]:
    """Import every installed plugin once; failures are recorded in `failed`, not raised."""
    if _loaded:
        return _loaded
    for ep in importlib.metadata.entry_points(group=GROUP):
        provider = _distribution_name(ep)
        try:
            with provider_scope(provider):
                module = ep.load()
        except Exception as err:  # a broken plugin must not break tuneforge; it is reported
            failed[f"{ep.name} ({provider})"] = f"{type(err).__name__}: {err}"
            continue
        _loaded.append(LoadedPlugin(ep.name, provider, ep.value, getattr(module, "CONFIG_DIR", None)))
    return _loaded


def loaded_plugins() -> list[LoadedPlugin]:
    from .registry import load_all

    load_all()
    return list(_loaded)


def config_dirs() -> list[tuple[str, str]]:
    """(provider, search-path entry) of each loaded plugin that ships configs."""
    dirs = []
    for plugin in loaded_plugins():
        if plugin.config_dir:
            path = plugin.config_dir
            if "://" not in path:
                path = f"file://{path}"
            dirs.append((plugin.provider, path))
    return dirs
