"""`tuneforge eval`: load a model (a run directory, a model + adapter, or any model config), generate
on a split, score it with the selected metrics, write predictions.jsonl and metrics.json."""
from __future__ import annotations

import json
from typing import Any

from omegaconf import DictConfig

from tuneforge.artifacts import write_json, write_text
from tuneforge.commands._shared import load_trained
from tuneforge.config.assemble import assemble
from tuneforge.errors import TuneforgeError


def run_eval(cfg: DictConfig) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    parts = assemble("eval", cfg)

    from tuneforge.metrics.evaluate import evaluate

    model, tokenizer = load_trained(parts.model, parts.peft, parts.source, parts.seed)
    splits = parts.data.build()
    examples = splits.get(parts.split) or splits.get("val") or []
    if not examples:
        raise TuneforgeError(f"data has no {parts.split!r} (or val) examples to evaluate")
    examples = examples[: parts.limit] if parts.limit else examples
    template = parts.template.build(tokenizer=tokenizer)
    scores, predictions = evaluate(model, tokenizer, template, examples, parts.metrics, parts.generation,
                                   progress=True)

    out = parts.run_dir
    if predictions is not None:
        lines = [json.dumps({"prompt": ex.prompt_messages, "reference": ex.reference, "prediction": pred},
                            ensure_ascii=False) for ex, pred in zip(examples, predictions)]
        write_text(out / "predictions.jsonl", "\n".join(lines) + "\n")
    result = {f"eval/{k}": v for k, v in scores.items()} | {"eval/examples": len(examples)}
    write_json(out / "metrics.json", result)
    table = Table(title=f"tuneforge eval ({len(examples)} examples of {parts.split!r})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in scores.items():
        table.add_row(key, f"{value:.4f}")
    table.add_row("output", str(out))
    Console().print(table)
    return result
