"""Shared fixtures: small models built from config, the byte-level tokenizer, config composition."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tiny models: one thread is faster than two fighting over the 2 cores (subprocesses inherit it).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Prepared-data cache: a folder of this test session (subprocesses inherit it), never the user's ~/.cache.
if "TUNEFORGE_DATA_CACHE" not in os.environ:
    os.environ["TUNEFORGE_DATA_CACHE"] = tempfile.mkdtemp(prefix="tuneforge-data-cache-")
    atexit.register(shutil.rmtree, os.environ["TUNEFORGE_DATA_CACHE"], True)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Two OpenMP threads fighting over the 2 cores make tiny matmuls up to 100x slower; one thread
    per test process (the env var above covers subprocesses and a torch imported later)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def byte_tokenizer():
    from tuneforge.model.byte_tokenizer import byte_tokenizer

    return byte_tokenizer()


def make_tiny(hidden_size: int = 32, num_layers: int = 2, num_heads: int = 2, seed: int = 0, **kw):
    """A small random Llama + byte tokenizer (deterministic for a seed)."""
    import torch

    from tuneforge.model.tiny import TinyModel

    torch.manual_seed(seed)
    return TinyModel(hidden_size=hidden_size, num_layers=num_layers, num_heads=num_heads,
                     intermediate_size=hidden_size * 2, **kw).build()


@pytest.fixture
def tiny_model():
    return make_tiny()


@pytest.fixture
def compose():
    from tuneforge.config.app import compose as _compose

    return _compose
