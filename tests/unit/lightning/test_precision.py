"""`trainer.precision: null` becomes bf16-mixed on a CUDA GPU with bf16, 32-true elsewhere; explicit values win."""
from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize("accelerator, native, parameters, expected", [
    ("cpu", True, 135_000_000, "bf16-mixed"), ("auto", True, 135_000_000, "bf16-mixed"),
    ("cpu", True, 1_000_000, "32-true"),        # a toy: small products gain little, bf16 rounding costs
    ("cpu", False, 135_000_000, "32-true"),     # emulated bf16 is slower than float32
    ("mps", True, 135_000_000, "32-true")])
def test_null_precision_on_a_cpu_follows_its_bf16_support_and_the_model_size(accelerator, native, parameters,
                                                                             expected, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_precision(None, accelerator, bf16_gpu=lambda: False, parameters=parameters,
                             bf16_cpu=lambda: native) == expected
    assert resolve_precision("32-true", accelerator, parameters=parameters, bf16_cpu=lambda: native) == "32-true"


def test_a_gpu_run_is_not_given_the_cpu_rule(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_precision(None, "auto", bf16_gpu=lambda: False, parameters=10**9,
                             bf16_cpu=lambda: True) == "32-true"


@pytest.mark.skipif(not Path("/proc/cpuinfo").is_file(), reason="reads Linux's CPU flags")
def test_the_cpu_capability_query_agrees_with_the_cpu_flags():
    from tuneforge.lightning.precision import cpu_bf16

    flags = set(Path("/proc/cpuinfo").read_text().split())
    assert cpu_bf16() == bool(flags & {"avx512_bf16", "amx_tile"})


def test_evaluation_outside_the_fit_gets_the_autocast_of_a_cpu_bf16_fit(monkeypatch):
    from tuneforge.lightning import precision

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(precision, "CPU_BF16_MIN_PARAMETERS", 10)
    model = torch.nn.Linear(8, 8)
    monkeypatch.setattr(precision, "cpu_bf16", lambda: True)
    with precision.fit_autocast({"precision": None, "accelerator": "cpu"}, model):
        assert torch.is_autocast_enabled("cpu") and model(torch.ones(1, 8)).dtype == torch.bfloat16
    for settings in ({"precision": "32-true"}, {"precision": "bf16-mixed", "accelerator": "gpu"}):
        with precision.fit_autocast(settings, model):
            assert not torch.is_autocast_enabled("cpu")
    monkeypatch.setattr(precision, "cpu_bf16", lambda: False)  # no native bf16: null stays float32
    with precision.fit_autocast({"precision": None}, model):
        assert not torch.is_autocast_enabled("cpu")
