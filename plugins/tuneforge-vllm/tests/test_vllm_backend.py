"""llm=vllm on a GPU (skipped where vLLM or CUDA is missing)."""
from __future__ import annotations

import os

import pytest

vllm = pytest.importorskip("vllm")
torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="vLLM needs a CUDA GPU")


def test_generates_a_batch_in_order():
    from tuneforge_vllm.backend import VLLMBackend

    model = os.environ.get("TUNEFORGE_VLLM_MODEL")
    if not model:
        pytest.skip("set TUNEFORGE_VLLM_MODEL to a local model directory")
    llm = VLLMBackend(model=model, max_tokens=16, temperature=0.0, gpu_memory_utilization=0.5)
    out = llm.generate(["Say hello.", "Count to three."], stop=["\n\n"])
    assert len(out) == 2 and all(c.ok for c in out) and llm.stats.requests == 2
