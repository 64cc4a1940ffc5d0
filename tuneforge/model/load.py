"""Build a model the way its PEFT method will train it: the one call commands make to get a model."""
from __future__ import annotations

import inspect
from typing import Any


def build_model(builder: Any, method: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer) from `builder`; when `method` wants a quantised base (QLoRA's 4-bit,
    LoRA's `load_in_8bit`) and the builder reads weights, they are loaded quantised tensor by tensor,
    so the full-precision model never exists. The method's `apply` quantises a base built otherwise."""
    quantization = getattr(method, "quantization_config", lambda: None)()
    if quantization is not None and "quantization" in inspect.signature(builder.build).parameters:
        model, tokenizer = builder.build(quantization=quantization)
        return release_checkpoint_file(model), tokenizer
    return builder.build()


def release_checkpoint_file(model: Any) -> Any:
    """Copy the unquantised CPU tensors (embeddings, norms, head) out of the memory-mapped checkpoint.

    transformers maps the safetensors file and keeps tensors that need no conversion as views of it. After a
    quantised load every page of the file has been read (to quantise the linears), and the mapping stays
    alive as long as one view does, so the process's resident memory still counts the whole full-precision
    file (SmolLM2: 507 MiB on top of a 4-bit base). Owning those few tensors closes the mapping."""
    import torch

    for module in model.modules():
        for _, param in list(module.named_parameters(recurse=False)):
            if type(param) is torch.nn.Parameter and param.device.type == "cpu" and param.is_floating_point():
                param.data = param.data.clone()
        for name, buffer in list(module.named_buffers(recurse=False)):
            if buffer is not None and buffer.device.type == "cpu" and buffer.is_floating_point():
                module._buffers[name] = buffer.clone()
    return model
