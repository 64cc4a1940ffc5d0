"""`tuneforge estimate-memory [--format text|json] [--device cpu|cuda] [train overrides ...]`: training memory
of a train config, term by term (weights by dtype, gradients, optimizer states, activations with or without
`model.gradient_checkpointing`, logits, overheads, peak), from tuneforge/analysis/memory.py's model of it.

The model is built from its config alone on the meta device: no weight is read or allocated, so planning an
8B or 70B model takes seconds. `model=hf model.name_or_path=DIR` needs only DIR/config.json (or a hub id in
the local cache); QLoRA's 4-bit base and LoRA's `peft.load_in_8bit` are counted as stored. Batch and
sequence length are `data.batch_size` and `data.max_length` (`data.pack_length` with `data.packing=true`; the same
tokens as unpacked with `padding_free`). `--device`
(default: where `trainer.accelerator` would run here) decides the optimizer step's temporaries: torch's
AdamW updates all tensors at once on CUDA (one extra copy of the trainable weights), one by one on CPU.

Example:  tuneforge estimate-memory model=hf model.name_or_path=llama-3-8b/ peft=qlora data.max_length=2048
"""
from __future__ import annotations

import json
from typing import Any

from tuneforge.errors import TuneforgeError

FORMATS = ("text", "json")
DEVICES = ("cpu", "cuda")


def _options(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """(--format / --device values, the remaining train overrides); `--opt value` or `--opt=value`."""
    found, rest, i = {"format": "text", "device": None}, [], 0
    while i < len(argv):
        arg = argv[i]
        name = arg[2:].split("=", 1)[0] if arg.startswith("--") else None
        if name in ("format", "device"):
            if "=" in arg:
                found[name] = arg.split("=", 1)[1]
            elif i + 1 < len(argv):
                found[name], i = argv[i + 1], i + 1
            else:
                raise TuneforgeError(f"--{name} needs a value")
        else:
            rest.append(arg)
        i += 1
    if found["format"] not in FORMATS:
        raise TuneforgeError(f"--format: expected one of {FORMATS}, got {found['format']!r}")
    if found["device"] not in (None, *DEVICES):
        raise TuneforgeError(f"--device: expected one of {DEVICES}, got {found['device']!r}")
    return found, rest


def quantization_of(method: Any) -> Any:
    """The memory model's Quantization for a method that stores its base quantised, else None."""
    from tuneforge.analysis.memory import Quantization
    from tuneforge.peft.lora import Lora
    from tuneforge.peft.qlora import QLora

    if isinstance(method, QLora):
        return Quantization(4, bool(method.quant["double_quant"]), int(method.quant["blocksize"]))
    if isinstance(method, Lora) and method.load_in_8bit:
        return Quantization(8)
    return None


def _quantized_weights(model: Any, quant: Any, skip: tuple[str, ...]) -> dict[int, float]:
    """id(weight) -> bytes per element for the linears quantize_linears / transformers would quantise."""
    import torch

    out = {}
    for parent_name, parent in model.named_modules():
        for child_name, child in parent.named_children():
            full = f"{parent_name}.{child_name}" if parent_name else child_name
            if type(child) is torch.nn.Linear and child_name not in skip and full not in skip:
                out[id(child.weight)] = quant.bytes_per_weight(child.in_features)
    return out


def _tokenizer(builder: Any) -> Any:
    """The model's tokenizer when it can be had without weights, else the byte tokenizer: methods use it
    only to add a placeholder token (ptuning_free) or to initialise from text, nothing that counts."""
    try:
        return builder.build_tokenizer()
    except Exception:  # noqa: BLE001 (a directory holding only config.json, a hub id not cached)
        from tuneforge.model.byte_tokenizer import byte_tokenizer

        return byte_tokenizer()


def meta_model(builder: Any) -> Any:
    """The builder's model on the meta device, from its config (`model_config()`); builders without one
    are built under the meta device (fine for builders that construct from a config, never for loaders)."""
    import torch

    from tuneforge.model.base import torch_dtype

    if not hasattr(builder, "model_config"):
        with torch.device("meta"):
            return builder.build()[0]
    from transformers import AutoModelForCausalLM

    config = builder.model_config()
    kwargs = {"dtype": torch_dtype(getattr(builder, "dtype", "float32"), config)}
    if getattr(builder, "attn_implementation", None):
        kwargs["attn_implementation"] = builder.attn_implementation
    if getattr(builder, "trust_remote_code", False):
        kwargs["trust_remote_code"] = True
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config, **kwargs)


def build_for_estimate(parts: Any, method_name: str) -> tuple[Any, dict[int, float]]:
    """(meta model with the method applied, quantised weights) for a train config's parts."""
    import torch

    method = parts.peft
    model = meta_model(parts.model)
    quant = quantization_of(method)
    with torch.device("meta"):
        if quant is None:
            return method.apply(model, _tokenizer(parts.model)), {}
        skip = tuple(method.quant["skip"]) if quant.bits == 4 else ("lm_head",)
        quantized = _quantized_weights(model, quant, skip)
        return method.add_adapters(model), quantized  # the adapters as on the quantised base


def _device(cfg: Any, option: str | None) -> str:
    import torch

    if option:
        return option
    accelerator = str(cfg.trainer.get("accelerator", "auto"))
    if accelerator == "cpu":
        return "cpu"
    return "cuda" if accelerator in ("gpu", "cuda") or torch.cuda.is_available() else "cpu"


def run_estimate(cfg: Any, device: str | None = None) -> Any:
    """The Estimate for a composed train config."""
    from tuneforge.analysis.memory import Setup, estimate
    from tuneforge.config.assemble import assemble
    from tuneforge.lightning.module import CHUNK_ELEMENTS, fused_parts
    from tuneforge.lightning.precision import resolve_precision  # null: bf16-mixed when planning for a GPU

    parts = assemble("train", cfg)
    name = str(cfg.peft.name)
    model, quantized = build_for_estimate(parts, name)
    loader = parts.stages[0].settings
    optimizer = cfg.optimizer
    target = str(optimizer.get("_target_", "")).lower()
    device = _device(cfg, device)
    foreach = optimizer.get("foreach")
    setup = Setup(batch=int(loader.batch_size), seq=int(loader.pack_length if loader.packing is True else loader.max_length),
                  precision=str(resolve_precision(cfg.trainer.get("precision"), device, bf16_gpu=lambda: True)),
                  checkpointing=bool(getattr(parts.model, "gradient_checkpointing", False)),
                  attention=str(getattr(parts.model, "attn_implementation", None) or "sdpa"),
                  lora_dropout=float(getattr(parts.peft, "dropout", 0.0) or 0.0),
                  optimizer="adamw8bit" if "8bit" in target else "adamw",
                  foreach=bool(foreach) if foreach is not None else device == "cuda" and not optimizer.get("fused"),
                  fused_loss=fused_parts(model) is not None, chunk_elements=CHUNK_ELEMENTS)
    return estimate(model, name, setup.batch, setup.seq, setup.precision, setup.lora_dropout, setup, quantized)


def main(argv: list[str]) -> None:
    from tuneforge.analysis.memory import table
    from tuneforge.config.app import compose

    options, overrides = _options(argv)
    if not any(a.startswith("run_dir=") for a in overrides):
        overrides = [*overrides, "run_dir=."]
    e = run_estimate(compose("train", overrides), options["device"])
    print(json.dumps(e.as_json()) if options["format"] == "json" else table(e))
