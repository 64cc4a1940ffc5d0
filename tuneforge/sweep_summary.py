"""A Hydra callback that ends every multirun with a table of its jobs (overrides and metrics), as
`summary.md` and `summary.csv` in the sweep directory, and prints it."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from .artifacts import write_text

COLUMNS = ("exact_match_before", "exact_match_after", "train/loss", "val/loss", "params/trainable",
           "runtime_s")


def collect(sweep_dir: Path) -> list[dict[str, Any]]:
    """One row per job directory: the overrides that vary between jobs, then its metrics."""
    import yaml

    rows = []
    for job in sorted((p for p in sweep_dir.iterdir() if p.is_dir()), key=lambda p: (len(p.name), p.name)):
        metrics_file = job / "metrics.json"
        overrides_file = job / ".hydra" / "overrides.yaml"
        row: dict[str, Any] = {"job": job.name}
        if overrides_file.exists():
            overrides = [o for o in yaml.safe_load(overrides_file.read_text()) or []
                         if not o.startswith("hydra.")]
            row["overrides"] = overrides
        if metrics_file.exists():
            metrics = json.loads(metrics_file.read_text())
            row |= {k: metrics[k] for k in COLUMNS if k in metrics}
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


class SweepSummary(Callback):
    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        rows = collect(sweep_dir)
        md, table_csv = render(rows)
        write_text(sweep_dir / "summary.md", md)
        write_text(sweep_dir / "summary.csv", table_csv)
        print(f"\nsweep summary ({len(rows)} jobs) -> {sweep_dir / 'summary.md'}\n{md}")
