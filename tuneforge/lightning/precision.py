"""`trainer.precision`: an explicit value always wins; null (the default) picks `bf16-mixed` where training
runs on a CUDA GPU with bfloat16 support and `32-true` elsewhere (CPU, older GPUs)."""
from __future__ import annotations

from typing import Any, Callable

NOT_GPU = ("cpu", "mps", "tpu", "hpu", "xla")


def cuda_bf16() -> bool:
    """Whether this process sees a CUDA device that computes in bfloat16 (Ampere and newer)."""
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def resolve_precision(precision: Any, accelerator: Any = "auto", bf16_gpu: Callable[[], bool] = cuda_bf16) -> Any:
    """The precision the Trainer gets: `precision` unless null; then `bf16-mixed` when `accelerator` may run on
    a GPU (auto, gpu, cuda) and `bf16_gpu()` says it supports bfloat16, else `32-true`."""
    if precision is not None:
        return precision
    if str(accelerator).lower() in NOT_GPU:
        return "32-true"
    return "bf16-mixed" if bf16_gpu() else "32-true"
