"""`tuneforge compare RUN_DIR... [--out DIR]`: the runs' differing config keys and their metrics as
Markdown and CSV (every differing key), a short terminal table (the hyper-parameters that matter and
the headline metrics), a bar chart of the metrics and the runs' train and validation loss curves
overlaid, as PNGs, runs labelled by what differs. A sweep directory stands for all of its job
directories."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuneforge.artifacts import write_text
from tuneforge.errors import TuneforgeError
from tuneforge.reports.curves import plot_bars, plot_loss_curves
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


#: Config keys shown first in the terminal table and the labels when they differ, in this order.
KEY_ORDER = ("peft.name", "model.name", "model.name_or_path", "data.name", "data.path", "template.name",
             "loss_mask.name", "optimizer.lr", "peft.r", "peft.lora_alpha", "peft.alpha", "scheduler.name",
             "scheduler.warmup_steps", "data.batch_size", "trainer.accumulate_grad_batches", "trainer.max_steps",
             "trainer.max_epochs", "data.max_length", "data.packing", "optimizer.weight_decay", "trainer.precision",
             "seed", "stages")
#: At most this many config columns in the terminal table (the files hold them all).
MAX_KEYS = 6
#: At most this many keys in a run's label (charts).
LABEL_KEYS = 3


def differing(configs: list[dict[str, Any]]) -> list[str]:
    keys = sorted({k for c in configs for k in c})
    return [k for k in keys if len({json.dumps(c.get(k), default=str) for c in configs}) > 1
            and not k.endswith(("run_dir", "dirpath", "save_dir", "default_root_dir"))]


def key_rank(key: str) -> tuple[int, str]:
    matches = [i for i, k in enumerate(KEY_ORDER) if key == k or key.startswith(k + ".")]
    return (matches[0] if matches else len(KEY_ORDER), key)


#: Config keys that say how a run is recorded or evaluated, not how it trains: never in the short table.
NOT_HYPERPARAMETERS = ("logger", "callbacks", "eval", "checkpoint", "resume", "optimized_metric", "hydra",
                       "trainer.log_every_n_steps", "trainer.val_check_interval", "trainer.check_val_every_n_epoch",
                       "trainer.enable_", "trainer.num_sanity_val_steps")


def headline_keys(keys: list[str]) -> list[str]:
    """The differing keys that matter: a differing option (`peft.name`, `data.name`, ...) stands for the keys
    under it, which change with it (lora's r, alpha, targets next to full's none); logging and evaluation
    settings left out; known keys first."""
    options = {k[: -len(".name")] for k in keys if k.endswith(".name")}
    kept = [k for k in keys if k.endswith(".name") or not any(k.startswith(o + ".") for o in options)]
    kept = [k for k in kept if not k.endswith("._target_") and not k.startswith(NOT_HYPERPARAMETERS)]
    return sorted(kept, key=key_rank)


def run_labels(rows: list[dict[str, Any]], keys: list[str]) -> list[str]:
    """Each run as `key=value ...` of the keys that matter (the run directory's name when nothing differs
    or two labels would be the same)."""
    labels = [" ".join(f"{k}={r.get(k)}" for k in keys[:LABEL_KEYS]) or Path(r["run"]).name for r in rows]
    if len(set(labels)) < len(labels):
        labels = [f"{label} ({Path(r['run']).name})" for label, r in zip(labels, rows)]
    return labels


def rows_for(runs: list[Path]) -> tuple[list[dict[str, Any]], set[str]]:
    """(one row per run: its directory, the config keys that differ, its numeric metrics; the metric names)."""
    configs = [flat_config(r) for r in runs]
    differing_keys = differing(configs)
    rows, metric_names = [], set()
    for run, config in zip(runs, configs):
        row: dict[str, Any] = {"run": str(run)}
        row |= {k: config.get(k) for k in differing_keys}
        metrics = numeric_metrics(run)
        metric_names |= metrics.keys()
        rows.append(row | metrics)
    return rows, metric_names


HEADLINE = ("exact_match_after", "exact_match_before", "val/loss", "train/loss", "eval/exact_match",
            "params/trainable", "runtime_s")


def compare(paths: list[str], out: str | None = None) -> dict[str, Path]:
    runs = run_dirs(paths)
    if not runs:
        raise TuneforgeError("nothing to compare")
    out_dir = Path(out) if out else Path("compare")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, metric_names = rows_for(runs)
    config_keys = [k for k in rows[0] if k != "run" and k not in metric_names]
    common = [k for k in HEADLINE if any(k in r for r in rows)]
    extra = sorted({k for r in rows for k in r if k.startswith(("eval/", "stage")) and k not in common})
    md, _ = render([{k: r.get(k, "") for k in ["run", *config_keys, *common, *extra]} for r in rows])
    _, table_csv = render(rows)  # every numeric metric
    keys = headline_keys(config_keys)
    labels = run_labels(rows, keys)
    files = {"markdown": write_text(out_dir / "compare.md", md),
             "csv": write_text(out_dir / "compare.csv", table_csv),
             "metrics_png": out_dir / "metrics.png", "losses_png": out_dir / "loss_curves.png"}
    plot_bars(rows, common or [k for k in rows[0] if isinstance(rows[0][k], float)][:4], labels, files["metrics_png"])
    if plot_loss_curves(list(zip(labels, runs)), files["losses_png"]) is None:
        del files["losses_png"]  # no run has a loss history (e.g. eval runs)
    print_table(rows, keys, common, len(config_keys))
    print("\n".join(f"{k}: {v}" for k, v in files.items()))
    return files


def run_name(run: str) -> str:
    """A run directory's name; a sweep job's (a number) with its sweep's: `2026-11-30_10-00-00/3`."""
    path = Path(run)
    return f"{path.parent.name}/{path.name}" if path.name.isdigit() else path.name


def print_table(rows: list[dict[str, Any]], keys: list[str], metrics: list[str], n_differing: int) -> None:
    """The terminal table, one column per run: the differing keys that matter (at most MAX_KEYS), then the
    headline metrics; the files hold every differing key."""
    from rich.console import Console
    from rich.table import Table

    shown = keys[:MAX_KEYS]
    table = Table(title="tuneforge compare")
    table.add_column("", style="bold")
    for row in rows:
        table.add_column(run_name(row["run"]), overflow="fold")
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else ("" if v is None else str(v))  # noqa: E731
    for i, key in enumerate([*shown, *metrics]):
        table.add_row(key, *(fmt(row.get(key)) for row in rows), end_section=i == len(shown) - 1)
    console = Console()
    console.print(table)
    if n_differing > len(shown):
        console.print(f"{n_differing} config keys differ, {len(shown)} shown here; compare.md and compare.csv "
                      "have them all")
