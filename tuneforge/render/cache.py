"""Prepared data cached by content hash: a second run with the same inputs loads it instead of preparing.

The key hashes everything the prepared data depends on: the data builder's settings with the size and
modification time of every file or directory they name (a `Path`, or the string of a key `path`, `file`,
`dir`, `*_path`, `*_file`, `*_dir` or their plurals; other strings are values, never looked up: a builder
naming files under another key describes itself with `cache_fingerprint()`), the tokenizer (its whole
`tokenizer.json` and special tokens), the template, the loss masker, `max_length` and `truncation`, the
tuneforge version and the size and modification time of the code that prepares (the modules of tuneforge's
data, template, loss-mask, mixer and render packages, and of every class involved, plugins' included). Any
change of these is a new key. Inputs it cannot describe reliably (an object with hidden state such as a random
generator, a `path` that names no file, e.g. a hub dataset id) disable the cache for that run.

Entries are `<cache dir>/<key>.pkl`, written to a temporary file beside the target, flushed to disk and
renamed: a reader sees a whole entry or none, and two runs preparing the same data at once both succeed
(the last rename wins, with identical contents). An unreadable entry is prepared again and replaced.
Only data of at least `MIN_RECORDS` records are stored (smaller data prepare in about a second).
Default directory: `$TUNEFORGE_DATA_CACHE`, else `$TUNEFORGE_CACHE/data`, else
`$XDG_CACHE_HOME/tuneforge/data` (`~/.cache/tuneforge/data`); `data.cache_dir` overrides it, `data.cache=false`
turns the cache off. Nothing is evicted: delete the directory to reclaim its space.
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import logging
import os
import pickle
import random
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("tuneforge.data")

MIN_RECORDS = 5000
FORMAT = 1  # bumped when the entry layout changes
CODE_PACKAGES = ("data", "template", "loss_mask", "mixer", "render")


class Undescribable(Exception):
    """An input the key cannot capture: no caching for this run."""


def cache_dir(setting: str | None = None) -> Path:
    """Where entries live: `data.cache_dir`, else the environment's default (module docstring)."""
    if setting:
        return Path(setting).expanduser()
    if os.environ.get("TUNEFORGE_DATA_CACHE"):
        return Path(os.environ["TUNEFORGE_DATA_CACHE"]).expanduser()
    if os.environ.get("TUNEFORGE_CACHE"):
        return Path(os.environ["TUNEFORGE_CACHE"]).expanduser() / "data"
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "tuneforge" / "data"


def _stat(path: Path) -> list[Any]:
    """Size and modification time of a file, or of every file under a directory."""
    if path.is_dir():
        return [[str(p.relative_to(path)), *_stat(p)] for p in sorted(path.rglob("*")) if p.is_file()]
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _path_like(key: str) -> bool:
    """A key that names files: `path`, `file`, `dir` (and their plurals), or one ending in `_path`, `_file`,
    `_dir` (`val_path`, `data_files`)."""
    key = key.removesuffix("s")
    return key in ("path", "file", "dir") or key.endswith(("_path", "_file", "_dir"))


class _Describer:
    """A JSON-able description of an object graph; records the modules of the classes met (their code is
    part of the key). An object may describe itself with `cache_fingerprint()` (None: not cacheable)."""

    def __init__(self) -> None:
        self.modules: set[str] = set()

    def __call__(self, obj: Any, key: str = "", depth: int = 0) -> Any:
        if depth > 24:
            raise Undescribable("nested too deep")
        if obj is None or isinstance(obj, (bool, int, float)):
            return obj
        if isinstance(obj, (str, Path)):
            return self._string(str(obj), key, isinstance(obj, Path))
        if isinstance(obj, (list, tuple)):
            return [self(v, key, depth + 1) for v in obj]
        if isinstance(obj, (set, frozenset)):
            return sorted(json.dumps(self(v, key, depth + 1), sort_keys=True) for v in obj)
        if isinstance(obj, dict):
            return {str(k): self(v, str(k), depth + 1) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
        if inspect.isclass(obj) or inspect.isroutine(obj):  # by name (its module's code is fingerprinted)
            name = f"{obj.__module__}.{obj.__qualname__}"
            if "<" in name:  # a lambda or a local function: its closure is state we cannot see
                raise Undescribable(f"{name} in {key or 'the inputs'}")
            self.modules.add(obj.__module__)
            return {"ref": name}
        if isinstance(obj, random.Random):
            raise Undescribable(f"a random generator in {key or 'the inputs'}")
        own = getattr(obj, "cache_fingerprint", None)
        self.modules.add(type(obj).__module__)
        name = f"{type(obj).__module__}.{type(obj).__qualname__}"
        if callable(own):
            value = own()
            if value is None:
                raise Undescribable(f"{name} opts out")
            return {"type": name, "fingerprint": self(value, key, depth + 1)}
        if dataclasses.is_dataclass(obj):
            state = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}
        elif hasattr(obj, "__dict__"):
            state = {k: v for k, v in vars(obj).items() if k != "report"}  # a builder's reject log: a result
        else:
            raise Undescribable(f"{name} in {key or 'the inputs'}")
        return {"type": name, "state": self(state, key, depth + 1)}

    @staticmethod
    def _string(value: str, key: str, is_path: bool = False) -> Any:
        """A Path, or the string of a path-like key (`_path_like`), as the stat of what it names; any other
        string as itself (a value such as "." under another key is never walked)."""
        if not value or "\n" in value or len(value) > 4096 or not (is_path or _path_like(key)):
            return value
        path = Path(value).expanduser()
        try:
            exists = path.exists()
        except OSError:
            exists = False
        if exists:
            return {"path": str(path.resolve()), "stat": _stat(path)}
        if value != "???":
            raise Undescribable(f"{key}={value!r} names no file (a hub id or a missing file)")
        return value


def tokenizer_fingerprint(tokenizer: Any) -> dict[str, Any]:
    """The tokenizer's full definition (fast tokenizers: `tokenizer.json`), special tokens and settings."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise Undescribable(f"{type(tokenizer).__name__} is not a fast tokenizer")
    import tokenizers
    import transformers

    return {"class": f"{type(tokenizer).__module__}.{type(tokenizer).__qualname__}",
            "versions": [tokenizers.__version__, transformers.__version__],
            "backend": hashlib.sha256(backend.to_str().encode()).hexdigest(),
            "special": {k: str(v) for k, v in sorted(tokenizer.special_tokens_map.items())},
            "bos": tokenizer.bos_token, "eos": tokenizer.eos_token,
            "split_special_tokens": bool(getattr(tokenizer, "split_special_tokens", False)),
            "chat_template": getattr(tokenizer, "chat_template", None)}


def _code_fingerprint(modules: set[str]) -> list[Any]:
    import tuneforge

    root = Path(tuneforge.__file__).parent
    files = {p for package in CODE_PACKAGES for p in (root / package).glob("*.py")}
    files |= {root / "errors.py", root / "registry.py", root / "binding.py"}
    for name in modules:
        source = getattr(sys.modules.get(name), "__file__", None)
        if source:
            files.add(Path(source))
    return [[str(p), *_stat(p)] for p in sorted(files) if p.is_file()]


def cache_key(builder: Any, tokenizer: Any, template: Any, masker: Any, settings: Any) -> str | None:
    """The entry name for these inputs, or None (logged) when one of them cannot be described."""
    import tuneforge

    describe = _Describer()
    try:
        inputs = {"format": FORMAT, "version": tuneforge.__version__, "builder": describe(builder),
                  "tokenizer": tokenizer_fingerprint(tokenizer), "template": describe(template),
                  "masker": describe(masker), "max_length": settings.max_length,
                  "truncation": settings.truncation}
    except Undescribable as why:
        log.info("data cache: not used (%s)", why)
        return None
    inputs["code"] = _code_fingerprint(describe.modules)
    text = json.dumps(inputs, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def load(directory: Path, key: str) -> Any | None:
    """The stored value of `key`, or None (missing, or unreadable: it will be prepared and replaced)."""
    path = directory / f"{key}.pkl"
    try:
        with path.open("rb") as f:
            stored_key, value = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as err:  # noqa: BLE001 (a damaged or foreign file, whatever the error: prepare again)
        log.warning("data cache: ignoring unreadable entry %s (%s); preparing again", path, err)
        return None
    return value if stored_key == key else None


def store(directory: Path, key: str, value: Any) -> Path | None:
    """Write an entry atomically (artifacts.write_bytes: temporary file beside it, fsync, rename); any failure
    (a value that cannot be pickled, a full disk) only warns, and leaves no temporary file."""
    from tuneforge.artifacts import write_bytes

    path = directory / f"{key}.pkl"
    try:
        write_bytes(path, pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))
    except Exception as err:  # noqa: BLE001 (the cache is an optimisation: the run goes on without it)
        log.warning("data cache: could not write %s (%s); the run goes on without it", path, err)
        return None
    return path


ENCODED_FIELDS = ("input_ids", "labels", "truncated", "length", "cut")


def pack_encoded(items: list[Any]) -> dict[str, Any]:
    """Encoded examples as flat numpy arrays (compact, and fast to pickle and load)."""
    from itertools import chain

    import numpy as np

    if items and tuple(f.name for f in dataclasses.fields(items[0])) != ENCODED_FIELDS:
        raise Undescribable(f"Encoded has fields {[f.name for f in dataclasses.fields(items[0])]}")
    lengths = np.fromiter((len(e.input_ids) for e in items), dtype=np.int64, count=len(items))
    total = int(lengths.sum())
    return {"lengths": lengths,
            "input_ids": np.fromiter(chain.from_iterable(e.input_ids for e in items), dtype=np.int32, count=total),
            "labels": np.fromiter(chain.from_iterable(e.labels for e in items), dtype=np.int32, count=total),
            "truncated": np.fromiter((e.truncated for e in items), dtype=bool, count=len(items)),
            "length": np.fromiter((e.length for e in items), dtype=np.int64, count=len(items)),
            "cut": np.fromiter((e.cut for e in items), dtype=bool, count=len(items))}


def unpack_encoded(packed: dict[str, Any]) -> list[Any]:
    from itertools import accumulate

    from tuneforge.render.encode import Encoded

    ids, labels = packed["input_ids"].tolist(), packed["labels"].tolist()
    ends = list(accumulate(packed["lengths"].tolist()))
    return [Encoded(ids[end - n:end], labels[end - n:end], truncated, length, cut)
            for end, n, truncated, length, cut in zip(ends, packed["lengths"].tolist(), packed["truncated"].tolist(),
                                                      packed["length"].tolist(), packed["cut"].tolist())]
