"""The scheduler protocol and the shared warm-up arithmetic."""
from __future__ import annotations

from typing import Protocol


class Scheduler(Protocol):
    def multiplier(self, step: int, total_steps: int) -> float:
        """lr at optimizer step `step` (0-based) = base lr * multiplier(step, total_steps)."""
        ...


def warmup_length(warmup_steps: int, warmup_ratio: float, total_steps: int) -> int:
    """Warm-up steps: `warmup_steps` if set, else `warmup_ratio` of the run."""
    return warmup_steps if warmup_steps > 0 else int(warmup_ratio * total_steps)


def warmup_multiplier(step: int, warmup: int) -> float | None:
    """Linear warm-up from 0 (step / warmup) while step < warmup, else None."""
    return step / warmup if step < warmup else None


def lambda_lr(optimizer, scheduler: Scheduler, total_steps: int):  # noqa: ANN001, ANN201 (torch)
    """A torch LambdaLR stepping `scheduler` every optimizer step."""
    from torch.optim.lr_scheduler import LambdaLR

    return LambdaLR(optimizer, lambda step: scheduler.multiplier(step, total_steps))
