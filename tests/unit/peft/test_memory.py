"""The memory estimate's parameter arithmetic (the lecture's 16P and 2P + 16P_LoRA), activations with and
without checkpointing, logits, 4-bit weights, and `tuneforge estimate-memory` on an 8B Llama config.json
without weights (meta device), for every PEFT method."""
from __future__ import annotations

import json
import time

import pytest

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
    # gradients are freed after each optimizer step: they never coexist with the next forward's activations
    assert e.peak == e.weights + e.adam + max(e.activations + e.logits, e.gradients + e.overhead)


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
    from tuneforge.analysis.memory import Dims, activation_bytes, logits_bytes

    dims = Dims(layers=L, hidden=H, kv=H, intermediate=I, vocab=V, heads=2)
    layer = 9 * H + 2 * H + 4 * I
    assert activation_bytes(dims, 2, 16, 4) == 2 * 16 * (L * layer + 3 * H) * 4
    # checkpointed: each layer keeps its input, one layer's activations are recomputed at a time
    assert activation_bytes(dims, 2, 16, 4, checkpointing=True) == 2 * 16 * (L * H + layer + 3 * H) * 4
    # eager attention keeps the fp32 softmax and the probabilities: heads x seq x seq per row and layer
    eager = activation_bytes(dims, 2, 16, 4, attention="eager") - activation_bytes(dims, 2, 16, 4)
    assert eager == L * 2 * 2 * 16 * 16 * (4 + 4)
    # the model's own loss: logits, log-probabilities and their gradient, V per token each (fp32)
    assert logits_bytes(dims, 2, 16, 4, fused=False, chunk_elements=1 << 24, head_trains=False) == 2 * 16 * 3 * V * 4
    fused = logits_bytes(dims, 2, 16, 4, fused=True, chunk_elements=1 << 24, head_trains=False)
    assert fused == 2 * 16 * V * 4 * 2 + 2 * 2 * 16 * H * 4  # one chunk (all 32 rows) + hidden and its gradient


def test_4bit_weights_cost_under_one_byte_with_their_constants():
    from tuneforge.analysis.memory import Quantization

    assert Quantization(4, double_quant=True).bytes_per_weight(4096) == 0.5 + 1 / 64 + 4 / (64 * 256)
    assert Quantization(4, double_quant=False).bytes_per_weight(4096) == 0.5 + 4 / 64
    assert Quantization(8).bytes_per_weight(4096) == 1 + 4 / 4096


# Llama-3-8B's published config.json (no weights anywhere: memory planning reads only this).
LLAMA3_8B = {"architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
             "bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "silu", "hidden_size": 4096,
             "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 8192,
             "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
             "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": 500000.0,
             "tie_word_embeddings": False, "torch_dtype": "bfloat16", "use_cache": True, "vocab_size": 128256}
P_8B = 8_030_261_248  # its published parameter count


@pytest.fixture(scope="module")
def llama8b(tmp_path_factory):
    path = tmp_path_factory.mktemp("llama-3-8b")
    (path / "config.json").write_text(json.dumps(LLAMA3_8B))
    return path


def _estimate(capsys, *args: str) -> tuple[dict, float]:
    from tuneforge.cli import main

    started = time.perf_counter()
    main(["estimate-memory", "--format", "json", *args])
    elapsed = time.perf_counter() - started
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1]), elapsed


def test_8b_from_config_json_alone_full_is_16P_and_qlora_base_under_a_byte(llama8b, capsys):
    model = ["model=hf", f"model.name_or_path={llama8b}", "data.batch_size=1", "data.max_length=1024"]
    full, seconds = _estimate(capsys, *model, "peft=full", "model.dtype=float32", "trainer.precision=bf16-mixed")
    assert full["params"] == full["trainable_params"] == P_8B
    lecture = full["weights_bytes"] + full["gradients_bytes"] + full["optimizer_bytes"]
    assert abs(lecture / (16 * P_8B) - 1) < 0.15
    assert 16 * P_8B <= full["peak_bytes"] < 1.5 * 16 * P_8B
    assert seconds < 60, seconds  # meta device: nothing of the 32 GB is read or allocated
    expected = {"params", "trainable_params", "weights_bytes", "gradients_bytes", "optimizer_bytes",
                "activations_bytes", "logits_bytes", "overhead_bytes", "peak_bytes"}
    assert expected <= full.keys()

    qlora, _ = _estimate(capsys, *model, "peft=qlora")
    quantised = qlora["quantized_params"]
    assert 0.85 * P_8B < quantised < P_8B  # every linear but lm_head (embeddings are never quantised)
    base_4bit = qlora["weights_by_dtype"]["0.516 B/param (quantised)"]
    assert base_4bit / quantised < 0.52  # half a byte + block constants with double quantisation
    assert qlora["weights_bytes"] / qlora["params"] < 1.0  # the whole base (bf16 head, embeddings) too
    lora, _ = _estimate(capsys, *model, "peft=lora")
    assert lora["trainable_params"] == qlora["trainable_params"] > 0
    assert qlora["weights_bytes"] < 0.4 * lora["weights_bytes"]

    on, _ = _estimate(capsys, *model, "peft=lora", "model.gradient_checkpointing=true")
    assert on["activations_bytes"] < 0.25 * lora["activations_bytes"]
    assert on["peak_bytes"] < lora["peak_bytes"]


@pytest.mark.parametrize("method", ["full", "lora", "dora", "ia3", "adalora", "qlora", "freeze", "adapter",
                                    "prefix", "prompt", "ptuning", "ptuning_free"])
def test_every_method_on_the_meta_device(method, tmp_path, capsys):
    small = dict(LLAMA3_8B, hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=1000)
    (tmp_path / "config.json").write_text(json.dumps(small))
    out, _ = _estimate(capsys, "model=hf", f"model.name_or_path={tmp_path}", f"peft={method}",
                       "data.batch_size=2", "data.max_length=128")
    assert 0 < out["trainable_params"] <= out["params"]
    assert out["peak_bytes"] >= out["weights_bytes"] + out["optimizer_bytes"]


def test_estimate_builds_nothing_real(llama8b):
    import torch

    from tuneforge.commands.estimate_memory import meta_model
    from tuneforge.model.hf import HFModel

    model = meta_model(HFModel(str(llama8b)))
    assert {p.device.type for p in model.parameters()} == {"meta"}
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}  # dtype auto: config.json's


def test_cli_prints_table(capsys):
    from tuneforge.cli import main

    main(["estimate-memory", "model=tiny", "peft=lora", "data.batch_size=4", "data.max_length=32", "data.packing=false"])
    out = capsys.readouterr().out
    assert "2P + 16P_L" in out and "estimated peak" in out and "batch 4 x 32" in out
