"""`tuneforge estimate-memory [train overrides ...]`: training memory for a train config, term by term
(weights, gradients, optimizer states, activations), from tuneforge/analysis/memory.py's model of it.
The model is built on the meta device where the PEFT method allows it: no memory used, no weights loaded."""
from __future__ import annotations

from typing import Any

from tuneforge.analysis.memory import estimate, table
from tuneforge.config.assemble import assemble


def build_for_estimate(cfg: Any) -> tuple[Any, str, Any]:
    """(model with the method applied, method name, method) for a composed train config; the model is
    built on the meta device when the method allows it (no memory, no weights loaded)."""
    import torch

    parts = assemble("train", cfg)
    method, name = parts.peft, cfg.peft.name
    if name == "qlora":  # quantisation needs real weights: count LoRA on meta, mark the base as 4-bit
        from tuneforge.peft.lora import Lora

        with torch.device("meta"):
            model, _ = parts.model.build()
        base_linear = sum(m.weight.numel() for n, m in model.named_modules()
                          if type(m) is torch.nn.Linear and not n.endswith("lm_head"))
        model = Lora(r=method.r, target_modules=method.target_modules).apply(model)
        model.tuneforge_quantized_params = base_linear
        return model, name, method
    try:
        with torch.device("meta"):
            model, _ = parts.model.build()
            return method.apply(model), name, method
    except Exception:  # noqa: BLE001 (a method or loader that needs real tensors)
        model, _ = parts.model.build()
        return method.apply(model), name, method


def main(argv: list[str]) -> None:
    from tuneforge.config.app import compose

    cfg = compose("train", [*argv, "run_dir=."] if not any(a.startswith("run_dir=") for a in argv) else argv)
    model, name, method = build_for_estimate(cfg)
    e = estimate(model, name, int(cfg.data.batch_size), int(cfg.data.max_length),
                 str(cfg.trainer.get("precision", "32-true")), float(getattr(method, "dropout", 0.0) or 0.0))
    print(table(e))
