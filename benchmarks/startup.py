"""Start-up: `tuneforge ls` (target < 2 s) and `tuneforge --help` (< 1 s) against
`python -c "import torch"`, each the median of N fresh processes in the same run.

    .venv/bin/python benchmarks/startup.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
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


if __name__ == "__main__":
    main()
