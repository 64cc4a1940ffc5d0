"""Checkpoints that cannot silently corrupt: 4 KB flipped inside `last.ckpt` (torch's zip reader would load it
and train on broken weights) or a truncated file are refused on resume with one line naming the file and how
to start over; an intact checkpoint resumes, also from a run directory that was copied elsewhere."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tuneforge.lightning.resume import verify_checkpoint
from tuneforge.errors import TuneforgeError

ARGS = ["model.hidden_size=32", "model.num_layers=1", "model.num_heads=2", "data.num_train=64", "data.batch_size=16",
        "eval.enabled=false", "callbacks=none", "logger=none", "peft=lora", "peft.r=4"]


def train(run: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", f"hydra.run.dir={run}", *ARGS, *extra],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("ckpt") / "run"
    out = train(run, "trainer.max_steps=4")
    assert out.returncode == 0, out.stderr[-3000:]
    assert (run / "checkpoints" / "last.ckpt.sha256").is_file()
    return run


def copy_run(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_flipped_bytes_are_refused(finished, tmp_path):
    run = copy_run(finished, tmp_path / "flipped")
    ckpt = run / "checkpoints" / "last.ckpt"
    data = bytearray(ckpt.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4096] = bytes(b ^ 0xFF for b in data[middle:middle + 4096])
    ckpt.write_bytes(bytes(data))
    with pytest.raises(TuneforgeError, match="corrupt"):
        verify_checkpoint(ckpt)
    out = train(run, "trainer.max_steps=8", "resume=auto")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"checkpoint {ckpt} is corrupt" in out.stderr and "hydra.run.dir" in out.stderr


def test_truncated_is_refused(finished, tmp_path):
    run = copy_run(finished, tmp_path / "truncated")
    ckpt = run / "checkpoints" / "last.ckpt"
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 3])
    out = train(run, "trainer.max_steps=8", "resume=auto")
    assert out.returncode == 2 and "Traceback" not in out.stderr and "is corrupt" in out.stderr


def test_an_intact_checkpoint_in_a_copied_run_directory_resumes(finished, tmp_path):
    """The copy lives elsewhere: its run_dir and the paths under it are not config changes."""
    run = copy_run(finished, tmp_path / "intact")
    out = train(run, "trainer.max_steps=8", "resume=auto")
    assert out.returncode == 0, out.stderr[-3000:]
