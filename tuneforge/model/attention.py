"""`sdpa_fp32`: PyTorch's scaled-dot-product attention with bfloat16 inputs computed in float32 on a CPU.

On a CPU, torch's flash-attention kernel is slow in bfloat16: SmolLM2-135M, batch 8 x 100 tokens, one thread
(torch 2.13, AMD EPYC with AVX512-BF16), its backward took 600 ms in bf16 against 238 ms with the same inputs
in float32, a sixth of the whole bf16 step (torch.profiler over one step; the step times with and
without this: `benchmarks/cpu_step.py bf16`). The projections stay in
bfloat16 (where the CPU is fast); only the attention product runs in float32, which is also the more
accurate of the two. The training module switches a CPU run in bfloat16 from `sdpa` to this
implementation for the fit and back after it (`switch`), so saved configs and generation after
training see plain `sdpa`. Elsewhere (float32 inputs, GPUs) it is `sdpa` unchanged.
"""
from __future__ import annotations

from typing import Any

from tuneforge.model.base import peft_base

NAME = "sdpa_fp32"
LOW_PRECISION = ("bfloat16", "float16")


def sdpa_fp32_attention_forward(module: Any, query: Any, key: Any, value: Any, attention_mask: Any,
                                **kwargs: Any) -> tuple[Any, None]:
    """transformers' `sdpa_attention_forward`, in float32 when it would run in bf16/fp16 on a CPU: inputs in
    that dtype, or CPU autocast to it (autocast runs sdpa in its dtype even when rotary embeddings made the
    queries and keys float32)."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    low = [t.dtype for t in (query, key, value) if str(t.dtype).removeprefix("torch.") in LOW_PRECISION]
    if query.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
        low.append(torch.get_autocast_dtype("cpu"))
    if query.device.type != "cpu" or not low or str(low[-1]).removeprefix("torch.") not in LOW_PRECISION:
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    if attention_mask is not None and attention_mask.is_floating_point():
        attention_mask = attention_mask.float()
    with torch.autocast("cpu", enabled=False):
        out, weights = sdpa_attention_forward(module, query.float(), key.float(), value.float(), attention_mask,
                                              **kwargs)
    return out.to(low[-1]), weights


def register() -> None:
    """Make `sdpa_fp32` a transformers attention implementation (its masks are sdpa's). Idempotent."""
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    ALL_ATTENTION_FUNCTIONS.register(NAME, sdpa_fp32_attention_forward)
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)


def wants_fp32_attention(model: Any, device_type: str, precision: str) -> bool:
    """A CPU fit whose attention would run in bfloat16 (bf16 precision or bf16 weights) through `sdpa`."""
    import torch

    attention = getattr(getattr(peft_base(model), "config", None), "_attn_implementation", None)
    if device_type != "cpu" or attention != "sdpa":
        return False
    return str(precision).startswith("bf16") or any(p.dtype == torch.bfloat16 for p in model.parameters())


def switch(model: Any, to_fp32: bool) -> None:
    """Set `model`'s attention to `sdpa_fp32` (`to_fp32`) or back to `sdpa`."""
    if to_fp32:
        register()
    peft_base(model).set_attn_implementation(NAME if to_fp32 else "sdpa")
