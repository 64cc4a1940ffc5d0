"""`tuneforge compare RUN_DIR... [--out=DIR]`: the runs' differing config keys and their metrics as Markdown
and CSV, with PNG charts of the metrics and the loss curves. A sweep directory stands for all of its jobs."""
from __future__ import annotations

from tuneforge.errors import TuneforgeError


def main(argv: list[str]) -> None:
    from tuneforge.reports.compare import compare

    runs = [a for a in argv if not a.startswith("--out=")]
    outs = [a.split("=", 1)[1] for a in argv if a.startswith("--out=")]
    if not runs:
        raise TuneforgeError("usage: tuneforge compare RUN_DIR... [--out=DIR]")
    compare(runs, outs[-1] if outs else None)
