"""The bottleneck module and its attachment to decoder sublayers through forward hooks (base
parameter names stay unchanged; adapters live beside the sublayer as `<sub>_adapter`)."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh}


class Bottleneck(nn.Module):
    """h + up(sigma(down(h))), with `up` initialised to zero (exact identity at init)."""

    def __init__(self, hidden_size: int, r: int, activation: str = "gelu", dropout: float = 0.0):
        super().__init__()
        self.down = nn.Linear(hidden_size, r)
        self.act = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout)
        self.up = nn.Linear(r, hidden_size)
        nn.init.normal_(self.down.weight, std=1e-2)
        nn.init.zeros_(self.down.bias)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.up(self.dropout(self.act(self.down(h.to(self.down.weight.dtype))))).to(h.dtype)


def _hook(adapter: Bottleneck):
    def hook(module: nn.Module, args: Any, output: Any) -> Any:
        if isinstance(output, tuple):
            return (adapter(output[0]), *output[1:])
        return adapter(output)

    return hook


def add_adapters(model: nn.Module, layers: Any, hidden_size: int, r: int, activation: str, dropout: float,
                 sublayers: dict[str, str]) -> None:
    """For each decoder layer and each sublayer attribute in `sublayers` ({position: attribute}),
    add `<attribute>_adapter` to the layer and a forward hook applying it to the sublayer's output."""
    device = next(model.parameters()).device
    for i, layer in enumerate(layers):
        for attr in sublayers.values():
            sub = getattr(layer, attr, None)
            if sub is None:
                from tuneforge.errors import TuneforgeError

                raise TuneforgeError(f"peft=adapter: decoder layer {i} ({type(layer).__name__}) has no "
                                     f"`{attr}` sublayer; set peft.attention_module / peft.mlp_module")
            adapter = Bottleneck(hidden_size, r, activation, dropout).to(device)
            layer.add_module(f"{attr}_adapter", adapter)
            sub.register_forward_hook(_hook(adapter))
