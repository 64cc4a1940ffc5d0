"""The memory estimate's parameter arithmetic (the lecture's 16P and 2P + 16P_LoRA) and activations."""
from __future__ import annotations

from tests.conftest import make_tiny

H, I, L, V, R = 32, 64, 2, 259, 4


def expected_params() -> int:
    per_layer = 4 * H * H + 3 * H * I + 2 * H
    return V * H + L * per_layer + H  # tied lm_head counted once


def test_full_fine_tuning_is_16P():
    from tuneforge.analysis.memory import estimate
    from tuneforge.peft.full import FullFineTuning

    model = FullFineTuning().apply(make_tiny(hidden_size=H, num_layers=L)[0])
    e = estimate(model, "full", batch=2, seq=16)
    p = expected_params()
    assert e.total_params == e.trainable == p
    assert e.lecture_total == 16 * p
    assert (e.weights, e.gradients, e.adam) == (4 * p, 4 * p, 8 * p)  # fp32: 16P in all
    assert e.peak == e.weights + e.adam + max(e.activations, e.gradients)


def test_lora_is_2P_plus_16P_lora():
    from tuneforge.analysis.memory import estimate
    from tuneforge.peft.lora import Lora

    model = Lora(r=R, dropout=0.0).apply(make_tiny(hidden_size=H, num_layers=L)[0])
    e = estimate(model, "lora", batch=2, seq=16)
    p_lora = L * (4 * R * (H + H) + 2 * R * (H + I) + R * (I + H))
    p = expected_params() + p_lora
    assert (e.total_params, e.trainable) == (p, p_lora)
    assert e.lecture_total == 2 * p + 16 * p_lora
    assert (e.gradients, e.adam) == (4 * p_lora, 8 * p_lora)


def test_activation_formula_by_hand():
    from tuneforge.analysis.memory import Dims, activation_bytes

    dims = Dims(layers=L, hidden=H, kv=H, intermediate=I, vocab=V)
    per_token = L * (9 * H + 2 * H + 4 * I) + 3 * H + 3 * V
    assert activation_bytes(dims, 2, 16, 4) == 2 * 16 * per_token * 4


def test_cli_prints_table(capsys):
    from tuneforge.cli import main

    main(["estimate-memory", "model=tiny", "peft=lora", "data.batch_size=4", "data.max_length=32"])
    out = capsys.readouterr().out
    assert "2P + 16P_L" in out and "estimated peak" in out and "batch 4 x 32" in out
