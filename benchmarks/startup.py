"""Start-up: `tuneforge ls` (target < 2 s) and `tuneforge --help` (< 1 s) against
`python -c "import torch"`, each the median of N fresh processes in the same run; with `--train`, the time
from the command to the end of its first optimizer step for the quickstart and for SmolLM2 (LoRA).

    .venv/bin/python benchmarks/startup.py [--repeat 7] [--train [--train-repeat 3]]

`--train` runs `tuneforge train trainer.max_steps=1` without evaluation, checkpoints, loggers or progress
bar, and reads the phases from the run's log (`phase <name> <wall-clock time>`, logged by tuneforge train at
debug level) as seconds since the command was started: imports and config, model build, data, first step.
`exit` is the whole command (after the first step: saving the model).
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


TRAIN_RUNS = {"quickstart": [], "smollm2 LoRA": ["model=smollm2_135m", "peft=lora", "data.batch_size=8"]}
QUIET = ["trainer.max_steps=1", "eval.enabled=false", "checkpoint.enabled=false", "logger=none",
         "callbacks=none", "+trainer.enable_progress_bar=false", "hydra.job_logging.root.level=DEBUG"]


def train_phases(overrides: list[str]) -> dict[str, float]:
    """Seconds from the command's start to the end of each phase of one `tuneforge train` run."""
    with tempfile.TemporaryDirectory() as tmp:
        start, wall = time.perf_counter(), time.time()
        out = subprocess.run([str(BIN / "tuneforge"), "train", *overrides, *QUIET, f"hydra.run.dir={tmp}"],
                             capture_output=True, text=True)
        total = time.perf_counter() - start
        if out.returncode != 0:
            raise SystemExit(out.stderr[-3000:])
        log = (Path(tmp) / "train.log").read_text() if (Path(tmp) / "train.log").is_file() else out.stderr
    phases = {m[1]: float(m[2]) - wall for m in re.finditer(r"phase (\S+) ([0-9.]+)", log)}
    return phases | {"exit": total}


def train_table(repeat: int) -> None:
    print(f"\n{'tuneforge train, 1 step':24} " + " ".join(f"{p:>10}" for p in PHASES) + f" {'exit':>8}")
    for name, overrides in TRAIN_RUNS.items():
        runs = [train_phases(overrides) for _ in range(repeat)]
        med = {k: statistics.median(r.get(k, float("nan")) for r in runs) for k in (*PHASES, "exit")}
        print(f"{name:24} " + " ".join(f"{med[p]:10.2f}" for p in PHASES) + f" {med['exit']:8.2f}", flush=True)


PHASES = ("config", "model", "data", "first_step")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--train", action="store_true", help="also time `tuneforge train` to its first step")
    parser.add_argument("--train-repeat", type=int, default=3)
    args = parser.parse_args()
    tuneforge = str(BIN / "tuneforge")
    torch_s = median_seconds([sys.executable, "-c", "import torch"], args.repeat)
    rows = [("tuneforge --help", median_seconds([tuneforge, "--help"], args.repeat), 1.0),
            ("tuneforge ls", median_seconds([tuneforge, "ls"], args.repeat), 2.0),
            ("tuneforge ls recipes", median_seconds([tuneforge, "ls", "recipes"], args.repeat), 2.0)]
    print(f"{'command':24} {'median s':>9} {'target s':>9} {'vs import torch':>16}")
    print(f"{'python -c import torch':24} {torch_s:9.3f} {'':>9} {1.0:15.2f}x")
    for name, seconds, target in rows:
        ok = "ok" if seconds < target else "SLOW"
        print(f"{name:24} {seconds:9.3f} {target:9.1f} {seconds / torch_s:15.2f}x  {ok}")
    if args.train:
        train_table(args.train_repeat)


if __name__ == "__main__":
    main()
