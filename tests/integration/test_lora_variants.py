"""LoRA variants through `tuneforge train`'s config: a PiSSA (+ rsLoRA, LoRA+, NEFTune) run saves a plain
LoRA adapter (rank 2r) that applies to the ORIGINAL base (a freshly built one, left unchanged by loading) and
gives the trained model's logits. (peft would also reload an unconverted PiSSA adapter by redoing the SVD on
the base, but nothing outside peft does: merging tools and servers add B A to the original weights.)"""
from __future__ import annotations

import json

import lightning.pytorch as pl
import pytest
import torch

import tuneforge.peft.lora as lora_mod
from tests.unit.peft._helpers import small_cfg
from tuneforge import binding
from tuneforge.commands.train import train


@pytest.mark.parametrize("init", ["pissa"])
def test_pissa_adapter_on_a_fresh_base_gives_the_trained_logits(compose, tmp_path, monkeypatch, init):
    from peft import AutoPeftModelForCausalLM, PeftModel

    cfg = small_cfg(compose, tmp_path, "peft=lora", f"peft.init={init}", "peft.r=4", "peft.dropout=0.0",
                    "peft.rslora=true", "peft.loraplus_lr_ratio=16", "callbacks=neftune", "callbacks.progress=null",
                    "trainer.max_steps=4", "optimizer.lr=1e-2")
    captured = {}
    original_save = lora_mod.Lora.save

    def save_and_capture(self, model, tokenizer, out_dir):
        ids = torch.tensor([tokenizer("reverse abc\n", add_special_tokens=False)["input_ids"]])
        model.eval()
        with torch.no_grad():
            captured.update(ids=ids, trained=model(input_ids=ids).logits)
            with model.disable_adapter():  # PiSSA's residual base W_res, not the base the run started from
                captured["residual"] = model(input_ids=ids).logits
        captured["hooks"] = len(model.get_input_embeddings()._forward_hooks)
        return original_save(self, model, tokenizer, out_dir)

    monkeypatch.setattr(lora_mod.Lora, "save", save_and_capture)
    train(cfg)
    assert captured["hooks"] == 0  # NEFTune's hook went with the fit

    pl.seed_everything(cfg.seed, verbose=False)  # train() builds the base model right after seeding
    base, _ = binding.build("model", cfg.model, "model").build()
    with torch.no_grad():
        original = base(input_ids=captured["ids"]).logits
        assert not torch.allclose(original, captured["residual"], atol=1e-3)  # the run trained on another base
        assert not torch.allclose(original, captured["trained"], atol=1e-3)  # and training changed the model
        reloaded = PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
        assert torch.allclose(reloaded(input_ids=captured["ids"]).logits, captured["trained"], atol=1e-5)
        with reloaded.disable_adapter():  # a plain LoRA: loading it left the original base as it was
            assert torch.equal(reloaded(input_ids=captured["ids"]).logits, original)
        portable = AutoPeftModelForCausalLM.from_pretrained(tmp_path / "adapter").eval()  # on the saved run/base
        assert torch.allclose(portable(input_ids=captured["ids"]).logits, captured["trained"], atol=1e-5)
    saved = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert saved["r"] == 8 and saved["init_lora_weights"] is True and saved["use_rslora"] is True
