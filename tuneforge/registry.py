"""The component registry: kinds, `@register(kind, name)`, lookup, and discovery of the built-ins and
of installed plugins.

A plugin is a package that declares an entry point in the group `tuneforge.plugins`, naming a module.
Importing that module registers its components (attributed to the plugin's distribution); its
optional `CONFIG_DIR` (a `pkg://module.path` or a filesystem path) holds config groups that join
tuneforge's own (tuneforge/config/app.py adds them to Hydra's search path). A plugin that fails to
import is reported, never fatal. Binding a config node to a component's signature is binding.py's.
"""
from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import inspect
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

from tuneforge.errors import DuplicateComponentError, UnknownComponentError

#: The closed list of component kinds; extend it only with a reason.
KINDS: tuple[str, ...] = (
    "data_builder", "pipeline", "llm", "evolution_op", "filter", "mixer",
    "template", "loss_masker", "peft", "scheduler", "metric", "model",
)
#: The config group (and tuneforge subpackage) of each kind, where the names differ.
GROUP_OF_KIND: dict[str, str] = {k: k for k in KINDS} | {
    "data_builder": "data", "loss_masker": "loss_mask", "filter": "filters",
    "evolution_op": "evolution", "metric": "metrics",
}
BUILTIN_PROVIDER = "tuneforge"
PLUGIN_GROUP = "tuneforge.plugins"  # the entry-point group that names a plugin's module


@dataclass
class Entry:
    kind: str
    name: str
    obj: Callable[..., Any]
    provider: str
    description: str

    @property
    def signature(self) -> inspect.Signature:
        return inspect.signature(self.obj)


@dataclass(frozen=True)
class LoadedPlugin:
    name: str  # entry point name
    provider: str  # distribution name
    module: str
    config_dir: str | None


@dataclass
class _State:
    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)
    provider: str = BUILTIN_PROVIDER
    loaded: bool = False
    failed_plugins: dict[str, str] = field(default_factory=dict)  # plugin -> error
    plugins: list[LoadedPlugin] = field(default_factory=list)


_state = _State()


def register(kind: str, name: str, *, description: str | None = None):
    """Class/function decorator adding a component under `kind` and `name`."""
    if kind not in KINDS:
        raise ValueError(f"unknown component kind {kind!r}; kinds: {', '.join(KINDS)}")

    def decorate(obj):
        key = (kind, name)
        provider = _state.provider
        if key in _state.entries and _state.entries[key].obj is not obj:
            other = _state.entries[key]
            raise DuplicateComponentError(
                f"{kind} {name!r} is registered twice: by {other.provider} "
                f"({other.obj.__module__}.{other.obj.__qualname__}) and by {provider} "
                f"({obj.__module__}.{obj.__qualname__})")
        paragraph = (inspect.getdoc(obj) or "").strip().split("\n\n")[0]
        text = description or " ".join(paragraph.split())
        _state.entries[key] = Entry(kind, name, obj, provider, text)
        return obj

    return decorate


def config_factory(*places: str):
    """Function decorator: a factory that configs may name in `_target_` under `places` (e.g. "logger",
    "callbacks"); tuneforge/config/targets.py refuses any other function."""
    def decorate(fn):
        fn.__tuneforge_config_factory__ = tuple(places)
        return fn

    return decorate


def config_factories(obj: Any) -> tuple[str, ...]:
    """The places where `obj` may be a `_target_` (empty unless it was decorated with config_factory)."""
    return tuple(getattr(obj, "__tuneforge_config_factory__", ()))


class provider_scope:
    """Context manager: components registered inside are attributed to `provider`."""

    def __init__(self, provider: str):
        self.provider, self.previous = provider, None

    def __enter__(self):
        self.previous, _state.provider = _state.provider, self.provider

    def __exit__(self, *exc):
        _state.provider = self.previous


def load_all() -> None:
    """Import every built-in component module, then the installed plugins (once)."""
    if _state.loaded:
        return
    _state.loaded = True
    for kind in KINDS:
        pkg_name = f"tuneforge.{GROUP_OF_KIND[kind]}"
        try:
            pkg = importlib.import_module(pkg_name)
        except ModuleNotFoundError:
            continue
        for mod in pkgutil.iter_modules(pkg.__path__):
            if not mod.name.startswith("_") and mod.name != "base":
                importlib.import_module(f"{pkg_name}.{mod.name}")
    _load_plugins()


def _load_plugins() -> None:
    """Import every installed plugin; a failure is recorded (shown by `ls` and unknown-name errors)."""
    for ep in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        dist = getattr(ep, "dist", None)
        provider = dist.metadata["Name"] if dist is not None else ep.name
        try:
            with provider_scope(provider):
                module = ep.load()
        except Exception as err:  # a broken plugin must not break tuneforge; it is reported
            _state.failed_plugins[f"{ep.name} ({provider})"] = f"{type(err).__name__}: {err}"
            continue
        _state.plugins.append(LoadedPlugin(ep.name, provider, ep.value, getattr(module, "CONFIG_DIR", None)))


def loaded_plugins() -> list[LoadedPlugin]:
    load_all()
    return list(_state.plugins)


def entries(kind: str | None = None) -> list[Entry]:
    load_all()
    found = [e for e in _state.entries.values() if kind is None or e.kind == kind]
    return sorted(found, key=lambda e: (KINDS.index(e.kind), e.name))


def get(kind: str, name: str) -> Entry:
    load_all()
    if kind not in KINDS:
        raise UnknownComponentError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    entry = _state.entries.get((kind, name))
    if entry is not None:
        return entry
    known = sorted(n for k, n in _state.entries if k == kind)
    close = difflib.get_close_matches(str(name), known, n=1)
    msg = f"unknown {kind} {name!r}."
    if close:
        msg += f" Did you mean {close[0]!r}?"
    msg += f" Known {kind} names: {', '.join(known) or '(none)'}."
    if _state.failed_plugins:
        failed = "; ".join(f"{p}: {e}" for p, e in _state.failed_plugins.items())
        msg += f" Plugins that failed to load: {failed}."
    raise UnknownComponentError(msg)


def failed_plugins() -> dict[str, str]:
    load_all()
    return dict(_state.failed_plugins)
