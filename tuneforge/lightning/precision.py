"""`trainer.precision`: an explicit value always wins; null (the default) picks what the hardware does best:
`bf16-mixed` on a CUDA GPU with bfloat16 support; on a CPU with native bfloat16 instructions (AVX512-BF16 or
AMX) `bf16-mixed` for models of at least `CPU_BF16_MIN_PARAMETERS`; `32-true` elsewhere.

The CPU rule, measured on a 2-core AMD EPYC with AVX512-BF16 (torch 2.13): SmolLM2-135M LoRA
(`tuneforge train recipe=smollm2_lora`) fit 130 s in bf16-mixed (bf16 weights) against 218 s in float32, exact
match 0.75 against 0.74; the quickstart's 4-layer toy gained 8 % and lost exact match (0.92 against 0.96,
seed 1): small matrix products do not profit and the toy's few weights feel the rounding."""
from __future__ import annotations

from typing import Any, Callable

NOT_GPU = ("cpu", "mps", "tpu", "hpu", "xla")
CPU_BF16_MIN_PARAMETERS = 100_000_000


def cuda_bf16() -> bool:
    """Whether this process sees a CUDA device that computes in bfloat16 (Ampere and newer)."""
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def cpu_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX): elsewhere bf16 is emulated, slower."""
    import torch

    checks = (getattr(torch.cpu, "_is_avx512_bf16_supported", None), getattr(torch.cpu, "_is_amx_tile_supported", None))
    return any(check() for check in checks if check is not None)


def resolve_precision(precision: Any, accelerator: Any = "auto", bf16_gpu: Callable[[], bool] = cuda_bf16,
                      parameters: int = 0, bf16_cpu: Callable[[], bool] | None = None) -> Any:
    """The precision the Trainer gets: `precision` unless null; then `bf16-mixed` when `accelerator` may run on
    a GPU (auto, gpu, cuda) and `bf16_gpu()` says it supports bfloat16; on a CPU (`cpu`, or `auto` without a
    CUDA device) `bf16-mixed` when `bf16_cpu()` (default `cpu_bf16`) and the model has at least
    CPU_BF16_MIN_PARAMETERS `parameters`; else `32-true`."""
    if precision is not None:
        return precision
    if str(accelerator).lower() not in NOT_GPU and bf16_gpu():
        return "bf16-mixed"
    if trains_on_cpu(accelerator):
        return "bf16-mixed" if parameters >= CPU_BF16_MIN_PARAMETERS and (bf16_cpu or cpu_bf16)() else "32-true"
    return "32-true"


def trains_on_cpu(accelerator: Any) -> bool:
    """Whether a Trainer with `accelerator` runs on the CPU (`cpu`, or `auto` without a CUDA device)."""
    import torch

    accelerator = str(accelerator).lower()
    return accelerator == "cpu" or accelerator == "auto" and not torch.cuda.is_available()


def fit_autocast(trainer_settings: dict[str, Any], model: Any) -> Any:
    """The autocast a CPU fit of `model` with these `trainer.*` settings runs under (bf16-mixed), for generation
    outside the fit (exact match before and after it: as fast as the fit's own evaluation, and in the same
    precision); a no-op context elsewhere (GPUs, float32)."""
    import contextlib

    import torch

    accelerator = trainer_settings.get("accelerator", "auto")
    precision = resolve_precision(trainer_settings.get("precision"), accelerator,
                                  parameters=sum(p.numel() for p in model.parameters()))
    if precision == "bf16-mixed" and trains_on_cpu(accelerator):
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def frozen_weights_to_bf16(model: Any) -> int:
    """Store `model`'s frozen float32 parameters in bfloat16 (in place; trained ones and buffers such as rotary
    frequencies stay float32): what a CPU fit in `bf16-mixed` does, since autocast would otherwise cast every
    frozen weight again at every step (SmolLM2 LoRA q/v: 212 -> 233 training tokens/s,
    benchmarks/throughput_trl.py). Returns the number of elements cast."""
    import torch

    cast = 0
    for tensor in model.parameters():
        if tensor.dtype == torch.float32 and not tensor.requires_grad:
            tensor.data = tensor.data.to(torch.bfloat16)
            cast += tensor.numel()
    return cast


def peft_input_casting(model: Any, enabled: bool) -> int:
    """Turn peft's cast of each adapter's input to the adapter's dtype on or off (`cast_input_dtype_enabled`, what
    `peft.helpers.disable_input_dtype_casting` toggles); returns how many layers have it. Under CPU autocast
    the cast only made a float32 copy of every bf16 input that autocast turned back into bf16 for the product
    (two copies per LoRA module and step); outside autocast (generation after the fit) it is needed again."""
    layers = [m for m in model.modules() if hasattr(m, "cast_input_dtype_enabled")]
    for layer in layers:
        layer.cast_input_dtype_enabled = enabled
    return len(layers)
