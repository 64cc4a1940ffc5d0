"""The model-builder protocol and what the builders share (dtype, attention, checkpointing, loading)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tuneforge.errors import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

# `auto`: the checkpoint's own dtype (config.json's `dtype`, bf16 for most released models).
DTYPES = ("auto", "float32", "bfloat16", "float16")


class ModelBuilder(Protocol):
    def build(self, quantization: Any = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        """Build (or load) the model and its tokenizer; the tokenizer has pad and EOS tokens.
        `quantization` (a transformers `BitsAndBytesConfig`, from the PEFT method) asks a builder that
        loads weights to load them quantised; a builder that builds in memory may ignore it (the
        method then quantises the built model)."""
        ...

    def build_tokenizer(self) -> PreTrainedTokenizerBase:
        """Only the tokenizer (for previews and data preparation)."""
        ...

    def model_config(self) -> PretrainedConfig:
        """The model's config without any weight (memory planning builds from it on the meta device)."""
        ...


def check_dtype(dtype: str) -> str:
    if dtype not in DTYPES:
        raise ConfigError(ConfigIssue("model.dtype", f"expected one of {DTYPES}, got {dtype!r}"))
    return dtype


def torch_dtype(dtype: str, config: Any = None) -> Any:
    """The torch dtype of a `model.dtype` value; `auto` reads the config's (float32 when it has none)."""
    import torch

    if dtype != "auto":
        return getattr(torch, dtype)
    found = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    if isinstance(found, str):
        found = getattr(torch, found, None)
    return found if isinstance(found, torch.dtype) else torch.float32


def load_kwargs(dtype: str, attn_implementation: str | None, quantization: Any = None, **extra: Any) -> dict:
    """`from_pretrained` keywords: dtype (`auto` is the checkpoint's), attention, and a quantisation config
    under which transformers quantises each tensor as it is read (no full-precision copy of the model)."""
    import torch

    kwargs = {"dtype": dtype if dtype == "auto" else getattr(torch, dtype), **extra}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if quantization is not None:
        kwargs["quantization_config"] = quantization
    return kwargs


def finish(model: Any, gradient_checkpointing: bool) -> Any:
    """What every builder does last: activation checkpointing when asked for."""
    if gradient_checkpointing:
        from tuneforge.model.checkpointing import enable_checkpointing

        enable_checkpointing(model)
    return model


def peft_base(model: Any) -> Any:
    """The transformers model under a peft wrapper (`get_base_model`), or `model` itself."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model
