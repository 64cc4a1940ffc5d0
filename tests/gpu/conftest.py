"""tests/gpu: CUDA only (`.venv/bin/pytest tests/gpu -q` on a GPU machine); every test is skipped, with the
reason, where torch sees no CUDA device. Tiny models built from config: nothing is downloaded."""
from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
    for item in items:
        if "tests/gpu/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.gpu)
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def cuda_memory():
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    yield
