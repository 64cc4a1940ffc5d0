"""trainer=ddp on CPU (two gloo processes): the same result as one process with the same global
batch; inside a multirun every job trains with its own overrides on every rank. FSDP and DeepSpeed
need CUDA (Lightning refuses them on CPU) and are tested only there."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

# Equal-length examples: each rank's mean loss then averages to the single process's mean.
COMMON = ["model.hidden_size=32", "model.num_layers=1", "model.num_heads=2", "data.num_train=96",
          "data.tasks=[upper]", "data.min_len=5", "data.max_len=5", "eval.enabled=false", "callbacks=none",
          "logger=none", "trainer.max_steps=6", "optimizer.lr=1e-2"]


def train(*args: str) -> subprocess.CompletedProcess:
    flags = [a for a in args if a.startswith("-")]  # Hydra wants flags before the overrides
    overrides = [a for a in args if not a.startswith("-")]
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", *flags, *COMMON, *overrides],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-4000:]
    return out


def adapter(run_dir) -> dict[str, torch.Tensor]:
    return load_file(run_dir / "adapter" / "adapter_model.safetensors")


def test_ddp_with_checkpointing_and_a_resume_equals_one_process_with_the_same_global_batch(tmp_path):
    """LoRA on 2 ranks x batch 4 with model.gradient_checkpointing=true, stopped after 3 steps and resumed to 6,
    ends with the adapter of one process with batch 8 and no checkpointing (non-reentrant checkpointing needs
    no static graph under DDP: each parameter's gradient hook fires once; the resume continues each rank's
    shard at the exact example)."""
    lora = ["model.num_layers=2", "peft=lora", "peft.dropout=0.0", "scheduler=constant", "checkpoint.every_n_steps=3"]
    ddp = [f"hydra.run.dir={tmp_path / 'ddp'}", "trainer=ddp", "trainer.devices=2", "data.batch_size=4",
           "model.gradient_checkpointing=true", *lora]
    train(f"hydra.run.dir={tmp_path / 'single'}", "data.batch_size=8", *lora)
    train(*ddp, "trainer.max_steps=3")
    train(*ddp, "resume=auto")
    train(f"hydra.run.dir={tmp_path / 'other'}", "data.batch_size=8", "seed=1", *lora)
    single, resumed, other = (adapter(tmp_path / d) for d in ("single", "ddp", "other"))
    assert single.keys() == resumed.keys() and any("lora_B" in k for k in single)
    for key in single:
        assert torch.allclose(single[key], resumed[key], atol=2e-5, rtol=0), key
    assert any(not torch.allclose(single[k], other[k], atol=1e-3) for k in single)  # the check can fail
    history = json.loads((tmp_path / "ddp" / "loss_history.json").read_text())["train"]
    assert [s for s, _ in history] == [4, 5, 6]  # the second run continued from step 3
    assert (tmp_path / "ddp" / "train_rank1.log").exists()
    assert not (tmp_path / "ddp" / ".hydra_rank1").exists()


def test_multirun_with_ddp_trains_each_job_with_its_own_overrides_on_every_rank(tmp_path):
    sweep = tmp_path / "sweep"
    train("-m", "trainer=ddp", "trainer.devices=2", "data.batch_size=4", "optimizer.lr=0.001,0.002",
          f"hydra.sweep.dir={sweep}")
    for job, lr in (("0", 0.001), ("1", 0.002)):
        for log in ("train.log", "train_rank1.log"):
            text = (sweep / job / log).read_text()
            lrs = {float(x) for x in re.findall(r"'lr': ([0-9.e-]+)", text)}
            assert lrs == {lr}, (job, log, lrs)
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"]  # no sweep re-run by rank 1


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="Lightning refuses FSDP / DeepSpeed on CPU")
@pytest.mark.parametrize("strategy", ["fsdp", "deepspeed"])
def test_sharded_strategies_on_gpu(tmp_path, strategy):
    if strategy == "deepspeed":
        pytest.importorskip("deepspeed")
    train(f"hydra.run.dir={tmp_path}", f"trainer={strategy}", "trainer.devices=1", "data.batch_size=4")
    assert (tmp_path / "metrics.json").exists()

