"""Export a trained run as one directory that plain transformers loads: the adapter merged into its base
(lora, dora, adalora, ia3; qlora and 8-bit LoRA onto their dequantised base, which is what they trained
against), a full or freeze run as its complete model; methods that cannot be merged are exported as they are
(prefix / prompt / P-tuning as a PEFT adapter, tuneforge's own adapter and ptuning_free formats as files that
only tuneforge loads), each said in one line."""
from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneforge.errors import TuneforgeError
from tuneforge.peft._hf import dequantize_linears, is_peft_adapter, save_tokenizer

#: Where a run keeps what its method saved (the first that exists holds the saved tokenizer).
SAVED_DIRS = ("adapter", "model", "freeze")


@dataclass
class Exported:
    out: Path
    kind: str  # merged | model | peft_adapter | tuneforge_adapter
    message: str  # one line for the user
    model: Any = None  # the exported model, when it is a transformers model


def saved_dir(run_dir: Path) -> Path:
    """The directory of a run that holds its saved tokenizer (adapter/, model/ or freeze/)."""
    for name in SAVED_DIRS:
        path = Path(run_dir) / name
        if (path / "tokenizer_config.json").is_file():
            return path
    raise TuneforgeError(f"{run_dir} holds no trained result ({', '.join(SAVED_DIRS)}/ with a tokenizer): "
                         "is it a finished `tuneforge train` run directory?")


def export_run(run_dir: Path, out: Path, build_base: Callable[[], Any], method: Any, method_name: str,
               tokenizer: Any) -> Exported:
    """Export the run in `run_dir` to `out`. `build_base()` builds the run's base model in full precision
    exactly as training did (same config and seed); `tokenizer` is the run's saved one (its template)."""
    run_dir, out = Path(run_dir), Path(out)
    adapter = run_dir / "adapter"
    peft_format = is_peft_adapter(adapter)
    if adapter.is_dir() and not peft_format:
        _copy(adapter, out)
        save_tokenizer(tokenizer, out)
        return Exported(out, "tuneforge_adapter", f"peft={method_name} cannot be merged into the weights and has "
                        f"no transformers / PEFT loader: exported as tuneforge's adapter files to {out} (load them "
                        f"with `tuneforge chat run={run_dir}` or `tuneforge eval run={run_dir}`)")
    base = build_base()
    quantize = getattr(method, "quantize", None)  # qlora (4-bit), lora load_in_8bit: the base they trained on
    if peft_format and quantize is not None:
        base = dequantize_linears(quantize(base))
    if not peft_format:  # full, freeze: the method's own loader gives the complete model
        model = method.load(base, run_dir)
        return _save_model(model, tokenizer, out, "model", f"peft={method_name}: exported the full model to {out}")
    from peft import PeftModel

    model = PeftModel.from_pretrained(base, str(adapter)).eval()
    if model.peft_config[model.active_adapter].is_prompt_learning:
        _copy(adapter, out)
        save_tokenizer(tokenizer, out, model)
        return Exported(out, "peft_adapter", f"peft={method_name} cannot be merged (its virtual tokens are not "
                        f"weights): exported as a PEFT adapter to {out}; load it with "
                        "peft.AutoPeftModelForCausalLM (base: "
                        f"{model.peft_config[model.active_adapter].base_model_name_or_path})")
    merged = model.merge_and_unload(safe_merge=True)
    what = "onto its dequantised base " if quantize is not None and _was_quantized(method) else ""
    return _save_model(merged, tokenizer, out, "merged",
                       f"peft={method_name}: merged {what}into a plain transformers model at {out}")


def _was_quantized(method: Any) -> bool:
    return bool(getattr(method, "quant", None) or getattr(method, "load_in_8bit", False))


def _save_model(model: Any, tokenizer: Any, out: Path, kind: str, message: str) -> Exported:
    out.mkdir(parents=True, exist_ok=True)
    for attr in ("tuneforge_quantized",):  # marks of our own, not part of the model
        model.__dict__.pop(attr, None)
    model.save_pretrained(out)
    save_tokenizer(tokenizer, out, model)
    return Exported(out, kind, message, model)


def _copy(src: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.is_file() and item.name != "README.md":
            shutil.copy2(item, out / item.name)
