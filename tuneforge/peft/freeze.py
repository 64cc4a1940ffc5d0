"""Partial fine-tuning: only chosen decoder layers / modules / name patterns train, the rest is frozen."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register

LAYER_INDEX = re.compile(r"\.(?:layers|h|layer|blocks)\.(\d+)\.")


@register("peft", "freeze")
class Freeze:
    """Trains the parameters of the decoder layers in `layers` (negative = from the end) whose names
    contain one of `modules` (empty: the whole layer), plus every parameter matching a regex in
    `patterns` (e.g. `lm_head`, `model.norm`); saves only the trained tensors."""

    def __init__(self, layers: list[int] = (-1,), modules: list[str] = (), patterns: list[str] = ()):
        self.layers, self.modules, self.patterns = list(layers), list(modules), list(patterns)
        for i, p in enumerate(self.patterns):
            try:
                re.compile(p)
            except re.error as err:
                raise ConfigError(ConfigIssue(f"peft.patterns[{i}]", f"invalid regex {p!r}: {err}")) from None

    def selected(self, model: Any) -> list[str]:
        """Names of the parameters that train."""
        n_layers = int(getattr(model.config, "num_hidden_layers", 0))
        wanted = set()
        for i in self.layers:
            if not -n_layers <= i < n_layers:
                raise ConfigError(ConfigIssue("peft.layers", f"layer {i} out of range for {n_layers} layers"))
            wanted.add(i % n_layers)
        names = []
        for name, _ in model.named_parameters():
            m = LAYER_INDEX.search(name)
            in_layer = m is not None and int(m.group(1)) in wanted and (
                not self.modules or any(mod in name for mod in self.modules))
            if in_layer or any(re.search(p, name) for p in self.patterns):
                names.append(name)
        if not names:
            raise ConfigError(ConfigIssue("peft", f"freeze selects no parameter (layers={self.layers}, "
                                                  f"modules={self.modules}, patterns={self.patterns})"))
        return names

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        chosen = set(self.selected(model))
        for name, p in model.named_parameters():
            p.requires_grad_(name in chosen)
        return model

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        from safetensors.torch import save_file

        path = Path(out_dir) / "freeze"
        path.mkdir(parents=True, exist_ok=True)
        tensors = {n: p.detach().cpu().clone().contiguous() for n, p in model.named_parameters() if p.requires_grad}
        save_file(tensors, str(path / "trained.safetensors"))
        (path / "freeze_config.json").write_text(json.dumps(
            {"layers": self.layers, "modules": self.modules, "patterns": self.patterns,
             "parameters": sorted(tensors)}, indent=2))
        from tuneforge.peft._hf import save_tokenizer

        save_tokenizer(tokenizer, path, model)
        return {"trained": str(path / "trained.safetensors")}

    def load(self, model: Any, out_dir: Path) -> Any:
        from safetensors.torch import load_file

        tensors = load_file(str(Path(out_dir) / "freeze" / "trained.safetensors"))
        own = dict(model.named_parameters())
        unknown = sorted(set(tensors) - set(own))
        if unknown:
            raise ValueError(f"saved tensors not in the model: {unknown[:5]}")
        import torch

        with torch.no_grad():
            for name, value in tensors.items():
                own[name].copy_(value)
        return model.eval()

    def callbacks(self) -> list:
        return []
