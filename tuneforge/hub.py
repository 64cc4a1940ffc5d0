"""The Hugging Face Hub as a source (a dataset id for `data.path`, a model id for `model.name_or_path`):
whether a string is a hub id, and a one-line error at once when the hub cannot be reached, instead of
the libraries' retries (about 25 s for a dataset, longer for a model) and their tracebacks.

Offline means HF_HUB_OFFLINE=1 (or HF_DATASETS_OFFLINE / TRANSFORMERS_OFFLINE), or no connection to the
hub's endpoint within PROBE_TIMEOUT_S (not probed behind an HTTP(S) proxy, which the libraries use).
"""
from __future__ import annotations

import os
import re
import socket
import threading
from urllib.parse import urlparse

#: A hub repository id: `name` or `namespace/name` (letters, digits, `-`, `_`, `.`), as huggingface_hub checks it.
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?$")
PROBE_TIMEOUT_S = 3.0
_TRUE = ("1", "on", "yes", "true")
_reachable: dict[str, bool] = {}  # endpoint -> answer, once a process


def looks_like_hub_id(path: str) -> bool:
    """`namespace/name` that is not a local path (no `./`, `~`, `/...`, file extension or backslash)."""
    return ("/" in path and HUB_ID.match(path) is not None and not path.startswith((".", "~"))
            and not re.search(r"\.(jsonl?|ndjson|csv|tsv|parquet|txt|text|arrow|ya?ml)$", path, re.I))


def offline_flag() -> str | None:
    """The environment variable that puts the hub libraries offline, or None."""
    try:
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            return "HF_HUB_OFFLINE=1"
    except ImportError:  # pragma: no cover (a dependency of transformers and datasets)
        pass
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(name, "").strip().lower() in _TRUE:
            return f"{name}=1"
    return None


def endpoint() -> str:
    try:
        from huggingface_hub import constants

        return constants.ENDPOINT
    except ImportError:  # pragma: no cover
        return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def reachable(url: str | None = None, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the hub's host opens within `timeout` (name lookup included); True behind a
    proxy (the libraries go through it; we do not guess)."""
    url = url or endpoint()
    if any(os.environ.get(k) for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")):
        return True
    if url in _reachable:
        return _reachable[url]
    parsed = urlparse(url)
    host, port = parsed.hostname or "", parsed.port or (443 if parsed.scheme == "https" else 80)
    answer: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            answer.append(True)
        except OSError:
            answer.append(False)

    thread = threading.Thread(target=probe, daemon=True)  # a name lookup ignores socket timeouts
    thread.start()
    thread.join(timeout + 0.5)
    _reachable[url] = bool(answer and answer[0])
    return _reachable[url]


def unreachable_reason() -> str | None:
    """Why the hub cannot be used now ("HF_HUB_OFFLINE=1", "no connection to https://huggingface.co"), or None."""
    flag = offline_flag()
    if flag:
        return flag
    return None if reachable() else f"no connection to {endpoint()}"


def hub_model_problem(repo_id: str, key: str = "model.name_or_path") -> str | None:
    """Why the hub model `repo_id` cannot be loaded now (offline, or no connection, and not in the local
    cache), as one line naming the fix; None when it can be (reachable, or cached)."""
    reason = unreachable_reason()
    if reason is None:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(repo_id, "config.json"), str):
            return None
    except Exception:  # noqa: BLE001 (an id huggingface_hub refuses: the loader says why)
        return None
    return (f"{key}={repo_id}: no such local directory, and no hub model of that id in the local cache while the "
            f"hub cannot be reached ({reason}): download it where there is network (`hf download {repo_id} "
            f"--local-dir DIR`) and give {key}=DIR")
