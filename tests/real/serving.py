"""`transformers serve` (the `serving` extra) as a subprocess on a free 127.0.0.1 port, offline
(HF_HUB_OFFLINE=1, HF_HUB_CACHE pointing at an existing folder, which /v1/models needs), always terminated."""
from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HAVE_SERVING = all(importlib.util.find_spec(m) for m in ("fastapi", "uvicorn"))
START_TIMEOUT = 120  # seconds: loading the model on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (127.0.0.1 only)
        return resp.status, resp.read().decode()


@contextlib.contextmanager
def serving(model_dir: Path, tmp_path: Path):
    """`transformers serve` on a free 127.0.0.1 port, offline; always terminated."""
    port, log_path = free_port(), tmp_path / "serve.log"
    (tmp_path / "hub").mkdir(parents=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub"), "OMP_NUM_THREADS": "1"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "transformers"), "serve", "--host", "127.0.0.1",
                                 "--port", str(port), str(model_dir)], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                if get(f"http://127.0.0.1:{port}/health", timeout=2)[0] == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve not ready after {START_TIMEOUT} s:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
