"""The checks of a run's settings beyond its components: unknown root keys, the keys of the `_target_` nodes
(Trainer, optimizer, callbacks, loggers) against their own signatures, the checkpoint settings, and the ranges
that a type alone does not say (positive sizes, a finite positive learning rate, a bounded run). Each problem
goes to the command's Issues with its config path, so that `validate` and the command report the same lines
before any work starts."""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

from tuneforge.config.issues import Issues

#: Top-level keys of each primary config (conf/<command>.yaml); anything else (`+foo.bar=1`) is a typo.
ROOT_KEYS = {
    "train": ("seed", "run_dir", "optimized_metric", "model", "data", "template", "loss_mask", "peft", "optimizer",
              "scheduler", "trainer", "logger", "callbacks", "stages", "checkpoint", "resume", "eval",
              "threads"),
    "preview": ("seed", "run_dir", "model", "data", "template", "loss_mask", "preview"),
    "eval": ("seed", "run_dir", "run", "adapter", "split", "limit", "model", "data", "template", "metrics",
             "generation"),
    "generate": ("seed", "run_dir", "llm", "pipeline", "filters", "evolution"),
}
#: The arguments fit.py passes to each `_target_` itself (not config keys).
PASSED_BY_FIT = {"trainer": ("callbacks", "logger", "plugins"), "optimizer": ("params",)}


@dataclass
class CheckpointSettings:
    enabled: bool = True
    every_n_steps: int | None = 100


def check_root(c: dict[str, Any], command: str, issues: Issues) -> None:
    known = ROOT_KEYS[command]
    for key in c:
        if key not in known and key != "hydra":
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            issues.add(str(key), f"unknown key at the top of the {command} config.{hint} Valid: {', '.join(known)}")


def check_target_keys(node: Any, path: str, issues: Issues) -> None:
    """The keys of a `_target_` node against the signature of what it builds (the allow-list checked the
    target itself before), then its values through the target's own `config_issues(**kwargs)` if it has one."""
    from hydra._internal.utils import _locate

    from tuneforge.binding import check_arguments
    from tuneforge.errors import ConfigError

    if not isinstance(node, dict) or not isinstance(node.get("_target_"), str):
        return
    try:
        obj = _locate(node["_target_"])
    except Exception:  # noqa: BLE001 (reported by the allow-list check)
        return
    place = path.split(".")[0]
    try:
        kwargs = check_arguments(obj, node, path, node["_target_"], objects=PASSED_BY_FIT.get(place, ()))
    except ConfigError as err:
        issues.items += err.issues
        return
    values = getattr(obj, "config_issues", None)  # a target's own value checks (e.g. NEFTune's alpha >= 0)
    if callable(values):
        for key, message in values(**kwargs).items():
            issues.add(f"{path}.{key}", message)


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def check_ranges(c: dict[str, Any], issues: Issues) -> None:
    """What a type does not say: sizes > 0, a finite positive learning rate, a run that ends."""
    for path in ("data.batch_size", "data.eval_batch_size", "data.max_length", "data.pack_length",
                 "eval.batch_size", "eval.max_new_tokens", "optimizer.lr", "checkpoint.every_n_steps"):
        group, key = path.split(".")
        node = c.get(group) or {}
        if key in node and node[key] is not None and not _positive(node[key]):
            issues.add(path, f"expected a positive{' finite' if key == 'lr' else ''} number, got {node[key]!r}")
    trainer = c.get("trainer") or {}
    steps, epochs = trainer.get("max_steps", -1), trainer.get("max_epochs")
    for key, value in (("max_steps", steps), ("max_epochs", epochs)):
        if isinstance(value, int) and not isinstance(value, bool) and value != -1 and value <= 0:
            issues.add(f"trainer.{key}", f"expected a positive int (or -1: no limit), got {value}")
    stages = c.get("stages") or []  # max_epochs null: Lightning's default of 1000 epochs
    if steps in (-1, None) and epochs == -1 and not (stages and all(
            isinstance(s, dict) and (s.get("max_steps") or s.get("max_epochs")) for s in stages)):
        issues.add("trainer.max_steps", "the run would never end: set trainer.max_steps or trainer.max_epochs")
