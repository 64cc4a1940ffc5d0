"""torch's CPU threads for training and evaluation: `threads: auto` uses the cores that are idle.

Measured on a 2-core VM (quickstart model, batch 64, one training step; benchmarks/cpu_step.py): idle, 2
threads took 89 ms against 144 ms on one; with one core busy elsewhere, 2 threads took 161 ms with sleeping
OpenMP workers and 289 ms with libgomp's default spinning, one thread 142 ms; on 2 cores under heavy load
(load average 5-12), 2 spinning threads made a step 11x slower (5.8 s against 0.53 s). Hence: as many
threads as cores were idle when the command started (sampled from /proc/stat over 0.1 s, before torch
loads), and OpenMP workers that sleep (`OMP_WAIT_POLICY=PASSIVE`) unless two or more cores were idle,
where they spin briefly (`GOMP_SPINCOUNT=3000`: about as fast as libgomp's default when idle, 236 instead
of 289 ms when a core is taken later). A value the environment sets is kept.
"""
from __future__ import annotations

import functools
import os
import time
from typing import Any

SPIN_WHEN_IDLE = "3000"


def threads_issue(value: Any) -> str | None:
    """What is wrong with a `threads` setting (`auto` or a count >= 1), or None."""
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return None
    return f"expected auto or a number of threads >= 1, got {value!r}"


def _cpu_times(cpus: set[int]) -> tuple[int, int] | None:
    """(idle, total) jiffies summed over `cpus` from /proc/stat, or None where it cannot be read."""
    try:
        lines = open("/proc/stat").read().splitlines()
    except OSError:
        return None
    idle = total = 0
    for line in lines:
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            ticks = [int(v) for v in values[:8]]
            idle, total = idle + ticks[3] + ticks[4], total + sum(ticks)  # idle + iowait
    return (idle, total) if total else None


@functools.cache
def idle_cores(window_s: float = 0.1) -> int | None:
    """How many of the cores this process may use were idle over `window_s` (measured once a process), or
    None where /proc/stat is missing."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    before = _cpu_times(cpus)
    if before is None:
        return None
    time.sleep(window_s)
    after = _cpu_times(cpus)
    if after is None or after[1] == before[1]:
        return None
    return int(len(cpus) * (after[0] - before[0]) / (after[1] - before[1]) + 0.5)


def set_openmp_waiting() -> None:
    """Before torch loads: OpenMP workers spin briefly when two or more cores are idle, else sleep."""
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return
    idle = idle_cores()
    if idle is not None and idle >= 2:
        os.environ["GOMP_SPINCOUNT"] = SPIN_WHEN_IDLE
    else:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"


@functools.cache
def torch_default_threads() -> int:
    """torch's thread count before `use_threads` first changed it: the jobs of a multirun share one process,
    and `auto` must not inherit the count an earlier job set."""
    import torch

    return torch.get_num_threads()


def use_threads(value: Any) -> int:
    """Set torch's intra-op threads (`auto`: the idle cores, at least one and at most torch's default; torch's
    default where that cannot be measured); returns the count in use."""
    import torch

    default = torch_default_threads()  # recorded on the first call, before any job sets a count
    if value == "auto":
        idle = idle_cores()
        value = default if idle is None else max(1, min(default, idle))
    if value != torch.get_num_threads():
        torch.set_num_threads(int(value))
    return torch.get_num_threads()
