"""Writing run artefacts atomically: a temp file beside the target, fsync, rename."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def is_main_process() -> bool:
    """Rank 0 of the job: the process that writes artefacts (a distributed launcher sets these variables)."""
    return all(int(os.environ.get(k) or 0) == 0 for k in ("RANK", "LOCAL_RANK", "NODE_RANK"))


def write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` atomically; a full disk or a permission problem is one clear error, and the temporary
    file is removed whatever goes wrong. Only rank 0 of a distributed run writes."""
    path = Path(path)
    if not is_main_process():
        return path
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        from tuneforge.errors import TuneforgeError

        raise TuneforgeError(f"cannot write {path}: {err.strerror or err}"
                             + (" (disk full)" if err.errno == 28 else "")) from None
    except BaseException:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    """Write `text` (UTF-8) atomically, as `write_bytes` does."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def redacted(cfg: Any, resolve: bool = True) -> Any:
    """The resolved config as plain containers, with every value that came from an environment variable
    (`${oc.env:...}`) or sits under a secret-named key replaced by a marker, and key-shaped values and URL
    passwords inside strings redacted (tuneforge/secrets.py says what counts). With `resolve=False`,
    interpolations stay as written (Hydra's own records: `${now:...}`, `${oc.env:...}`)."""
    from tuneforge.secrets import MARK, is_secret_key, redact_value

    from omegaconf import OmegaConf

    raw = OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
    resolved = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True) if resolve else raw

    def walk(raw_node: Any, node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: walk(raw_node.get(k) if isinstance(raw_node, dict) else None, v, str(k))
                    for k, v in node.items()}
        if isinstance(node, list):
            raws = raw_node if isinstance(raw_node, list) else [None] * len(node)
            return [walk(r, v, key) for r, v in zip(raws, node)]
        if isinstance(raw_node, str) and "${oc.env:" in raw_node:  # names the variable, never its value
            return f"<redacted: {raw_node}>" if resolve else raw_node
        if node not in (None, "") and is_secret_key(key):
            return MARK
        return redact_value(node) if isinstance(node, str) else node

    return walk(raw, resolved)


#: Keys whose relative values are recorded as absolute paths (when they name something that exists).
PATH_KEYS = ("path", "dir", "name_or_path", "adapter", "run", "file")


def recorded(cfg: Any) -> Any:
    """The config as a run records it: resolved, secrets redacted (see `redacted`), and relative paths that
    exist made absolute, so that `eval run=`, a resume or a copy of the run directory started elsewhere
    reads the same files (never another file with the same relative name)."""
    def walk(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: walk(v, str(k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        if isinstance(node, str) and node and key.rsplit("_", 1)[-1] in PATH_KEYS \
                and not os.path.isabs(node) and "://" not in node and os.path.exists(node):
            return os.path.abspath(node)
        return node

    return walk(redacted(cfg))


def write_resolved_config(cfg: Any, path: Path) -> Path:
    """The config as the run records it (see `recorded`)."""
    import yaml

    return write_text(path, yaml.safe_dump(recorded(cfg), sort_keys=False, allow_unicode=True))


class RunLock:
    """An exclusive lock on a run directory for one process (train, generate, eval): a second process is
    refused with one line naming the holder, instead of both writing the same checkpoints, config and
    records. An OS file lock (flock), so a killed holder never leaves a stale lock behind."""

    FILE = ".tuneforge.lock"

    def __init__(self, run_dir: Path, command: str):
        self.path, self.command, self.fd = Path(run_dir) / self.FILE, command, None

    def __enter__(self) -> RunLock:
        import fcntl
        import socket
        import time

        from tuneforge.errors import TuneforgeError

        if not is_main_process():  # the ranks of one distributed job share their run directory
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            raise TuneforgeError(f"cannot write to the run directory {self.path.parent}: "
                                 f"{err.strerror or err}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 4096, 0).decode(errors="replace").strip() or "another process"
            os.close(self.fd)
            self.fd = None
            raise TuneforgeError(f"the run directory {self.path.parent} is in use by {holder}; wait for it to "
                                 "finish or choose another hydra.run.dir") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"tuneforge {self.command} (pid {os.getpid()} on {socket.gethostname()}, "
                           f"since {time.strftime('%Y-%m-%d %H:%M:%S')})".encode(), 0)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.fd is not None:
            os.close(self.fd)  # releases the lock; the file stays (removing it would race a new holder)
            self.fd = None
