"""`model.gradient_checkpointing=true` through `tuneforge train`: a run stopped halfway and resumed ends with
the same weights as an uninterrupted one, and as one trained without checkpointing."""
from __future__ import annotations

import json

import torch
from safetensors.torch import load_file

from tests.unit.peft._helpers import train_small

ARGS = ["peft=lora", "peft.dropout=0.1", "checkpoint.every_n_steps=2", "optimizer.lr=1e-2", "scheduler=constant"]


def adapter(run_dir) -> dict[str, torch.Tensor]:
    return load_file(run_dir / "adapter" / "adapter_model.safetensors")


def test_resume_with_checkpointing_matches_uninterrupted_and_unchecked(compose, tmp_path):
    plain = train_small(compose, tmp_path / "plain", *ARGS, "trainer.max_steps=6")
    whole = train_small(compose, tmp_path / "whole", *ARGS, "model.gradient_checkpointing=true", "trainer.max_steps=6")
    train_small(compose, tmp_path / "split", *ARGS, "model.gradient_checkpointing=true", "trainer.max_steps=3")
    resumed = train_small(compose, tmp_path / "split", *ARGS, "model.gradient_checkpointing=true",
                          "trainer.max_steps=6", "resume=auto")
    assert whole["trainer/global_step"] == resumed["trainer/global_step"] == plain["trainer/global_step"] == 6
    a, b, c = adapter(tmp_path / "whole"), adapter(tmp_path / "split"), adapter(tmp_path / "plain")
    assert a.keys() == b.keys() == c.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6), key  # resume is exact under checkpointing
        assert torch.allclose(a[key], c[key], atol=1e-5), key  # and checkpointing changes no number
    history = json.loads((tmp_path / "split" / "loss_history.json").read_text())["train"]
    assert [s for s, _ in history] == [4, 5, 6]  # the second run continued from step 3
    assert any(not torch.equal(a[k], torch.zeros_like(a[k])) for k in a if "lora_B" in k)
