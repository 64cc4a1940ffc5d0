"""Prompt tuning's text initialisation, P-tuning's encoders, prefix tuning's MLP reparameterisation."""
from __future__ import annotations

import pytest

from tests.conftest import make_tiny


def test_prompt_init_from_text(byte_tokenizer):
    import torch

    from tuneforge.peft.prompt import PromptTuning

    model, _ = make_tiny()
    peft_model = PromptTuning(num_virtual_tokens=5, init_text="ab").apply(model, byte_tokenizer)
    ids = byte_tokenizer("ab", add_special_tokens=False)["input_ids"]
    expected = model.get_input_embeddings()(torch.tensor((ids * 3)[:5]))
    got = peft_model.prompt_encoder["default"].embedding.weight
    assert torch.equal(got, expected)


@pytest.mark.parametrize("encoder", ["MLP", "LSTM"])
def test_ptuning_encoder_trains(encoder):
    from tuneforge.peft.ptuning import PTuning

    model = PTuning(num_virtual_tokens=3, encoder=encoder, encoder_hidden_size=8).apply(make_tiny()[0])
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert any(("lstm" if encoder == "LSTM" else "mlp") in n for n in names)
    assert all("prompt_encoder" in n for n in names)


def test_prefix_projection_is_an_mlp():
    from tuneforge.peft.prefix import Prefix

    model = Prefix(num_virtual_tokens=3, encoder_hidden_size=8).apply(make_tiny()[0])
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert any("transform" in n for n in names), names
