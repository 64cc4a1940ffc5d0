"""QLoRA: frozen 4-bit NF4 base weights (bitsandbytes, double quantisation) with LoRA on top."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from tuneforge.registry import register
from tuneforge.peft.lora import Lora


def quantize_linears(model: Any, *, quant_type: str = "nf4", double_quant: bool = True,
                     compute_dtype: str = "auto", blocksize: int = 64,
                     skip: tuple[str, ...] = ("lm_head",)) -> Any:
    """Replace every nn.Linear (except those named in `skip`; embeddings are never touched) by a
    bitsandbytes Linear4bit holding the same weights quantised; works on models built in memory."""
    import torch

    from tuneforge.peft._hf import quiet_bitsandbytes

    quiet_bitsandbytes()
    import bitsandbytes as bnb

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if compute_dtype == "auto":
        cuda_bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
        dtype = torch.bfloat16 if cuda_bf16 else torch.float32
    else:
        dtype = getattr(torch, compute_dtype)
    replaced = 0
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            full = f"{parent_name}.{child_name}" if parent_name else child_name
            if type(child) is not torch.nn.Linear or child_name in skip or full in skip:
                continue
            q = bnb.nn.Linear4bit(child.in_features, child.out_features, bias=child.bias is not None,
                                  compute_dtype=dtype, compress_statistics=double_quant,
                                  quant_type=quant_type, device="meta")
            q.weight = bnb.nn.Params4bit(child.weight.data.detach().to("cpu").contiguous(), requires_grad=False,
                                         compress_statistics=double_quant, quant_type=quant_type,
                                         blocksize=blocksize)
            if child.bias is not None:
                q.bias = torch.nn.Parameter(child.bias.data.detach().clone(), requires_grad=False)
            q = q.to(device)  # quantises
            # After an eval-mode no-grad forward (Lightning's sanity validation does one) the
            # AVX512-BF16 CPU path repacks the weights into a layout whose backward (gemv_4bit) has no
            # autograd kernel: torch only warns, and LoRA gets zero gradients.
            q.support_avx512bf16_for_cpu = False
            setattr(parent, child_name, q)
            replaced += 1
    model.is_loaded_in_4bit = True
    model.tuneforge_quantized = replaced
    return model


@register("peft", "qlora")
class QLora(Lora):
    """LoRA on a base whose linear layers are stored as 4-bit NF4 (or FP4) codes with blockwise absmax
    scales, the scales themselves quantised to 8 bits (double quantisation); matmuls run in
    `compute_dtype` (auto: bf16 on CUDA, fp32 on CPU)."""

    def __init__(self, r: int = 8, alpha: int = 16, dropout: float = 0.05,
                 target_modules: list[str] | str = "all-linear", bias: str = "none",
                 quant_type: Literal["nf4", "fp4"] = "nf4", double_quant: bool = True,
                 compute_dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto",
                 blocksize: int = 64, skip_modules: list[str] = ("lm_head",)):
        super().__init__(r=r, alpha=alpha, dropout=dropout, target_modules=target_modules, bias=bias)
        self.quant = dict(quant_type=quant_type, double_quant=double_quant, compute_dtype=compute_dtype,
                          blocksize=blocksize, skip=tuple(skip_modules))

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        return super().apply(quantize_linears(model, **self.quant), tokenizer)

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        saved = super().save(model, tokenizer, out_dir)
        path = Path(saved["adapter"]) / "tuneforge_qlora.json"
        path.write_text(json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in self.quant.items()},
                                   indent=2))
        return saved | {"quantization": str(path)}

    def load(self, model: Any, out_dir: Path) -> Any:
        from tuneforge.peft._hf import load_adapter

        adapter = Path(out_dir) / "adapter"
        quant = json.loads((adapter / "tuneforge_qlora.json").read_text())
        quant["skip"] = tuple(quant["skip"])
        return load_adapter(quantize_linears(model, **quant), adapter)
