"""Each schedule's learning rate at every optimizer step, read from a real torch optimizer."""
from __future__ import annotations

import math

import pytest
import torch

from tuneforge import binding
from tuneforge.scheduler.base import lambda_lr

BASE_LR, TOTAL = 0.1, 40


def lrs(name: str, **kw) -> list[float]:
    sched = binding.build("scheduler", {"name": name, **kw}, "scheduler")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE_LR)
    lr_sched = lambda_lr(opt, sched, TOTAL)
    seen = []
    for _ in range(TOTAL):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        lr_sched.step()
    return seen


def test_constant():
    assert lrs("constant") == pytest.approx([BASE_LR] * TOTAL)


def test_constant_with_warmup():
    expected = [BASE_LR * t / 5 if t < 5 else BASE_LR for t in range(TOTAL)]
    assert lrs("constant", warmup_steps=5) == pytest.approx(expected)


def test_warmup_cosine_is_the_seed_formula():
    W, T = 8, TOTAL - 8
    expected = [BASE_LR * t / W if t < W else (1 + math.cos((t - W) * math.pi / T)) / 2 * BASE_LR
                for t in range(TOTAL)]
    assert lrs("warmup_cosine", warmup_steps=W) == pytest.approx(expected, abs=1e-12)


def test_warmup_cosine_ratio_and_floor():
    W = int(0.25 * TOTAL)
    got = lrs("warmup_cosine", warmup_steps=0, warmup_ratio=0.25, min_ratio=0.1)
    assert got[W] == pytest.approx(BASE_LR)
    assert min(got[W:]) >= 0.1 * BASE_LR - 1e-12
    assert got[W - 1] == pytest.approx(BASE_LR * (W - 1) / W)


def test_linear():
    W = 4
    expected = [BASE_LR * t / W if t < W else BASE_LR * (TOTAL - t) / (TOTAL - W) for t in range(TOTAL)]
    assert lrs("linear", warmup_steps=W) == pytest.approx(expected, abs=1e-12)
