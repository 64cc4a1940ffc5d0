"""Distributed training launched from a Hydra app.

Lightning's `ddp` strategy relaunches the command line for every other rank; inside a Hydra multirun
that re-runs the whole sweep (with the Optuna sweeper the ranks even train different
hyperparameters, silently). `install_launcher_patch` makes each rank run exactly the current job:
the same command, this job's overrides, and its output directory.
"""
from __future__ import annotations

import os
import sys
from typing import Sequence

#: Variables Lightning's launcher sets in the launching process; as they were when this process began
#: (a relaunched rank was given its own).
LAUNCH_ENV = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")
_STARTING_ENV = {key: os.environ.get(key) for key in LAUNCH_ENV}


def job_command(local_rank: int) -> tuple[Sequence[str], str]:
    """The command that runs the current Hydra job (not the sweep) as rank `local_rank`."""
    from hydra.core.hydra_config import HydraConfig

    hc = HydraConfig.get()
    command = [sys.executable, "-m", "tuneforge.cli", hc.job.config_name, *hc.overrides.task,
               f"hydra.run.dir={hc.runtime.output_dir}", "hydra.output_subdir=null",
               f"hydra.job.name={hc.job.name}_rank{local_rank}"]
    return command, hc.runtime.cwd


def install_launcher_patch() -> None:
    import lightning.fabric.strategies.launchers.subprocess_script as fabric_launcher
    import lightning.pytorch.strategies.launchers.subprocess_script as launcher

    launcher._hydra_subprocess_cmd = job_command
    fabric_launcher._hydra_subprocess_cmd = job_command


def end_distributed() -> None:
    """Destroy the process group Lightning left behind and restore the launcher's environment: with
    LOCAL_RANK left set, the next job of a multirun would wait for ranks that nobody starts."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    for key, value in _STARTING_ENV.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
