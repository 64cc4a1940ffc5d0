"""A Hydra callback that ends every multirun with a table of its jobs (the overrides that vary, then
their metrics from metrics.json) as `summary.md` and `summary.csv` in the sweep directory, a bar chart
of the metrics as `summary.png`, the jobs' train and validation loss curves overlaid as
`loss_curves.png` (each labelled by its overrides), and prints the table. With `optimized_metric` set (an
Optuna search), that metric is a column too."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from tuneforge.artifacts import write_text
from tuneforge.reports.curves import plot_bars, plot_loss_curves

#: metrics.json keys shown, in this order, when a job has them.
COLUMNS = ("params/trainable", "perf/peak_cuda_mb", "perf/peak_rss_mb", "perf/fit_rss_mb", "perf/tokens_per_s",
           "val/loss", "exact_match_after", "exact_match_before", "train/loss", "runtime_s")
#: the columns charted in summary.png (when present).
CHARTED = ("params/trainable", "perf/peak_cuda_mb", "perf/peak_rss_mb", "perf/fit_rss_mb", "perf/tokens_per_s",
           "train/loss", "val/loss", "exact_match_after")


def collect(sweep_dir: Path, extra: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """One row per job directory: the overrides that vary between jobs, then its metrics (`COLUMNS`
    and `extra` keys)."""
    import yaml

    columns = tuple(dict.fromkeys((*extra, *COLUMNS)))
    rows = []
    jobs = (p for p in sweep_dir.iterdir() if p.is_dir() and not p.name.startswith("."))  # not .submitit/
    for job in sorted(jobs, key=lambda p: (len(p.name), p.name)):
        metrics_file = job / "metrics.json"
        overrides_file = job / ".hydra" / "overrides.yaml"
        row: dict[str, Any] = {"job": job.name}
        if overrides_file.exists():
            overrides = [o for o in yaml.safe_load(overrides_file.read_text()) or []
                         if not o.startswith("hydra.")]
            row["overrides"] = overrides
        if metrics_file.exists():
            metrics = json.loads(metrics_file.read_text())
            row |= {k: metrics[k] for k in columns if k in metrics}
        else:
            row["status"] = "no metrics.json (failed or running)"
        rows.append(row)
    lists = [row.get("overrides", []) for row in rows]
    common = set.intersection(*map(set, lists)) if len(lists) > 1 else set()
    for row in rows:
        row["overrides"] = " ".join(o for o in row.get("overrides", []) if o not in common)
    return rows


def render(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """(markdown, csv) of the rows."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    md = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    md += ["| " + " | ".join(fmt(row.get(c, "")) for c in columns) + " |" for row in rows]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return "\n".join(md) + "\n", buf.getvalue()


def plot(rows: list[dict[str, Any]], path: Path, extra: tuple[str, ...] = ()) -> Path | None:
    """One horizontal bar chart per metric (jobs labelled by their overrides); None if no job has
    any charted metric."""
    keys = [k for k in dict.fromkeys((*extra, *CHARTED))
            if any(isinstance(r.get(k), (int, float)) and not isinstance(r.get(k), bool) for r in rows)]
    if not keys:
        return None
    return plot_bars(rows, keys, [job_label(r) for r in rows], path)


def summarize(sweep_dir: Path, optimized_metric: str | None = None) -> list[dict[str, Any]]:
    """Write summary.md, summary.csv and summary.png for the jobs in `sweep_dir`; returns the rows."""
    extra = (optimized_metric,) if optimized_metric else ()
    rows = collect(sweep_dir, extra)
    md, table_csv = render(rows)
    write_text(sweep_dir / "summary.md", md)
    write_text(sweep_dir / "summary.csv", table_csv)
    charts = [plot(rows, sweep_dir / "summary.png", extra),
              plot_loss_curves([(job_label(r), sweep_dir / r["job"]) for r in rows], sweep_dir / "loss_curves.png")]
    print(f"\nsweep summary ({len(rows)} jobs) -> {sweep_dir / 'summary.md'}"
          + "".join(f", {c}" for c in charts if c) + f"\n{md}")
    return rows


def job_label(row: dict[str, Any]) -> str:
    """A job by its overrides that vary (`job N` when none do)."""
    return row.get("overrides") or f"job {row['job']}"


class SweepSummary(Callback):
    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir():
            summarize(sweep_dir, config.get("optimized_metric"))
