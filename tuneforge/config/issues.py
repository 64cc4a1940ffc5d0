"""Collecting every problem of a config before reporting, and the checks that every `data` node shares
(the builder and its loader settings; a key that moved out of it)."""
from __future__ import annotations

import re
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

    def bound(self, kind: str, node: Any, path: str, objects: tuple[str, ...]) -> Any:
        """The checked Bound of a component built later with `objects` (a template: with the tokenizer), or
        None (its problems recorded)."""
        if not isinstance(node, dict):
            self.add(path, f"missing: select a {kind} ({path}=...)")
            return None
        node = {k: v for k, v in node.items() if v != "???"}  # a required key left out: reported as missing
        try:
            return bind(kind, node, path, objects=objects)
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


#: Keys that left the `data` node -> where they went. An old command line, recipe or run directory gets the fix
#: in one line instead of Hydra's "not in struct" or an unknown builder key.
MOVED_KEYS = {"data.template": "template"}


def moved_key(key: str, value: Any) -> str | None:
    """The one-line fix for the override `key=value` when `key` moved (`data.template=alpaca` -> `template=alpaca`);
    None when it did not."""
    new = MOVED_KEYS.get(key.lstrip("+~"))
    if new is None:
        return None
    return f"{key.lstrip('+~')} moved: the prompt template is a config group of its own now: {new}={value}"


def data_parts(node: dict[str, Any], path: str, issues: Issues) -> tuple[Any, LoaderSettings]:
    """(data builder, loader settings) of a `data` node."""
    if "template" in node:  # the pre-renovation spelling (a stage's, a recipe's, a run directory's)
        value = node["template"]
        node = {k: v for k, v in node.items() if k != "template"}
        fix = f"template={value}" if path == "data" else f"template: {{name: {value}}} beside the stage's data"
        issues.add(f"{path}.template", f"moved: the prompt template is a config group of its own now: {fix}")
    loader = issues.settings(LoaderSettings, {k: v for k, v in node.items() if k in LOADER_KEYS}, path) \
        or LoaderSettings()
    builder = issues.build("data_builder", {k: v for k, v in node.items() if k not in LOADER_KEYS}, path)
    return builder, loader


#: The data options that read records, by what the records hold (the fix named when a data key is given alone).
DATA_OPTIONS = ("data=alpaca (instruction / input / output records), data=dialogue (messages or ShareGPT "
                "conversations), data=nlp_task (labelled rows), data=pretrain_text (raw text)")


def missing_data_option(key: str, value: str) -> str:
    """The one-line fix for `data.path=x.json` (or another data key) given while the selected data option has no
    such key, typically the built-in `rules` data: Hydra would say "Key 'path' is not in struct"."""
    example = "dialogue" if re.search(r"chat|dialog|conversation|messages", value, re.I) else "alpaca"
    return (f"{key}={value}: the selected data option has no key {key.split('.', 1)[1]!r} (the default "
            f"data=rules and data=json_extract are built in and read no file); choose the format of your records first: {DATA_OPTIONS}, "
            f"e.g. data={example} {key}={value}")
