"""Any Hugging Face causal LM from a local directory or a hub id (`model.name_or_path`)."""
from __future__ import annotations

from pathlib import Path

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register

DTYPES = ("float32", "bfloat16", "float16", "auto")


@register("model", "hf")
class HFModel:
    """AutoModelForCausalLM + AutoTokenizer from `name_or_path` (tokenizer from `tokenizer` if set)."""

    def __init__(self, name_or_path: str, tokenizer: str | None = None, dtype: str = "float32",
                 attn_implementation: str | None = None, trust_remote_code: bool = False):
        looks_local = name_or_path.startswith(("/", ".", "~")) or Path(name_or_path).exists()
        if looks_local and not Path(name_or_path).expanduser().is_dir():
            raise ConfigError(ConfigIssue("model.name_or_path",
                                          f"no model directory at {name_or_path!r}"))
        if dtype not in DTYPES:
            raise ConfigError(ConfigIssue("model.dtype", f"expected one of {DTYPES}, got {dtype!r}"))
        self.name_or_path = str(Path(name_or_path).expanduser()) if looks_local else name_or_path
        self.tokenizer = tokenizer or self.name_or_path
        self.dtype, self.attn_implementation = dtype, attn_implementation
        self.trust_remote_code = trust_remote_code

    def build(self):  # noqa: ANN201 (transformers types)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        dtype = self.dtype if self.dtype == "auto" else getattr(torch, self.dtype)
        kwargs = {"dtype": dtype, "trust_remote_code": self.trust_remote_code}
        if self.attn_implementation:
            kwargs["attn_implementation"] = self.attn_implementation
        model = AutoModelForCausalLM.from_pretrained(self.name_or_path, **kwargs)
        return model, self.build_tokenizer()

    def build_tokenizer(self):  # noqa: ANN201 (transformers type)
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(self.tokenizer, trust_remote_code=self.trust_remote_code)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return tokenizer
