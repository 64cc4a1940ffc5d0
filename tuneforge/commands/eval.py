"""`tuneforge eval`: load a model (a run directory, a model + adapter, or any model config), generate
on a split, score it with the selected metrics, write predictions.jsonl and metrics.json."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tuneforge.artifacts import write_json, write_text
from tuneforge.config.assemble import loader_settings
from tuneforge.data.base import LOADER_KEYS
from tuneforge.errors import ConfigError, ConfigIssue, TuneforgeError
from tuneforge.binding import bind


def _cli_overrides() -> list[str]:
    try:
        from hydra.core.hydra_config import HydraConfig

        return list(HydraConfig.get().overrides.task)
    except Exception:  # composed outside a Hydra app (tests)
        return []


def source_nodes(cfg: DictConfig) -> tuple[dict, dict | None, dict, int]:
    """(model node, peft node or None, data node, seed): from `run`'s config.yaml when given, except
    data overridden on the command line."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    if not cfg.get("run"):
        return plain["model"], None, plain["data"], plain["seed"]
    config_file = Path(cfg.run) / "config.yaml"
    if not config_file.is_file():
        raise ConfigError(ConfigIssue("run", f"{cfg.run!r} is not a tuneforge run directory "
                                             f"(no {config_file.name})"))
    run_cfg = OmegaConf.to_container(OmegaConf.load(config_file), resolve=False)
    data_overridden = any(o.lstrip("+~").startswith(("data=", "data.")) for o in _cli_overrides())
    data = plain["data"] if data_overridden else run_cfg["data"]
    return run_cfg["model"], run_cfg["peft"], data, run_cfg.get("seed", plain["seed"])


def run_eval(cfg: DictConfig) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    model_node, peft_node, data_node, seed = source_nodes(cfg)
    issues, metrics = [], {}
    for key, node in (OmegaConf.to_container(cfg.metrics, resolve=True) or {}).items():
        try:
            metrics[key] = bind("metric", node, f"metrics.{key}").build()
        except ConfigError as err:
            issues += err.issues
    try:
        builder = bind("model", model_node, "model").build()
        peft = bind("peft", peft_node, "peft").build() if peft_node else None
        settings = loader_settings(data_node)
        data = bind("data_builder", {k: v for k, v in data_node.items() if k not in LOADER_KEYS}, "data").build()
    except ConfigError as err:
        raise ConfigError(issues + err.issues) from None
    if issues:
        raise ConfigError(issues)
    if not metrics:
        raise ConfigError(ConfigIssue("metrics", "select at least one metric, e.g. metrics=[exact_match]"))

    import lightning.pytorch as pl

    from tuneforge.metrics.evaluate import evaluate
    from tuneforge.inference.generate import GenerationSettings
    from tuneforge.template.named import get_template

    pl.seed_everything(seed, verbose=False)  # a run's tiny base model is rebuilt exactly as in training
    model, tokenizer = builder.build()
    if peft is not None:
        model = peft.load(model, Path(cfg.run))
    elif cfg.get("adapter"):
        from tuneforge.peft._hf import load_adapter

        model = load_adapter(model, Path(cfg.adapter))
    splits = data.build()
    examples = splits.get(cfg.split) or splits.get("val") or []
    if not examples:
        raise TuneforgeError(f"data has no {cfg.split!r} (or val) examples to evaluate")
    examples = examples[: cfg.limit] if cfg.get("limit") else examples
    template = get_template(settings.template, tokenizer)
    generation = GenerationSettings(**OmegaConf.to_container(cfg.generation, resolve=True))
    scores, predictions = evaluate(model, tokenizer, template, examples, metrics, generation, progress=True)

    out = Path(cfg.run_dir)
    if predictions is not None:
        lines = [json.dumps({"prompt": ex.prompt_messages, "reference": ex.reference, "prediction": pred},
                            ensure_ascii=False) for ex, pred in zip(examples, predictions)]
        write_text(out / "predictions.jsonl", "\n".join(lines) + "\n")
    result = {f"eval/{k}": v for k, v in scores.items()} | {"eval/examples": len(examples)}
    write_json(out / "metrics.json", result)
    table = Table(title=f"tuneforge eval ({len(examples)} examples of {cfg.split!r})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in scores.items():
        table.add_row(key, f"{value:.4f}")
    table.add_row("output", str(out))
    Console().print(table)
    return result
