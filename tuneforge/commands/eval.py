"""`tuneforge eval`: load a model (a run directory, a model + adapter, or any model config), generate
on a split, score it with the selected metrics, write predictions.jsonl and metrics.json."""
from __future__ import annotations

import json
from typing import Any

from omegaconf import DictConfig

from tuneforge.artifacts import write_json, write_text
from tuneforge.config.assemble import assemble
from tuneforge.errors import TuneforgeError


def run_eval(cfg: DictConfig) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    parts = assemble("eval", cfg)

    import lightning.pytorch as pl

    from tuneforge.metrics.evaluate import evaluate
    from tuneforge.model.load import build_model

    pl.seed_everything(parts.seed, verbose=False)  # a run's tiny base model is rebuilt exactly as in training
    model, tokenizer = build_model(parts.model, parts.peft)
    if parts.peft is not None:
        model = parts.peft.load(model, parts.source)
    elif parts.source is not None:
        from tuneforge.peft._hf import load_adapter

        model = load_adapter(model, parts.source)
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
