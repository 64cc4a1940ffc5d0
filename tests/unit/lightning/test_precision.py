"""`trainer.precision: null` becomes bf16-mixed on a CUDA GPU with bf16, 32-true elsewhere; explicit values win."""
from __future__ import annotations

import pytest
import torch

from tuneforge.lightning.precision import cuda_bf16, resolve_precision
from tuneforge.model.quantize import resolve_compute_dtype


@pytest.mark.parametrize("accelerator, bf16, expected", [
    ("auto", True, "bf16-mixed"), ("gpu", True, "bf16-mixed"), ("cuda", True, "bf16-mixed"),
    ("auto", False, "32-true"), ("gpu", False, "32-true"), ("cpu", True, "32-true")])
def test_null_precision_follows_the_device(accelerator, bf16, expected):
    assert resolve_precision(None, accelerator, bf16_gpu=lambda: bf16) == expected


@pytest.mark.parametrize("explicit", ["32-true", "16-mixed", "bf16-true", 64])
def test_an_explicit_precision_always_wins(explicit):
    for bf16 in (True, False):
        assert resolve_precision(explicit, "auto", bf16_gpu=lambda bf16=bf16: bf16) == explicit


def test_the_capability_query_reads_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert cuda_bf16() and resolve_precision(None) == "bf16-mixed"
    assert resolve_compute_dtype("auto") is torch.bfloat16  # a 4-bit / 8-bit base computes in bf16 there too
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert not cuda_bf16() and resolve_precision(None) == "32-true"
    assert resolve_compute_dtype("auto") is torch.float32
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_precision(None, "auto") == "32-true"
