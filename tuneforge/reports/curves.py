"""Loss curves of several runs in one chart: each run one colour, its training loss as a line and its
validation loss as dashed points, labelled by what differs between the runs (the sweep summary, `compare`)."""
from __future__ import annotations

import json
from pathlib import Path

#: The longest legend label; longer ones are cut with an ellipsis (the tables hold the full text).
MAX_LABEL = 70


def short(label: str, limit: int = MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


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
