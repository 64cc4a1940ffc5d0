"""The component registry: `@register(kind, name)` and building components from config.

A component is a class (or function) whose keyword arguments, with their type hints, are its config
schema. Config nodes select a component by `name`; the other keys are bound to the signature, checked
(unknown keys, missing keys, wrong types) and reported with their config path before anything is built.
"""
from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from .errors import ConfigError, ConfigIssue, DuplicateComponentError, UnknownComponentError

#: The closed list of component kinds (DESIGN.md); extend it only with a reason.
KINDS: tuple[str, ...] = (
    "data_builder", "pipeline", "llm", "evolution_op", "filter", "mixer",
    "loss_masker", "peft", "scheduler", "metric", "model",
)
#: The config group (and tuneforge subpackage) of each kind, where the names differ.
GROUP_OF_KIND: dict[str, str] = {k: k for k in KINDS} | {
    "data_builder": "data", "loss_masker": "loss_mask", "filter": "filters",
    "evolution_op": "evolution", "metric": "metrics",
}
BUILTIN_PROVIDER = "tuneforge"


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


@dataclass
class _State:
    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)
    provider: str = BUILTIN_PROVIDER
    loaded: bool = False
    failed_plugins: dict[str, str] = field(default_factory=dict)  # plugin -> error


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
    from . import plugins

    plugins.load_plugins(_state.failed_plugins)


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


# ----------------------------------------------------------------------------- binding

def _hints(obj: Callable) -> dict[str, Any]:
    """Type hints of a component's config arguments; unresolvable ones (e.g. torch types imported
    only under TYPE_CHECKING) count as Any."""
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        return typing.get_type_hints(target)
    except Exception:
        pass
    globalns = getattr(inspect.unwrap(target), "__globals__", {})
    hints = {}
    for name, ann in getattr(target, "__annotations__", {}).items():
        try:
            hints[name] = eval(ann, globalns) if isinstance(ann, str) else ann  # noqa: S307 (own code)
        except Exception:
            hints[name] = Any
    return hints


def type_name(tp: Any) -> str:
    """`int`, `list[str] | None`, `Literal['truncate', 'drop']`: how a type hint reads in an error."""
    if typing.get_args(tp):
        return str(tp).replace("typing.", "")
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def check_type(value: Any, tp: Any) -> bool:
    """Whether a plain (resolved, container) config value fits the type hint `tp`."""
    if tp is Any or tp is inspect.Parameter.empty:
        return True
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return any(check_type(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    if origin in (list, tuple, typing.Sequence) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        inner = args[0] if args and (origin is not tuple or len(args) == 2 and args[1] is ...) else Any
        if origin is tuple and args and args[-1] is not ...:
            return len(value) == len(args) and all(check_type(v, a) for v, a in zip(value, args))
        return all(check_type(v, inner) for v in value)
    if origin in (dict, typing.Mapping) or tp is dict:
        return isinstance(value, dict)
    return True  # types we do not check (objects built elsewhere)


@dataclass
class Bound:
    """A component with its checked keyword arguments, ready to build."""

    entry: Entry
    kwargs: dict[str, Any]
    path: str

    def build(self, **objects: Any) -> Any:
        return self.entry.obj(**self.kwargs, **objects)


def bind(kind: str, node: Mapping[str, Any] | Any, path: str, *, objects: Iterable[str] = ()) -> Bound:
    """Check config `node` (selecting a `kind` component by its `name`) against the signature.

    `objects` names constructor arguments that are passed built objects rather than config.
    Raises ConfigError listing every problem with its dotted config path.
    """
    node = _to_plain(node)
    if not isinstance(node, dict) or "name" not in node:
        raise ConfigError(ConfigIssue(path, f"expected a config with a `name` selecting a {kind}"))
    try:
        entry = get(kind, node["name"])
    except UnknownComponentError as err:
        raise ConfigError(ConfigIssue(f"{path}.name", str(err))) from None
    params = entry.signature.parameters
    hints = _hints(entry.obj)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    names = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    config_names = [n for n in names if n not in objects]
    issues, kwargs = [], {}
    for key, value in node.items():
        if key in ("name", "_target_"):
            continue
        if key not in names:
            if accepts_any:
                kwargs[key] = value
                continue
            close = difflib.get_close_matches(key, config_names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            issues.append(ConfigIssue(f"{path}.{key}", f"unknown key for {kind} {entry.name!r}.{hint} "
                                                      f"Valid keys: {', '.join(config_names) or '(none)'}"))
            continue
        tp = hints.get(key, Any)
        if not check_type(value, tp):
            issues.append(ConfigIssue(f"{path}.{key}", f"expected {type_name(tp)}, got {value!r} "
                                                      f"({type(value).__name__})"))
            continue
        kwargs[key] = value
    for n in config_names:
        p = params[n]
        if p.default is p.empty and n not in kwargs and not any(i.path == f"{path}.{n}" for i in issues):
            issues.append(ConfigIssue(f"{path}.{n}", f"missing required key for {kind} {entry.name!r} "
                                                    f"(expected {type_name(hints.get(n, Any))})"))
    if issues:
        raise ConfigError(issues)
    return Bound(entry, kwargs, path)


def build(kind: str, node: Any, path: str, **objects: Any) -> Any:
    """Bind `node` and build the component, passing `objects` as extra keyword arguments."""
    return bind(kind, node, path, objects=objects).build(**objects)


def _to_plain(node: Any) -> Any:
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf
    except ImportError:  # pragma: no cover
        return node
    if isinstance(node, (DictConfig, ListConfig)):
        return OmegaConf.to_container(node, resolve=True)
    return node
