"""A read-only or full run directory is one line, never a traceback (real tmpfs mounts; skipped where this
process may not mount)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SMALL = ["trainer.max_steps=3", "eval.enabled=false", "data.num_train=64", "model.hidden_size=32",
         "model.num_layers=1", "model.num_heads=2", "logger=none", "callbacks=none"]


@pytest.fixture
def mount(tmp_path):
    mounted = []

    def make(options: str) -> Path:
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        out = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
        if out.returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        mounted.append(point)
        return point

    yield make
    for point in mounted:
        subprocess.run(["umount", str(point)], capture_output=True)


def train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", *SMALL, *args], capture_output=True,
                          text=True, timeout=300)


def test_a_read_only_run_directory_is_one_line(mount):
    ro = mount("ro,size=64k")
    for args in ([f"hydra.run.dir={ro / 'run'}"], ["-m", "optimizer.lr=1e-3,2e-3", f"hydra.sweep.dir={ro / 'sw'}"]):
        out = train(*args)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
        assert f"{ro} is not writable" in out.stderr


def test_a_full_disk_is_one_line(mount):
    full = mount("size=300k")
    out = train(f"hydra.run.dir={full / 'run'}")
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "the disk is full" in out.stderr
