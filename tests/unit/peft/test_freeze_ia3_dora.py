"""freeze selects by layer index / module / pattern; ia3 and dora train the expected tensors."""
from __future__ import annotations

import pytest

from tests.conftest import make_tiny


def trainable(model):
    return [n for n, p in model.named_parameters() if p.requires_grad]


def test_freeze_last_layer_mlp_and_pattern():
    from tuneforge.peft.freeze import Freeze

    model, _ = make_tiny()
    names = trainable(Freeze(layers=[-1], modules=["mlp"], patterns=[r"^model\.norm\."]).apply(model))
    assert sorted(names) == ["model.layers.1.mlp.down_proj.weight", "model.layers.1.mlp.gate_proj.weight",
                             "model.layers.1.mlp.up_proj.weight", "model.norm.weight"]


def test_freeze_whole_layers_and_errors():
    from tuneforge.errors import ConfigError
    from tuneforge.peft.freeze import Freeze

    model, _ = make_tiny()
    names = trainable(Freeze(layers=[0]).apply(model))
    assert names and all(n.startswith("model.layers.0.") for n in names) and len(names) == 9
    with pytest.raises(ConfigError, match="out of range"):
        Freeze(layers=[2]).apply(model)
    with pytest.raises(ConfigError, match="selects no parameter"):
        Freeze(layers=[], patterns=["nothing_like_this"]).apply(model)
    with pytest.raises(ConfigError, match="invalid regex"):
        Freeze(patterns=["("])


def test_ia3_and_dora_trainable_tensors():
    from tuneforge.peft.dora import Dora
    from tuneforge.peft.ia3 import IA3

    names = trainable(IA3().apply(make_tiny()[0]))
    assert len(names) == 2 * 3 and all("ia3_l" in n for n in names)
    names = trainable(Dora(r=2).apply(make_tiny()[0]))
    assert sum("lora_magnitude_vector" in n for n in names) == 14
