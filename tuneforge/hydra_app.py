"""Hydra glue: the search path (plugins' config dirs), running a primary config as an app, composing.

`train`, `preview`, ... are Hydra apps over `conf/<command>.yaml`; `-m`, `--cfg job`, `--help` and
`hydra.run.dir=...` work as in any Hydra app.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

from .paths import CONF_DIR

_registered = False


def register_search_path() -> None:
    """Register (once) the SearchPathPlugin that adds every plugin's config directory."""
    global _registered
    if _registered:
        return
    from hydra.core.plugins import Plugins
    from hydra.plugins.search_path_plugin import SearchPathPlugin

    from . import plugins

    class TuneforgePluginSearchPath(SearchPathPlugin):
        def manipulate_search_path(self, search_path) -> None:  # noqa: ANN001 (hydra's type)
            for provider, path in plugins.config_dirs():
                search_path.append(provider=f"tuneforge-plugin:{provider}", path=path)

    Plugins.instance().register(TuneforgePluginSearchPath)
    _registered = True


def run_app(command: str, task: Callable[[Any], Any], argv: list[str]) -> None:
    """Run `task` as the Hydra app over `conf/<command>.yaml` with command-line `argv`."""
    import hydra

    register_search_path()
    if not (CONF_DIR / f"{command}.yaml").exists():
        raise SystemExit(f"tuneforge: no config {CONF_DIR / (command + '.yaml')}")
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
