"""`tuneforge preview`: encoded examples with their trained tokens highlighted, plus counts.

`preview.format=jsonl` prints one {"input_ids": [...], "labels": [...]} object a line on stdout and
nothing else there (counts go to stderr).
"""
from __future__ import annotations

import json
import sys
from typing import Any

from omegaconf import DictConfig

from .assemble import COMPONENTS_OF, assemble
from .text.dataset import encode_split
from .text.templates import get_template


def preview(cfg: DictConfig) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    assembly = assemble(cfg, COMPONENTS_OF["preview"])
    parts, settings = assembly.components, assembly.loader
    tokenizer = parts["model"].build_tokenizer()
    examples = parts["data"].build().get(cfg.preview.split, [])
    encoded, stats = encode_split(examples, tokenizer, get_template(settings.template), parts["loss_mask"],
                                  settings, cfg.preview.split)
    shown = encoded[: cfg.preview.limit]
    err = Console(stderr=True)
    if cfg.preview.format == "jsonl":
        for enc in shown:
            sys.stdout.write(json.dumps({"input_ids": enc.input_ids, "labels": enc.labels}) + "\n")
    else:
        out = Console()
        for i, enc in enumerate(shown):
            text = Text()
            for token_id, label in zip(enc.input_ids, enc.labels):
                piece = tokenizer.decode([token_id])
                text.append(piece, style="bold black on green" if label != -100 else "dim")
            out.rule(f"example {i}  ({len(enc.input_ids)} tokens, {enc.num_trained} trained)")
            out.print(text)
        out.print("[bold black on green]trained[/] [dim]not trained (-100)[/]")
    table = Table(title=f"preview of split {cfg.preview.split!r}")
    table.add_column("count")
    table.add_column("value", justify="right")
    for key, value in stats.as_metrics(cfg.preview.split).items():
        table.add_row(key.split("/", 2)[-1], str(value))
    err.print(table)
    return stats.as_metrics(cfg.preview.split)
