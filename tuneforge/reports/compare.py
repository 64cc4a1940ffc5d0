"""`tuneforge compare RUN_DIR... [--out DIR]`: the runs' differing config keys and their metrics as
Markdown and CSV, a bar chart of the metrics and the loss curves, as PNGs. A sweep directory stands
for all of its job directories."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuneforge.artifacts import write_text
from tuneforge.errors import TuneforgeError
from tuneforge.reports.sweep_summary import render


def run_dirs(paths: list[str]) -> list[Path]:
    runs = []
    for raw in paths:
        path = Path(raw)
        if (path / "metrics.json").is_file():
            runs.append(path)
        elif path.is_dir() and (jobs := sorted(p.parent for p in path.glob("*/metrics.json"))):
            runs += jobs
        else:
            raise TuneforgeError(f"{raw}: neither a run directory (no metrics.json) nor a sweep directory")
    return runs


def flat_config(run: Path) -> dict[str, Any]:
    import yaml

    def walk(node: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}{k}.", out)
        else:
            out[prefix[:-1]] = node
        return out

    file = run / "config.yaml"
    return walk(yaml.safe_load(file.read_text()), "", {}) if file.is_file() else {}


def numeric_metrics(run: Path) -> dict[str, float]:
    metrics = json.loads((run / "metrics.json").read_text())
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def rows_for(runs: list[Path]) -> list[dict[str, Any]]:
    configs = [flat_config(r) for r in runs]
    keys = sorted({k for c in configs for k in c})
    differing = [k for k in keys if len({json.dumps(c.get(k), default=str) for c in configs}) > 1
                 and not k.endswith(("run_dir", "dirpath", "save_dir", "default_root_dir"))]
    rows = []
    for run, config in zip(runs, configs):
        row: dict[str, Any] = {"run": str(run)}
        row |= {k: config.get(k) for k in differing}
        row |= numeric_metrics(run)
        rows.append(row)
    return rows


def plot_metrics(rows: list[dict[str, Any]], metric_keys: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(metric_keys), figsize=(3.2 * len(metric_keys), 3.6), squeeze=False)
    labels = [Path(r["run"]).name for r in rows]
    for ax, key in zip(axes[0], metric_keys):
        values = [r.get(key, float("nan")) for r in rows]
        bars = ax.bar(labels, values, color=[f"C{i}" for i in range(len(rows))])
        ax.bar_label(bars, fmt="%.3g", fontsize=8)
        ax.set_title(key, fontsize=9)
        ax.tick_params(axis="x", rotation=45, labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_losses(runs: list[Path], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, run in enumerate(runs):
        file = run / "loss_history.json"
        if not file.is_file():
            continue
        history = json.loads(file.read_text())
        if history.get("train"):
            ax.plot(*zip(*history["train"]), color=f"C{i}", linewidth=1, label=f"{run.name} train")
        if history.get("val"):
            ax.plot(*zip(*history["val"]), "o--", color=f"C{i}", label=f"{run.name} val")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


HEADLINE = ("exact_match_after", "exact_match_before", "val/loss", "train/loss", "eval/exact_match",
            "params/trainable", "runtime_s")


def compare(paths: list[str], out: str | None = None) -> dict[str, Path]:
    runs = run_dirs(paths)
    if not runs:
        raise TuneforgeError("nothing to compare")
    out_dir = Path(out) if out else Path("compare")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = rows_for(runs)
    common = [k for k in HEADLINE if any(k in r for r in rows)]
    shown = [k for k in rows[0] if k not in numeric_metrics(runs[0])] + common
    shown += sorted({k for r in rows for k in r if k.startswith(("eval/", "stage")) and k not in shown})
    md, _ = render([{k: r.get(k, "") for k in shown} for r in rows])  # headline metrics
    _, table_csv = render(rows)  # every numeric metric
    files = {"markdown": write_text(out_dir / "compare.md", md),
             "csv": write_text(out_dir / "compare.csv", table_csv),
             "metrics_png": out_dir / "metrics.png", "losses_png": out_dir / "loss_curves.png"}
    plot_metrics(rows, common or [k for k in rows[0] if isinstance(rows[0][k], float)][:4], files["metrics_png"])
    plot_losses(runs, files["losses_png"])
    print(md)
    print("\n".join(f"{k}: {v}" for k, v in files.items()))
    return files
