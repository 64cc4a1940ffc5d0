"""`tuneforge compare RUN_DIR... [--out=DIR]`: what differs between runs and how they did.

The terminal shows one column per run: the differing settings that matter (a differing method, data or
model option stands for its own keys; logging and evaluation settings are left out) and the headline
metrics. DIR (default ./compare) gets compare.md and compare.csv with every differing key and metric,
metrics.png and loss_curves.png (train and validation loss overlaid), runs labelled by what differs.
A sweep directory stands for all of its jobs."""
from __future__ import annotations

from tuneforge.errors import TuneforgeError


def main(argv: list[str]) -> None:
    from tuneforge.reports.compare import compare

    runs = [a for a in argv if not a.startswith("--out=")]
    outs = [a.split("=", 1)[1] for a in argv if a.startswith("--out=")]
    if not runs:
        raise TuneforgeError("usage: tuneforge compare RUN_DIR... [--out=DIR]")
    compare(runs, outs[-1] if outs else None)
