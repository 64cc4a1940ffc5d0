"""The PEFT-method protocol."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from lightning.pytorch import Callback


class PeftMethod(Protocol):
    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        """Wrap or modify `model` so that only this method's parameters train; return it. Methods that
        need the tokenizer (prompt init from text, ptuning_free's placeholder token) use `tokenizer`."""
        ...

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        """Save the trained result under `out_dir`; return {artefact name: path}."""
        ...

    def load(self, model: Any, out_dir: Path) -> Any:
        """Rebuild the trained model from what `save` wrote under `out_dir`, given a freshly built
        base `model` (same model config and seed as the trained run); returns it in eval mode."""
        ...

    def callbacks(self) -> list[Callback]:
        """Lightning callbacks the method needs during training (e.g. AdaLoRA's allocator)."""
        ...


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())
