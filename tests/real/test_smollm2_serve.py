"""`transformers serve` (the `serving` extra) with the cached SmolLM2 copy, on 127.0.0.1, serves the
`openai` backend offline: the request's model is the directory the server was started with,
HF_HUB_CACHE points at an existing folder (for /v1/models), HF_HUB_OFFLINE=1. Greedy replies through
the server equal the local `hf` backend's."""
from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.real.conftest import requires_smollm2

HAVE_SERVING = all(importlib.util.find_spec(m) for m in ("fastapi", "uvicorn"))
pytestmark = [pytest.mark.slow, requires_smollm2,
              pytest.mark.skipif(not HAVE_SERVING, reason="needs `pip install 'transformers[serving]'` "
                                                          "(fastapi, uvicorn) for `transformers serve`")]
PROMPTS = ["What is the capital of France?", "Name three primary colours."]
START_TIMEOUT = 120  # seconds: loading the model on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (127.0.0.1 only)
        return resp.status, resp.read().decode()


@pytest.fixture(scope="module")
def server(smollm2_dir, tmp_path_factory):
    """`transformers serve <dir>` as a subprocess on a free port; always terminated."""
    port = free_port()
    hub_cache = tmp_path_factory.mktemp("hf_hub_cache")
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(hub_cache), "OMP_NUM_THREADS": "1"}
    cli = Path(sys.executable).parent / "transformers"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(cli), "serve", "--host", "127.0.0.1", "--port", str(port), str(smollm2_dir)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}")
            try:
                if get(f"http://127.0.0.1:{port}/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve not ready after {START_TIMEOUT} s:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", str(smollm2_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def test_models_endpoint_answers_offline(server):
    url, _ = server
    status, body = get(f"{url}/v1/models")
    assert status == 200 and json.loads(body)["object"] == "list"


def test_openai_backend_through_transformers_serve_matches_hf_backend(server):
    from tuneforge.llm.hf import HFBackend
    from tuneforge.llm.openai import OpenAIBackend

    url, model_dir = server
    remote = OpenAIBackend(base_url=f"{url}/v1", model=model_dir, concurrency=2, max_retries=1, timeout=120,
                           max_tokens=24, temperature=0.0)
    try:
        served = remote.generate(PROMPTS)
    finally:
        remote.close()
    stats = remote.stats.as_dict()
    assert stats["requests"] == len(PROMPTS) and stats["failures"] == 0, stats
    assert all(c.ok for c in served), [c.error for c in served]
    assert "Paris" in served[0].text
    local = HFBackend(model=model_dir, max_new_tokens=24, temperature=0.0, threads=1)
    try:
        expected = local.generate(PROMPTS)
    finally:
        local.close()
    assert [c.text for c in served] == [c.text for c in expected]  # same chat template, same greedy tokens
