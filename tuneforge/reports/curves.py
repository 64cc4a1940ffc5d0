"""The charts of several runs (the sweep summary, `compare`), each run labelled by what differs between the
runs: their metrics as bar charts, and their loss curves in one chart (each run one colour, its training loss
as a line and its validation loss as dashed points)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The longest legend label; longer ones are cut with an ellipsis (the tables hold the full text).
MAX_LABEL = 70
#: At most this many bar charts side by side (more go on further rows).
BAR_COLUMNS = 3


def short(label: str, limit: int = MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def plot_bars(rows: list[dict[str, Any]], keys: list[str], labels: list[str], path: Path) -> Path:
    """One horizontal bar chart per key of `rows` (one bar per row, labelled by `labels`; a missing or
    non-numeric value is no bar) -> `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncols = min(BAR_COLUMNS, len(keys))
    nrows = -(-len(keys) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 + 3.0 * ncols, nrows * (1.0 + 0.35 * len(rows))),
                             squeeze=False, sharey=True)
    for ax in axes.flat[len(keys):]:
        ax.set_visible(False)
    for ax, key in zip(axes.flat, keys):
        values = [float(r[key]) if isinstance(r.get(key), (int, float)) else float("nan") for r in rows]
        bars = ax.barh(range(len(rows)), values, color=[f"C{i % 10}" for i in range(len(rows))])
        ax.bar_label(bars, fmt="%.3g", fontsize=7, padding=2)
        ax.set_title(key, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.margins(x=0.25)
    for row_axes in axes:
        row_axes[0].set_yticks(range(len(rows)), [short(label, 50) for label in labels], fontsize=8)
    axes[0][0].invert_yaxis()  # shared: every panel lists the runs top-down
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_loss_curves(runs: list[tuple[str, Path]], path: Path) -> Path | None:
    """(label, run directory) pairs -> `path` (PNG) with every run's train and validation loss from its
    loss_history.json; None (nothing written) when no run has a loss history."""
    histories = []
    for label, run in runs:
        file = Path(run) / "loss_history.json"
        if file.is_file():
            history = json.loads(file.read_text())
            if history.get("train") or history.get("val"):
                histories.append((label, history))
    if not histories:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, (label, history) in enumerate(histories):
        color = f"C{i % 10}"
        if history.get("train"):
            ax.plot(*zip(*history["train"]), color=color, linewidth=1, alpha=0.85, label=f"{short(label)} (train)")
        if history.get("val"):
            ax.plot(*zip(*history["val"]), "o--", color=color, markersize=4, label=f"{short(label)} (val)")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    from matplotlib.ticker import FormatStrFormatter

    ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%.3g"))
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_title("train loss (lines) and validation loss (dashed, points)", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
