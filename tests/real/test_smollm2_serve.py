"""`transformers serve` (the `serving` extra) with the cached SmolLM2 copy, on 127.0.0.1, serves the
`openai` backend offline: the request's model is the directory the server was started with,
HF_HUB_CACHE points at an existing folder (for /v1/models), HF_HUB_OFFLINE=1. Greedy replies through
the server equal the local `hf` backend's."""
from __future__ import annotations

import json

import pytest

from tests.real.conftest import requires_smollm2
from tests.real.serving import HAVE_SERVING, get, serving

pytestmark = [pytest.mark.slow, requires_smollm2,
              pytest.mark.skipif(not HAVE_SERVING, reason="needs `pip install 'transformers[serving]'` "
                                                          "(fastapi, uvicorn) for `transformers serve`")]
PROMPTS = ["What is the capital of France?", "Name three primary colours."]


@pytest.fixture(scope="module")
def server(smollm2_dir, tmp_path_factory):
    """`transformers serve <dir>` as a subprocess on a free port; always terminated."""
    with serving(smollm2_dir, tmp_path_factory.mktemp("serve")) as url:
        yield url, str(smollm2_dir)


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
