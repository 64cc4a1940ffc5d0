"""Houlsby bottleneck adapters: h <- h + sigma(h W_d) W_u after the attention and the feed-forward
sublayer of every decoder layer, before the residual add.

Ours because peft has none, and AdapterHub's `adapters` (1.3) pins transformers 4.57, so it cannot share
an environment with transformers 5."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from tuneforge.errors import TuneforgeError
from tuneforge.registry import register

CONFIG_FILE = "adapter_config.json"
WEIGHTS_FILE = "adapters.safetensors"


def decoder_layers(model: Any) -> Any:
    """The decoder layers of a HF causal LM (`model.model.layers` for Llama-like models)."""
    inner = getattr(model, "model", None)
    layers = getattr(inner, "layers", None)
    if layers is None and hasattr(model, "get_decoder"):
        try:
            layers = getattr(model.get_decoder(), "layers", None)
        except Exception:  # noqa: BLE001 (architectures without a decoder accessor)
            layers = None
    if layers is None:
        raise TuneforgeError(f"peft=adapter: cannot find the decoder layers of {type(model).__name__} "
                             "(expected `model.model.layers`, as in Llama-like models)")
    return layers


@register("peft", "adapter")
class Adapter:
    """Bottleneck adapters (down-projection to `r`, non-linearity, up-projection initialised to zero so
    that the model starts as the base model, residual) after `attention_module` and `mlp_module` of
    each decoder layer; only the adapters train. Saved as safetensors + JSON, loaded by our loader."""

    def __init__(self, r: int = 16, activation: Literal["gelu", "relu", "silu", "tanh"] = "gelu",
                 positions: list[str] = ("attention", "mlp"), dropout: float = 0.0,
                 attention_module: str = "self_attn", mlp_module: str = "mlp"):
        unknown = [p for p in positions if p not in ("attention", "mlp")]
        if unknown or not positions:
            from tuneforge.errors import ConfigError, ConfigIssue

            raise ConfigError(ConfigIssue("peft.positions", f"expected a non-empty subset of [attention, mlp], "
                                                            f"got {list(positions)}"))
        self.r, self.activation, self.positions, self.dropout = r, activation, list(positions), dropout
        self.attention_module, self.mlp_module = attention_module, mlp_module

    def config(self) -> dict[str, Any]:
        return {"r": self.r, "activation": self.activation, "positions": self.positions,
                "dropout": self.dropout, "attention_module": self.attention_module,
                "mlp_module": self.mlp_module}

    def apply(self, model: Any, tokenizer: Any = None) -> Any:
        from tuneforge.peft._bottleneck import add_adapters

        for p in model.parameters():
            p.requires_grad_(False)
        subs = {"attention": self.attention_module, "mlp": self.mlp_module}
        add_adapters(model, decoder_layers(model), int(model.config.hidden_size), self.r, self.activation,
                     self.dropout, {pos: subs[pos] for pos in self.positions})
        return model

    def save(self, model: Any, tokenizer: Any, out_dir: Path) -> dict[str, str]:
        from safetensors.torch import save_file

        path = Path(out_dir) / "adapter"
        path.mkdir(parents=True, exist_ok=True)
        tensors = {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if "_adapter." in n}
        save_file(tensors, str(path / WEIGHTS_FILE))
        (path / CONFIG_FILE).write_text(json.dumps({"method": "houlsby", **self.config()}, indent=2))
        from tuneforge.peft._hf import save_tokenizer

        save_tokenizer(tokenizer, path, model)
        return {"adapter": str(path)}

    def load(self, model: Any, out_dir: Path) -> Any:
        return load_adapters(model, Path(out_dir) / "adapter")

    def callbacks(self) -> list:
        return []


def load_adapters(model: Any, path: Path) -> Any:
    """Add the adapters described in `path/adapter_config.json` to `model` and load their weights."""
    from safetensors.torch import load_file

    config = json.loads((Path(path) / CONFIG_FILE).read_text())
    if config.pop("method", None) != "houlsby":
        raise TuneforgeError(f"{path}: not a tuneforge Houlsby adapter directory")
    model = Adapter(**config).apply(model)
    missing, unexpected = model.load_state_dict(load_file(str(Path(path) / WEIGHTS_FILE)), strict=False)
    missing = [n for n in missing if "_adapter." in n]
    if missing or unexpected:
        raise TuneforgeError(f"{path}: adapter weights do not fit the model (missing {missing[:3]}, "
                             f"unexpected {unexpected[:3]})")
    return model.eval()
