"""`save_adapter` (every method that saves a PEFT adapter, LoRA included) saves a PiSSA adapter as a LoRA on the
original base, and `is_peft_adapter` tells a PEFT adapter directory from tuneforge's own adapter files."""
from __future__ import annotations

import json

import torch

from tests.conftest import make_tiny
from tuneforge import binding
from tuneforge.peft._hf import is_peft_adapter, load_adapter, save_adapter
from tuneforge.reports.model_card import library_of


def test_save_adapter_saves_pissa_as_a_lora_on_the_original_base(tmp_path):
    model, tokenizer = make_tiny(seed=1)
    model = binding.build("peft", {"name": "lora", "r": 4, "init": "pissa"}, "peft").apply(model)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(2)) * 0.05)
    saved = save_adapter(model, tokenizer, tmp_path)
    assert saved == {"adapter": str(tmp_path / "adapter"), "base": str(tmp_path / "base")}
    assert json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())["r"] == 8  # converted: 2r
    ids = torch.tensor([[3, 9, 27, 81, 5]])
    reloaded = load_adapter(make_tiny(seed=1)[0], tmp_path / "adapter")  # the original base, not W_res
    with torch.no_grad():
        assert torch.allclose(reloaded(input_ids=ids).logits, model.eval()(input_ids=ids).logits, atol=1e-4)


def test_is_peft_adapter_tells_peft_from_tuneforge_adapter_files(tmp_path):
    peft_dir, own_dir, model_dir = (tmp_path / n for n in ("peft", "own", "model"))
    for d in (peft_dir, own_dir, model_dir):
        d.mkdir()
    (peft_dir / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4}))
    (own_dir / "adapter_config.json").write_text(json.dumps({"method": "adapter", "bottleneck": 8}))
    (model_dir / "config.json").write_text("{}")
    assert [is_peft_adapter(d) for d in (peft_dir, own_dir, model_dir)] == [True, False, False]
    assert [library_of(d) for d in (peft_dir, own_dir, model_dir)] == ["peft", "tuneforge", "transformers"]
