"""LoRA: the saved adapter reloads with PeftModel.from_pretrained onto the same base, and the merged
model with AutoModelForCausalLM, both giving the trained model's logits."""
from __future__ import annotations

import lightning.pytorch as pl
import torch
from omegaconf import open_dict

import tuneforge.peft.lora as lora_mod
from tuneforge import binding
from tuneforge.commands.train import train

MODEL = ["model.hidden_size=32", "model.num_layers=2", "model.num_heads=2"]


def test_lora_save_load_merge_same_logits(compose, tmp_path, monkeypatch):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    cfg = compose("train", ["peft=lora", "peft.merge=true", "peft.dropout=0.0", "trainer.max_steps=5",
                            "optimizer.lr=1e-2", "eval.enabled=false", "callbacks=none", "logger=none",
                            "data.num_train=128", *MODEL])
    with open_dict(cfg):
        cfg.run_dir = str(tmp_path)
    captured = {}
    original_save = lora_mod.Lora.save

    def save_and_capture(self, model, tokenizer, out_dir):
        captured["ids"] = torch.tensor([tokenizer("reverse abc\n", add_special_tokens=False)["input_ids"]])
        model.eval()
        with torch.no_grad():
            captured["trained"] = model(input_ids=captured["ids"]).logits
            with model.disable_adapter():
                captured["base"] = model(input_ids=captured["ids"]).logits
        return original_save(self, model, tokenizer, out_dir)

    monkeypatch.setattr(lora_mod.Lora, "save", save_and_capture)
    train(cfg)
    ids, trained = captured["ids"], captured["trained"]
    assert not torch.allclose(trained, captured["base"], atol=1e-4)  # the adapter changed the outputs

    pl.seed_everything(cfg.seed, verbose=False)  # train() builds the base model right after seeding
    base, _ = binding.build("model", cfg.model, "model").build()
    reloaded = PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged").eval()
    with torch.no_grad():
        assert torch.allclose(reloaded(input_ids=ids).logits, trained, atol=1e-5)
        assert torch.allclose(merged(input_ids=ids).logits, trained, atol=1e-5)
