"""`tuneforge train`: assemble, prepare the data, fit (in stages when configured), evaluate before and
after, write the artefacts."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from tuneforge.config.assemble import assemble
from tuneforge.lightning.distributed import is_main_process
from tuneforge.artifacts import write_json, write_resolved_config
from tuneforge.metrics.exact_match import ExactMatch

log = logging.getLogger("tuneforge.commands.train")


def evaluate_exact_match(model: Any, tokenizer: Any, template: Any, examples: list, cfg: DictConfig) -> float:
    from tuneforge.inference.generate import generate_responses

    predictions = generate_responses(model, tokenizer, template, examples, batch_size=cfg.eval.batch_size,
                                     max_new_tokens=cfg.eval.max_new_tokens)
    return ExactMatch().score(predictions, [ex.reference for ex in examples])


def check_resume(cfg: DictConfig, run_dir: Path) -> None:
    """resume=auto continues only the same experiment: a changed config is refused with its diff."""
    import yaml

    from tuneforge.artifacts import redacted
    from tuneforge.errors import TuneforgeError
    from tuneforge.lightning.resume import config_diff

    if cfg.resume not in ("auto", "force"):
        raise TuneforgeError(f"resume: expected auto, force or null, got {cfg.resume!r}")
    saved_file = run_dir / "config.yaml"
    if not saved_file.is_file():
        log.info("resume=%s: %s has no earlier run; starting fresh", cfg.resume, run_dir)
        return
    ignore = {"resume", "trainer.max_steps", "trainer.max_epochs"}
    diff = [d for d in config_diff(yaml.safe_load(saved_file.read_text()), redacted(cfg))
            if d.split(":")[0] not in ignore]
    if diff and cfg.resume != "force":
        raise TuneforgeError("refusing to resume: the config differs from the run's saved config.yaml:\n  "
                             + "\n  ".join(diff) + "\n(resume=force continues anyway)")


def train(cfg: DictConfig) -> dict[str, Any]:
    """Run one training job; returns the metrics also written to `metrics.json`."""
    started = time.perf_counter()
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    assembly = assemble(cfg)  # every config problem is reported here, before any model is built
    parts, settings = assembly.components, assembly.loader
    from tuneforge.config.stages import plan_stages, run_stages

    stages = plan_stages(cfg, parts, settings)  # the stages' config problems too
    if cfg.get("resume"):
        check_resume(cfg, run_dir)
    write_resolved_config(cfg, run_dir / "config.yaml")

    import lightning.pytorch as pl

    from tuneforge.lightning.callbacks import LossHistory
    from tuneforge.peft.base import count_parameters

    log.info("seed %s, optimizer %s, peft %s", cfg.seed, dict(cfg.optimizer), cfg.peft.name)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    model, tokenizer = parts["model"].build()
    model = parts["peft"].apply(model, tokenizer)
    trainable, total = count_parameters(model)
    metrics: dict[str, Any] = {"params/trainable": trainable, "params/total": total}
    history = LossHistory()
    metrics |= run_stages(stages, model, tokenizer, parts, cfg, run_dir, history)

    metrics["runtime_s"] = round(time.perf_counter() - started, 2)
    if not is_main_process():  # other ranks of a distributed run write nothing
        return metrics
    history.plot(run_dir / "loss_curve.png")
    artefacts = parts["peft"].save(model, tokenizer, run_dir)
    write_json(run_dir / "metrics.json", metrics)
    write_json(run_dir / "loss_history.json", {"train": history.train, "val": history.val})
    from tuneforge.reports.run_summary import print_summary

    print_summary(metrics, artefacts, run_dir)
    return metrics
