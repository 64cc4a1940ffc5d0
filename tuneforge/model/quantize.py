"""bitsandbytes quantisation of a model built in memory (QLoRA's 4-bit base, LoRA's `load_in_8bit`): the
builders that read weights load them quantised through transformers instead."""
from __future__ import annotations

import logging
from typing import Any


def resolve_compute_dtype(compute_dtype: str) -> Any:
    """`auto`: bf16 on a CUDA device that supports it, float32 otherwise (CPU)."""
    import torch

    if compute_dtype != "auto":
        return getattr(torch, compute_dtype)
    cuda_bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return torch.bfloat16 if cuda_bf16 else torch.float32


def guard_cpu_backward(model: Any) -> int:
    """After an eval-mode no-grad forward (Lightning's sanity validation does one) the AVX512-BF16 CPU
    path repacks 4-bit weights into a layout whose backward (gemv_4bit) has no autograd kernel: torch
    only warns, and LoRA gets zero gradients. Switch that path off on every Linear4bit; their count."""
    import bitsandbytes as bnb

    layers = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    for m in layers:
        m.support_avx512bf16_for_cpu = False
    return len(layers)


def quantize_linears(model: Any, *, bits: int = 4, quant_type: str = "nf4", double_quant: bool = True,
                     compute_dtype: str = "auto", blocksize: int = 64, quant_storage: str = "uint8",
                     skip: tuple[str, ...] = ("lm_head",)) -> Any:
    """Replace every nn.Linear (except those named in `skip`; embeddings are never touched) by a
    bitsandbytes Linear4bit (or, `bits=8`, an LLM.int8 Linear8bitLt) holding the same weights quantised;
    for models built in memory (the builders that read weights load them quantised instead)."""
    import torch

    # bitsandbytes logs a harmless "Failed to load CPU gemm_4bit_forward from kernels-community" on import
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    import bitsandbytes as bnb

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype, storage = resolve_compute_dtype(compute_dtype), getattr(torch, quant_storage)
    replaced = 0
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            full = f"{parent_name}.{child_name}" if parent_name else child_name
            if type(child) is not torch.nn.Linear or child_name in skip or full in skip:
                continue
            weight = child.weight.data.detach().to("cpu").contiguous()
            if bits == 8:
                q = bnb.nn.Linear8bitLt(child.in_features, child.out_features, bias=child.bias is not None,
                                        has_fp16_weights=False, threshold=6.0, device="meta")  # transformers default
                q.weight = bnb.nn.Int8Params(weight, requires_grad=False, has_fp16_weights=False)
            else:
                q = bnb.nn.Linear4bit(child.in_features, child.out_features, bias=child.bias is not None,
                                      compute_dtype=dtype, compress_statistics=double_quant,
                                      quant_type=quant_type, quant_storage=storage, device="meta")
                q.weight = bnb.nn.Params4bit(weight, requires_grad=False, compress_statistics=double_quant,
                                             quant_type=quant_type, blocksize=blocksize, quant_storage=storage)
            if child.bias is not None:
                q.bias = torch.nn.Parameter(child.bias.data.detach().clone(), requires_grad=False)
            setattr(parent, child_name, q.to(device))  # .to() quantises
            replaced += 1
    if bits == 8:
        model.is_loaded_in_8bit = True
    else:
        model.is_loaded_in_4bit = True
        guard_cpu_backward(model)
    model.tuneforge_quantized = replaced
    return model
