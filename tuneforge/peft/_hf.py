"""Helpers shared by the methods that peft implements (save / load of PEFT-format adapters)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any


def quiet_bitsandbytes() -> None:
    """Silence bitsandbytes' "Failed to load CPU gemm_4bit_forward from kernels-community" log: harmless
(the CPU path works without it), and the fix it hints at, installing `kernels`, would fetch from a hub."""
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)


def save_adapter(model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
    """Save a peft model's adapter (and the tokenizer) under `out_dir/adapter`."""
    adapter = Path(out_dir) / "adapter"
    model.save_pretrained(adapter)
    tokenizer.save_pretrained(adapter)
    return {"adapter": str(adapter)}


def load_adapter(model: Any, path: Path) -> Any:
    """Load a saved peft adapter onto a freshly built base model, in eval mode."""
    quiet_bitsandbytes()
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
