"""AdaLoRA: ranks really get reallocated during a real training run (peft does nothing unless
`update_and_allocate` is called every optimizer step)."""
from __future__ import annotations

import json

import pytest

from tests.unit.peft._helpers import train_small


@pytest.mark.parametrize("importance", ["smoothed", "magnitude", "sensitivity"])
def test_ranks_change_during_training(compose, tmp_path, importance):
    metrics = train_small(compose, tmp_path, "peft=adalora", f"peft.importance={importance}",
                          "peft.init_r=6", "peft.target_r=2", "peft.tinit=2", "peft.tfinal=2",
                          "trainer.max_steps=12", "optimizer.lr=1e-2")
    assert metrics["trainer/global_step"] == 12
    report = json.loads((tmp_path / "adalora_ranks.json").read_text())
    ranks = list(report["ranks"].values())
    assert report["allocated"] and len(ranks) == 2 * 7
    assert set(ranks) != {6}, "ranks never changed from init_r"
    assert len(set(ranks)) > 1, f"allocation is uniform: {ranks}"
    assert sum(ranks) == 2 * len(ranks)  # the final budget is target_r per module on average
    assert (tmp_path / "adalora_ranks.png").stat().st_size > 1000


def test_schedule_errors_clearly(compose, tmp_path):
    from tuneforge.errors import ConfigError

    with pytest.raises(ConfigError, match="tinit < total_step - tfinal"):
        train_small(compose, tmp_path, "peft=adalora", "peft.tinit=2", "peft.tfinal=2", "trainer.max_steps=3")
