"""QLoRA: frozen 4-bit NF4 base weights (bitsandbytes, double quantisation) with LoRA on top."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from tuneforge.model.quantize import guard_cpu_backward, quantize_linears, resolve_compute_dtype
from tuneforge.registry import register
from tuneforge.peft.lora import Lora

__all__ = ["QLora", "quantize_linears"]

BNB_BLOCKSIZE = 64  # the only 4-bit block size transformers' BitsAndBytesConfig loads with


@register("peft", "qlora")
class QLora(Lora):
    """LoRA on a base whose linear layers are stored as 4-bit NF4 (or FP4) codes with blockwise absmax
    scales, the scales themselves quantised to 8 bits (double quantisation); matmuls run in
    `compute_dtype` (auto: bf16 on CUDA, fp32 on CPU). Builders that read weights (hf, smollm2_135m)
    load the base directly in 4-bit through transformers' BitsAndBytesConfig, tensor by tensor, so no
    full-precision copy of the model is ever held; `model=tiny` is quantised after building.
    `quant_storage` is the dtype the packed codes are stored in (bfloat16 for FSDP, which shards
    parameters of one dtype)."""

    quantized_base = True

    def __init__(self, r: int = 8, alpha: int = 16, dropout: float = 0.05,
                 target_modules: list[str] | str = "all-linear", bias: str = "none",
                 quant_type: Literal["nf4", "fp4"] = "nf4", double_quant: bool = True,
                 compute_dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto",
                 blocksize: int = 64, skip_modules: list[str] = ("lm_head",),
                 quant_storage: Literal["uint8", "bfloat16", "float16", "float32"] = "uint8",
                 rslora: bool = False, init: str = "default", loraplus_lr_ratio: float | None = None):
        super().__init__(r=r, alpha=alpha, dropout=dropout, target_modules=target_modules, bias=bias,
                         rslora=rslora, init=init, loraplus_lr_ratio=loraplus_lr_ratio)
        self.quant = dict(quant_type=quant_type, double_quant=double_quant, compute_dtype=compute_dtype,
                          blocksize=blocksize, skip=tuple(skip_modules))
        if quant_storage != "uint8":  # only then in tuneforge_qlora.json (older runs' files stay valid)
            self.quant["quant_storage"] = quant_storage

    def quantization_config(self) -> Any:
        """transformers' BitsAndBytesConfig for this method's 4-bit base; None for a block size it cannot
        load with (the built model is then quantised by `quantize`)."""
        if self.quant["blocksize"] != BNB_BLOCKSIZE:
            return None
        from transformers import BitsAndBytesConfig

        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=self.quant["quant_type"],
                                  bnb_4bit_use_double_quant=self.quant["double_quant"],
                                  bnb_4bit_compute_dtype=resolve_compute_dtype(self.quant["compute_dtype"]),
                                  bnb_4bit_quant_storage=self.quant.get("quant_storage", "uint8"),
                                  llm_int8_skip_modules=list(self.quant["skip"]))

    def quantize(self, model: Any) -> Any:
        if getattr(model, "is_loaded_in_4bit", False):  # loaded in 4-bit by the model builder
            model.tuneforge_quantized = guard_cpu_backward(model)
            return model
        return quantize_linears(model, **self.quant)

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
        if not getattr(model, "is_loaded_in_4bit", False):
            model = quantize_linears(model, **quant)
        else:
            model.tuneforge_quantized = guard_cpu_backward(model)
        return load_adapter(model, adapter)
