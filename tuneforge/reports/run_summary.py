"""The end-of-run summary table."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

HEADLINE = ("exact_match_before", "exact_match_after", "train/loss", "val/loss", "params/trainable",
            "trainer/global_step", "runtime_s")


def print_summary(metrics: dict[str, Any], artefacts: dict[str, str], run_dir: Path) -> None:
    table = Table(title="tuneforge run summary", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in HEADLINE:
        if key in metrics:
            value = metrics[key]
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    for name, path in artefacts.items():
        table.add_row(name, path)
    table.add_row("run_dir", str(run_dir))
    Console(stderr=False).print(table)
