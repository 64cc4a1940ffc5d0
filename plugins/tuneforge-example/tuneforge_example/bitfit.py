"""PEFT method `bitfit`: BitFit (Ben Zaken et al., 2022), only the bias terms train.

Llama-style models have no biases in their linear layers; there BitFit adds a zero-initialised bias to
each target layer first (so the model computes exactly what it did before training) and trains those.
The saved artefact is the biases alone (a few KB), plus a JSON naming the layers whose bias was added.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register

if TYPE_CHECKING:  # torch is imported lazily: `tuneforge ls` must not pay for it
    import torch

DIR, WEIGHTS, CONFIG = "bitfit", "biases.safetensors", "bitfit_config.json"


def _matches(name: str, patterns: list[str]) -> bool:
    return any(name == p or name.endswith("." + p) for p in patterns)


@register("peft", "bitfit")
class BitFit:
    """BitFit: only bias terms train; target linear layers without a bias get a zero-initialised one
    (`add_missing`). `target_modules`: all-linear or module-name suffixes (e.g. [q_proj, v_proj]);
    `exclude`: layers left alone (lm_head: tied to the embeddings in small models)."""

    def __init__(self, target_modules: str | list[str] = "all-linear", add_missing: bool = True,
                 exclude: list[str] = ["lm_head"]):  # noqa: B006
        if isinstance(target_modules, str) and target_modules != "all-linear":
            raise ConfigError(ConfigIssue("peft.target_modules", "expected all-linear or a list of module names"))
        self.target_modules, self.add_missing, self.exclude = target_modules, add_missing, list(exclude)
        self.added: list[str] = []

    def settings(self) -> dict[str, Any]:
        return {"target_modules": self.target_modules, "add_missing": self.add_missing, "exclude": self.exclude}

    def targets(self, model: Any) -> list[tuple[str, Any]]:
        import torch

        found = [(name, m) for name, m in model.named_modules()
                 if isinstance(m, torch.nn.Linear) and not _matches(name, self.exclude)
                 and (self.target_modules == "all-linear" or _matches(name, list(self.target_modules)))]
        if not found:
            raise ConfigError(ConfigIssue("peft.target_modules", f"{self.target_modules!r} matches no linear layer"))
        return found

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        import torch

        model.requires_grad_(False)
        self.added = []
        for name, module in self.targets(model):
            if module.bias is None and self.add_missing:
                w = module.weight
                module.bias = torch.nn.Parameter(torch.zeros(module.out_features, dtype=w.dtype, device=w.device))
                self.added.append(name)
        trained = self.trained(model)
        if not trained:
            raise ConfigError(ConfigIssue("peft.add_missing", "the target layers have no bias to train "
                                                              "(set add_missing: true)"))
        for p in trained.values():
            p.requires_grad_(True)
        return model

    def trained(self, model: Any) -> dict[str, torch.nn.Parameter]:
        """The bias parameters of the target layers, by parameter name."""
        return {f"{name}.bias" if name else "bias": m.bias for name, m in self.targets(model) if m.bias is not None}

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        from safetensors.torch import save_file

        path = Path(out_dir) / DIR
        path.mkdir(parents=True, exist_ok=True)
        tensors = {n: p.detach().cpu().contiguous() for n, p in self.trained(model).items()}
        save_file(tensors, str(path / WEIGHTS))
        (path / CONFIG).write_text(json.dumps({**self.settings(), "added": self.added,
                                               "parameters": sorted(tensors)}, indent=2))
        if tokenizer is not None:
            tokenizer.save_pretrained(path)
        return {"biases": str(path / WEIGHTS)}

    def load(self, model: Any, out_dir: Path) -> Any:
        """Add the same biases to a freshly built base model (with the saved settings), then load them."""
        import torch
        from safetensors.torch import load_file

        path = Path(out_dir) / DIR
        saved = json.loads((path / CONFIG).read_text())
        method = BitFit(saved["target_modules"], saved["add_missing"], saved["exclude"])
        method.apply(model)
        if sorted(method.added) != sorted(saved["added"]):
            raise ValueError(f"{path}: the model's layers differ from the trained one's "
                             f"(added biases {method.added[:3]}... vs {saved['added'][:3]}...)")
        params = method.trained(model)
        tensors = load_file(str(path / WEIGHTS))
        if set(tensors) != set(params):
            raise ValueError(f"{path}: saved biases {sorted(set(tensors) ^ set(params))[:5]} do not match the model")
        with torch.no_grad():
            for name, value in tensors.items():
                params[name].copy_(value)
        return model.eval()

    def callbacks(self) -> list:
        return []
