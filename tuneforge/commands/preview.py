"""`tuneforge preview`: encoded examples with their trained tokens highlighted, plus counts.

It prepares the data exactly as `train` does (builder, mixing, template, loss mask, truncation) and
shows `preview.limit` examples of `preview.split` (train or val). `preview.format=jsonl` prints one
{"input_ids": [...], "labels": [...]} object a line on stdout and nothing else there (logs and counts
go to stderr).
"""
from __future__ import annotations

import json
import logging
import sys
from typing import Any

from omegaconf import DictConfig

from tuneforge.config.assemble import assemble
from tuneforge.render.encode import IGNORE_INDEX
from tuneforge.render.prepare import prepare_data

TRAINED, CONTEXT = "bold black on green", "dim"


def _logs_to_stderr() -> None:
    """Hydra's console handler writes to stdout: move every stdout stream handler to stderr."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) is sys.stdout:
            handler.setStream(sys.stderr)


def preview(cfg: DictConfig) -> dict[str, Any]:
    from rich.console import Console

    parts = assemble("preview", cfg)
    fmt, split, stage = parts.format, parts.split, parts.stage
    if fmt == "jsonl":
        _logs_to_stderr()
    tokenizer = parts.model.build_tokenizer()
    template = stage.build_template(tokenizer)
    data = prepare_data(stage.data, tokenizer, template, stage.loss_mask, stage.settings)
    shown = data.encoded[split][: parts.limit]
    if fmt == "jsonl":
        for enc in shown:
            sys.stdout.write(json.dumps({"input_ids": enc.input_ids, "labels": enc.labels}) + "\n")
        sys.stdout.flush()
    else:
        out = Console()
        for i, enc in enumerate(shown):
            out.rule(f"{split} example {i}: {len(enc.input_ids)} tokens, {enc.num_trained} trained"
                     + (" (truncated)" if enc.truncated else ""))
            out.print(render_tokens(tokenizer, enc.input_ids, enc.labels, markers=out.color_system is None))
        legend = f"[{TRAINED}]trained[/]" if out.color_system else "⟦trained⟧"
        out.print(f"{legend} [{CONTEXT}]not trained (-100)[/]  "
                  f"template={getattr(template, 'name', cfg.template.name)}  "
                  f"loss_mask={cfg.loss_mask.name}")
    counts = summary(data.metrics, split)
    Console(stderr=True).print(counts_table(counts, split))
    return counts


def render_tokens(tokenizer: Any, input_ids: list[int], labels: list[int], markers: bool = False) -> Any:
    """Rich text of the decoded tokens: trained runs highlighted (without colours: between ⟦ and ⟧),
    trained newlines shown as ↵."""
    from rich.text import Text

    text, previous = Text(), False
    for token_id, label in zip(input_ids, labels):
        piece = tokenizer.decode([token_id])
        trained = label != IGNORE_INDEX
        if trained and "\n" in piece:
            piece = piece.replace("\n", "↵\n")
        if markers and trained != previous:
            text.append("⟦" if trained else "⟧")
        text.append(piece, style=TRAINED if trained else CONTEXT)
        previous = trained
    if markers and previous:
        text.append("⟧")
    return text


def summary(metrics: dict[str, Any], split: str) -> dict[str, Any]:
    """The preview's counts: examples, tokens, trained tokens, truncated, rejected, mix shares."""
    p = f"data/{split}/"
    counts = {"examples": metrics.get(f"{p}kept", 0), "tokens": metrics.get(f"{p}tokens", 0),
              "trained tokens": metrics.get(f"{p}trained_tokens", 0),
              "truncated": metrics.get(f"{p}truncated", 0),
              "records read": metrics.get("data/read", 0), "records rejected": metrics.get("data/rejected", 0)}
    counts |= {f"rejected: {k.split('/', 2)[2]}": v for k, v in metrics.items() if k.startswith("data/rejected/")}
    counts |= {f"share: {k.split('/')[2]}": v for k, v in metrics.items()
               if k.startswith("data/mix/") and k.endswith("/share")}
    return counts


def counts_table(counts: dict[str, Any], split: str) -> Any:
    from rich.table import Table

    table = Table(title=f"preview of split {split!r}")
    table.add_column("count")
    table.add_column("value", justify="right")
    for key, value in counts.items():
        table.add_row(key, str(value))
    return table
