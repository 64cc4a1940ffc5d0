"""tuneforge plugin: the `vllm` LLM backend (importing this module registers it; vLLM itself is
imported only when the backend first generates)."""
from __future__ import annotations

from . import backend  # noqa: F401 (registers llm "vllm")

CONFIG_DIR = "pkg://tuneforge_vllm.conf"
