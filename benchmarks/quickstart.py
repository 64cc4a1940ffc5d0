"""The quickstart (`tuneforge train`, no overrides) against an earlier revision's, side by side.

    .venv/bin/python benchmarks/quickstart.py [--baseline f8099c8] [--seeds 1,2,3] [--baseline-seeds 42]

Each run is the whole command in a fresh process (start-up, data preparation with an empty data cache, both
evaluations, training, saving), timed from outside; the baseline runs from a git worktree of `--baseline`
(same virtual environment, its own code and conf/), the current code from this checkout. Runs alternate
(baseline, current, current, ...) so that both see the same machine. Prints each run's wall time, exact match
after training and steps, the medians, and current / baseline wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code: Path, seed: int, tmp: Path, label: str) -> dict:
    run_dir, cache = tmp / f"{label}-{seed}-{time.time_ns()}", tmp / f"cache-{time.time_ns()}"
    env = {**os.environ, "PYTHONPATH": str(code), "TUNEFORGE_DATA_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "train", f"seed={seed}", f"hydra.run.dir={run_dir}"],
                         cwd=code, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode:
        sys.exit(f"{label} seed {seed} failed:\n{out.stderr[-3000:]}")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    row = {"label": label, "seed": seed, "wall_s": wall, "exact_match": metrics["exact_match_after"],
           "steps": metrics["trainer/global_step"]}
    print(f"  {label:8} seed {seed:3d}  {wall:6.1f} s  exact match {row['exact_match']:.3f}  {row['steps']} steps",
          flush=True)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--baseline", default="f8099c8", help="git revision of the earlier quickstart")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--baseline-seeds", default="42")
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    base_seeds = [int(s) for s in args.baseline_seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        worktree = tmp / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.baseline], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            print(f"baseline {args.baseline} (seeds {base_seeds}) against the working tree (seeds {seeds})")
            order = [("current", s) for s in seeds]
            for i, s in enumerate(base_seeds):  # interleaved: a baseline run before each pair of current runs
                order.insert(min(len(order), 3 * i), ("baseline", s))
            rows = [run(worktree if label == "baseline" else ROOT, s, tmp, label) for label, s in order]
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, capture_output=True)
    for label in ("baseline", "current"):
        mine = [r for r in rows if r["label"] == label]
        print(f"{label:8} median {statistics.median(r['wall_s'] for r in mine):6.1f} s, exact match "
              + " / ".join(f"{r['exact_match']:.3f}" for r in mine) + f" (seeds {[r['seed'] for r in mine]})")
    ratio = (statistics.median(r["wall_s"] for r in rows if r["label"] == "current")
             / statistics.median(r["wall_s"] for r in rows if r["label"] == "baseline"))
    print(f"current / baseline wall time: {ratio:.2f}x")


if __name__ == "__main__":
    main()
