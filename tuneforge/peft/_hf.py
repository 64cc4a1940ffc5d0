"""Helpers shared by the save / load paths: PEFT-format adapters, the tokenizer files every saved directory
carries (with the training template and a generation config that stops where training taught it to), and
the base a PEFT adapter names (saved with the run when the model was built from config)."""
from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

from tuneforge.peft._init_conversion import save_converted

log = logging.getLogger("tuneforge.peft")


def save_tokenizer(tokenizer: Any, path: Path, model: Any = None) -> None:
    """THE place every saved directory (model, adapter, merged, base, export) gets its tokenizer files: the
    tokenizer with its `chat_template` (training sets it to the training template's jinja form), and
    generation_config.json (from `model`'s when given) whose eos is the template's end-of-reply token."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(path)
    generation_config(tokenizer, model).save_pretrained(path)


def generation_config(tokenizer: Any, model: Any = None) -> Any:
    """`model`'s generation config (or a fresh one) with eos = the template's stop token(s) and the pad token."""
    from transformers import GenerationConfig

    source = getattr(model, "generation_config", None)
    config = GenerationConfig.from_dict(source.to_dict()) if source is not None else GenerationConfig()
    stops = stop_token_ids(tokenizer)
    if stops:
        config.eos_token_id = stops[0] if len(stops) == 1 else stops
    config.pad_token_id = tokenizer.pad_token_id
    if tokenizer.bos_token_id is not None:
        config.bos_token_id = tokenizer.bos_token_id
    return config


def stop_token_ids(tokenizer: Any) -> list[int]:
    """The token that ends a reply in the tokenizer's chat template (a reply rendered through it: the first
    token after the reply's text when it is a special token, e.g. ChatML's <|im_end|>), then EOS."""
    stops = [] if tokenizer.eos_token_id is None else [int(tokenizer.eos_token_id)]
    if not getattr(tokenizer, "chat_template", None):
        return stops
    from tuneforge.errors import TuneforgeError
    from tuneforge.template.chat_template import ChatTemplate

    reply = "ok"
    try:
        text, spans = ChatTemplate(tokenizer).render([{"role": "user", "content": "hi"},
                                                      {"role": "assistant", "content": reply}])
    except TuneforgeError:
        return stops
    span = next((s for s in spans if s.role == "assistant"), None)
    if span is None or not text[span.start:span.end].startswith(reply):
        return stops
    after = tokenizer(text[span.start + len(reply):], add_special_tokens=False)["input_ids"]
    if after and after[0] in set(tokenizer.all_special_ids) and after[0] not in stops:
        stops.insert(0, int(after[0]))
    return stops


def save_adapter(model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
    """Save a peft model's adapter (and the tokenizer) under `out_dir/adapter`; a base built from config is
    saved under `out_dir/base` first, so the adapter names a base that loads. A PiSSA / OLoRA adapter is saved
    as a LoRA on the original base (_init_conversion.py)."""
    adapter = Path(out_dir) / "adapter"
    saved = save_base(model, tokenizer, Path(out_dir))
    save_converted(model, adapter)
    save_tokenizer(tokenizer, adapter, model)
    return {"adapter": str(adapter)} | saved


def save_base(model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
    """A PEFT model whose base has no name or path (built from config: model=tiny) would record
    base_model_name_or_path null and load nowhere: save its base (config + weights, 4- or 8-bit layers
    dequantised) under `out_dir/base` and record that directory (absolute) in every adapter config."""
    configs = getattr(model, "peft_config", None) or {}
    if not configs or all(c.base_model_name_or_path for c in configs.values()):
        return {}
    base_dir = Path(out_dir) / "base"
    base = plain_base(model)
    base.save_pretrained(base_dir)
    save_tokenizer(tokenizer, base_dir, base)
    for config in configs.values():
        config.base_model_name_or_path = str(base_dir.resolve())
    return {"base": str(base_dir)}


def plain_base(model: Any) -> Any:
    """A copy of a PEFT model's base without its adapters (and without quantisation): `model` is untouched."""
    config = model.peft_config[model.active_adapter]
    initial = getattr(model, "tuneforge_initial_adapter", None)  # PiSSA / OLoRA moved part of W0 into it
    if config.is_prompt_learning:  # the base is not modified: virtual tokens live beside it
        base = copy.deepcopy(model.get_base_model())
    elif initial is not None:  # W0 = W_res + s B0 A0: merge the initial adapter back into the residual
        from peft import set_peft_model_state_dict

        twin = copy.deepcopy(model)
        set_peft_model_state_dict(twin, initial)
        base = twin.merge_and_unload()
    else:
        base = copy.deepcopy(model).unload()
    return dequantize_linears(base)


def dequantize_linears(model: Any) -> Any:
    """Replace every bitsandbytes Linear4bit / Linear8bitLt by an nn.Linear holding its dequantised weights
    (what the quantised layer computes with), in place; the model's quantisation marks are removed."""
    import torch

    layers = [(p, n, c) for p in model.modules() for n, c in p.named_children()
              if type(c).__name__ in ("Linear4bit", "Linear8bitLt") and type(c).__module__.startswith("bitsandbytes")]
    if not layers:
        return model
    import bitsandbytes.functional as F

    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    for parent, name, layer in layers:
        weight = layer.weight
        if type(layer).__name__ == "Linear4bit":
            dense = F.dequantize_4bit(weight.data, weight.quant_state)
        else:
            dense = F.int8_vectorwise_dequant(weight.CB, weight.SCB) if weight.CB is not None else weight.data
        linear = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                                 device=dense.device, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(dense.reshape(layer.out_features, layer.in_features).to(dtype))
            if layer.bias is not None:
                linear.bias.copy_(layer.bias.to(dtype))
        setattr(parent, name, linear)
    for attr in ("is_loaded_in_4bit", "is_loaded_in_8bit", "tuneforge_quantized", "hf_quantizer"):
        if attr in model.__dict__:
            delattr(model, attr)
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    return model


def is_peft_adapter(path: Path) -> bool:
    """Whether directory `path` holds a PEFT-format adapter (adapter_config.json with a `peft_type`), not
    tuneforge's own adapter files (which have no transformers / PEFT loader)."""
    config = Path(path) / "adapter_config.json"
    return config.is_file() and "peft_type" in json.loads(config.read_text())


def load_adapter(model: Any, path: Path) -> Any:
    """Load a saved peft adapter onto a freshly built base model, in eval mode."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(path)).eval()


class AdapterFiles:
    """save / load / callbacks of a method whose result is a plain peft adapter directory."""

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        return save_adapter(model, tokenizer, out_dir)

    def load(self, model: Any, out_dir: Path) -> Any:
        return load_adapter(model, Path(out_dir) / "adapter")

    def callbacks(self) -> list:
        return []
