"""Collecting every problem of a config before reporting, and the checks that every `data` node shares
(the builder and its loader settings)."""
from __future__ import annotations

from typing import Any

from tuneforge.binding import bind, bind_settings
from tuneforge.data.base import LOADER_KEYS, LoaderSettings
from tuneforge.errors import ConfigError, ConfigIssue


class Issues:
    """Collects every problem of a config; `raise_if_any` reports them all at once."""

    def __init__(self) -> None:
        self.items: list[ConfigIssue] = []

    def build(self, kind: str, node: Any, path: str) -> Any:
        """The component `node` selects, or None (its problems recorded; a missing node is one)."""
        if not isinstance(node, dict):
            self.add(path, f"missing: select a {kind} ({path}=...)")
            return None
        try:
            return bind(kind, node, path).build()
        except ConfigError as err:
            self.items += err.issues
            return None

    def settings(self, cls: Any, node: Any, path: str) -> Any:
        """A settings dataclass from `node`, or None (its problems recorded)."""
        try:
            return bind_settings(cls, node, path)
        except ConfigError as err:
            self.items += err.issues
            return None

    def add(self, path: str, message: str) -> None:
        self.items.append(ConfigIssue(path, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def data_parts(node: dict[str, Any], path: str, issues: Issues) -> tuple[Any, LoaderSettings]:
    """(data builder, loader settings) of a `data` node."""
    loader = issues.settings(LoaderSettings, {k: v for k, v in node.items() if k in LOADER_KEYS}, path) \
        or LoaderSettings()
    builder = issues.build("data_builder", {k: v for k, v in node.items() if k not in LOADER_KEYS}, path)
    return builder, loader
