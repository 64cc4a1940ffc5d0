"""Every PEFT method trains a few real steps through `tuneforge.commands.train.train`, saves something loadable
with its own loader, and the reloaded model gives the same outputs as the trained one."""
from __future__ import annotations

import pytest

from tests.unit.peft._helpers import small_cfg

METHODS = ["full", "lora", "dora", "ia3", "adalora", "qlora", "freeze", "adapter", "prefix", "prompt",
           "ptuning"]


def _logits(model, ids):
    import torch

    with torch.no_grad():
        return model(input_ids=ids).logits[:, -ids.shape[1]:].float()


@pytest.mark.parametrize("method", METHODS)
def test_train_save_reload_same_outputs(compose, tmp_path, monkeypatch, method):
    import lightning.pytorch as pl
    import torch

    from tuneforge.config.assemble import assemble
    from tuneforge.commands.train import train

    cfg = small_cfg(compose, tmp_path, f"peft={method}", "trainer.max_steps=3", "optimizer.lr=1e-2",
                     "scheduler=constant", "trainer.num_sanity_val_steps=1")  # a validation pass first
    method_cls = type(assemble("train", cfg).peft)
    trained = {}
    original_save = method_cls.save

    def recording_save(self, model, tokenizer, out_dir):
        trained["model"] = model
        return original_save(self, model, tokenizer, out_dir)

    monkeypatch.setattr(method_cls, "save", recording_save)
    metrics = train(cfg)
    assert metrics["trainer/global_step"] == 3
    assert 0 < metrics["params/trainable"] <= metrics["params/total"]

    ids = torch.randint(3, 250, (2, 12), generator=torch.Generator().manual_seed(0))
    model = trained["model"].eval()
    expected = _logits(model, ids)

    parts = assemble("train", cfg)
    from tuneforge.model.load import build_model

    pl.seed_everything(cfg.seed, verbose=False)  # the frozen base is rebuilt identically
    base, _ = build_model(parts.model, parts.peft)
    base_logits = _logits(base, ids)
    reloaded = parts.peft.load(base, tmp_path)
    got = _logits(reloaded, ids)
    assert torch.allclose(got, expected, atol=1e-5, rtol=1e-4), (got - expected).abs().max()
    assert not torch.allclose(base_logits, expected, atol=1e-4), "training changed nothing"
