"""Binding a config node to a component's signature, before anything is built.

A component is a class (or function) whose keyword arguments, with their type hints, are its config
schema. Config nodes select a component by `name`; the other keys are bound to the signature, checked
(unknown keys, missing keys, wrong types) and reported with their config path before anything is built.
"""
from __future__ import annotations

import difflib
import inspect
import typing
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from tuneforge.errors import ConfigError, ConfigIssue, UnknownComponentError
from tuneforge.registry import Entry, get


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


def check_arguments(obj: Callable, node: Mapping[str, Any], path: str, what: str,
                    objects: Iterable[str] = ()) -> dict[str, Any]:
    """The keyword arguments of `obj` that config `node` gives, each checked against the signature:
    unknown keys (with a did-you-mean), wrong types, missing required keys. `objects` names arguments
    passed built objects rather than config; `what` names the thing in messages ("peft 'lora'").
    Raises ConfigError listing every problem with its dotted config path."""
    params = inspect.signature(obj).parameters
    hints = _hints(obj)
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
            close = difflib.get_close_matches(str(key), config_names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            issues.append(ConfigIssue(f"{path}.{key}", f"unknown key for {what}.{hint} "
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
            issues.append(ConfigIssue(f"{path}.{n}", f"missing required key for {what} "
                                                    f"(expected {type_name(hints.get(n, Any))})"))
    if issues:
        raise ConfigError(issues)
    return kwargs


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
    return Bound(entry, check_arguments(entry.obj, node, path, f"{kind} {entry.name!r}", objects), path)


def bind_settings(cls: Callable, node: Mapping[str, Any] | Any, path: str) -> Any:
    """A settings object (a dataclass such as LoaderSettings) from config `node`, checked like a component."""
    node = _to_plain(node)
    if not isinstance(node, dict):
        raise ConfigError(ConfigIssue(path, f"expected a mapping of {cls.__name__} keys, got {node!r}"))
    return cls(**check_arguments(cls, node, path, path))


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
