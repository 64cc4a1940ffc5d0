"""RunStats: the tokens/s and peak-memory figures every run writes into metrics.json."""
from __future__ import annotations

import pytest

from tests.unit.peft._helpers import train_small


@pytest.mark.parametrize("packing", ["false", "true"])
def test_counts_every_non_padding_training_token(compose, tmp_path, packing):
    import torch

    torch.set_num_threads(1)
    # one batch holds the whole training split: 3 steps see every training token 3 times
    metrics = train_small(compose, tmp_path, "data.num_train=16", "data.batch_size=16", "trainer.max_steps=3",
                          f"data.packing={packing}", "data.pack_length=64")
    assert metrics["perf/train_tokens"] == 3 * metrics["data/train/tokens"]
    assert 0 < metrics["perf/tokens_per_s"] < 1e7
    assert metrics["perf/peak_rss_mb"] > metrics["perf/fit_rss_mb"] >= 0
    assert "perf/peak_cuda_mb" not in metrics or torch.cuda.is_available()


def test_peak_rss_restarts_from_the_current_resident_memory():
    # In a fresh process: a test worker that already peaked higher would hide the 150 MB block.
    import subprocess
    import sys

    code = ("from tuneforge.lightning.callbacks import _rss_peak_kb\n"
            "block = bytearray(150 * 2**20)\n"
            "block[::4096] = b'x' * len(block[::4096])  # touch every page\n"
            "high = _rss_peak_kb()\n"
            "del block\n"
            "after_reset = _rss_peak_kb(reset=True)\n"
            "assert high - after_reset > 100 * 1024, (high, after_reset)  # the 150 MB peak is forgotten\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
