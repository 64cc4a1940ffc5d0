"""`tuneforge train`: fine-tune a model (no overrides: the quickstart on model=tiny).

Assemble and check the whole config, check a resume, build the model and its PEFT method, then for each
stage: prepare its data, evaluate before (first stage), fit, evaluate after, save the stage; finally write
the artefacts (adapter or model, metrics.json, loss curve).
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from tuneforge.artifacts import recorded, write_json, write_resolved_config
from tuneforge.config.assemble import TrainParts, assemble
from tuneforge.errors import TuneforgeError
from tuneforge.threads import idle_cores, set_openmp_waiting, use_threads

log = logging.getLogger("tuneforge.train")
set_openmp_waiting()  # libgomp reads it when torch loads, after this module (tuneforge/threads.py says why)
HEADLINE = ("train/loss", "val/loss", "exact_match_after")  # a staged run reports its last stage's as its own


def train(cfg: DictConfig) -> dict[str, Any]:
    """Run one training job; returns the metrics also written to `metrics.json`."""
    started = time.perf_counter()
    parts = assemble("train", cfg)  # every config problem is reported here, before any model is built
    parts.run_dir.mkdir(parents=True, exist_ok=True)
    record = recorded(cfg)
    if parts.resume:
        check_resume(record, parts.resume, parts.run_dir)  # and every checkpoint loads, before anything is written
    write_resolved_config(cfg, parts.run_dir / "config.yaml")
    log.debug("phase config %.3f", time.time())  # phases (wall clock) for benchmarks/startup.py --train

    import lightning.pytorch as pl

    from tuneforge.lightning.callbacks import LossHistory
    from tuneforge.model.load import build_model
    from tuneforge.artifacts import is_main_process
    from tuneforge.peft.base import count_parameters

    log.info("seed %s, optimizer %s, peft %s", parts.fit.seed, parts.fit.optimizer, cfg.peft.name)
    pl.seed_everything(parts.fit.seed, workers=True, verbose=False)
    model, tokenizer = build_model(parts.model, parts.peft)  # QLoRA: the base loads straight into 4-bit
    model = parts.peft.apply(model, tokenizer)
    trainable, total = count_parameters(model)
    threads = cfg.get("threads", "auto")
    idle = f" ({idle_cores()} core(s) idle)" if threads == "auto" and idle_cores() is not None else ""
    log.info("%d torch thread(s)%s", use_threads(threads), idle)
    log.debug("phase model %.3f", time.time())
    metrics: dict[str, Any] = {"params/trainable": trainable, "params/total": total}
    history = LossHistory()
    metrics |= train_stages(parts, model, tokenizer, history, record)

    metrics["runtime_s"] = round(time.perf_counter() - started, 2)
    if not is_main_process():  # other ranks of a distributed run write nothing
        return metrics
    history.plot(parts.run_dir / "loss_curve.png")
    from tuneforge.template.base import use_template

    use_template(tokenizer, parts.stages[-1].build_template(tokenizer))  # saved: the prompt format trained on
    artefacts = parts.peft.save(model, tokenizer, parts.run_dir)
    write_json(parts.run_dir / "metrics.json", metrics)
    from tuneforge.reports.model_card import write_model_cards

    write_model_cards(parts.run_dir, artefacts)  # README.md from the run (PEFT's own card is empty)
    write_json(parts.run_dir / "loss_history.json", {"train": history.train, "val": history.val})
    from tuneforge.reports.run_summary import print_summary

    print_summary(metrics, artefacts, parts.run_dir)
    return metrics


def train_stages(parts: TrainParts, model: Any, tokenizer: Any, history: Any, record: dict[str, Any]
                 ) -> dict[str, Any]:
    """Train every stage in order; returns the metrics (prefixed `stage<i>/` when there are stages). A stage
    finished in an earlier run is skipped (its weights loaded) only if its settings are unchanged."""
    from tuneforge.artifacts import is_main_process
    from tuneforge.lightning.fit import fit, fit_metrics
    from tuneforge.lightning.stage_weights import load_stage, save_stage
    from tuneforge.render.prepare import prepare_data

    metrics: dict[str, Any] = {}
    steps, run_dir, evaluation = 0, parts.run_dir, parts.fit.eval
    for stage in parts.stages:
        stage_dir = run_dir / "stages" / str(stage.index) if stage.index is not None else run_dir
        if stage.index is not None and (stage_dir / "done.json").exists():
            check_stage_unchanged(stage, stage_dir, stage_settings(record, stage.index))
            done = load_stage(model, stage_dir)
            log.info("stage %d (%s) finished in an earlier run: loaded its weights", stage.index, stage.name)
            metrics |= done
            steps += int(done.get(f"{stage.prefix}trainer/global_step", 0))
            continue
        template = stage.build_template(tokenizer)  # once: before/after and during-training evaluation share it
        data = prepare_data(stage.data, tokenizer, template, stage.loss_mask, stage.settings, stage_dir)
        log.debug("phase data %.3f", time.time())
        own = dict(data.metrics)
        evaluate = evaluation.enabled and data.eval_examples and is_main_process()
        if evaluate and evaluation.before and stage.index in (None, 0):
            own["exact_match_before"] = exact_match_before(model, tokenizer, template, data.eval_examples,
                                                           parts, stage_dir)
        if stage.index is not None:
            log.info("stage %d (%s): %d training examples", stage.index, stage.name, len(data.encoded["train"]))
        trainer = fit(stage, model, tokenizer, template, data, parts.peft.callbacks(), parts.fit, history,
                      step_offset=steps, stage_dir=stage_dir, params=record)
        own |= fit_metrics(trainer)
        steps += trainer.global_step
        if evaluate:
            own["exact_match_after"] = exact_match(model, tokenizer, template, data.eval_examples, parts)
        own = {f"{stage.prefix}{k}": v for k, v in own.items()}
        metrics |= own
        if stage.index is not None:
            save_stage(model, stage_dir, own, stage_settings(record, stage.index))
    first, last = parts.stages[0].prefix, parts.stages[-1].prefix
    if last:  # the run's headline numbers: the last stage's
        metrics |= {k[len(last):]: v for k, v in metrics.items() if k.startswith(last) and k[len(last):] in HEADLINE}
        if f"{first}exact_match_before" in metrics:
            metrics["exact_match_before"] = metrics[f"{first}exact_match_before"]
        metrics["trainer/global_step"] = steps
    return metrics


def exact_match(model: Any, tokenizer: Any, template: Any, examples: list, parts: TrainParts,
                when: str = "after training") -> float:
    """Greedy exact match on `examples`, through the metric registry like every other metric."""
    from tuneforge.lightning.precision import fit_autocast
    from tuneforge.metrics.evaluate import evaluate

    metric, started = parts.fit.eval.exact_match, time.perf_counter()
    with fit_autocast(parts.fit.trainer, model):  # a CPU bf16 fit's precision, as its own evaluation
        scores, _ = evaluate(model, tokenizer, template, examples, {"exact_match": metric},
                             parts.fit.eval.generation, progress=True)
    log.info("exact match %s: %.3f on %d held-out examples (%.1f s, batches of %d)", when, scores["exact_match"],
             len(examples), time.perf_counter() - started, parts.fit.eval.generation.batch_size)
    return scores["exact_match"]


def exact_match_before(model: Any, tokenizer: Any, template: Any, examples: list, parts: TrainParts,
                       stage_dir: Path) -> float:
    """Exact match before training, kept in `eval_before.json`: a resumed run reuses it instead of
    measuring its half-trained weights."""
    cache = Path(stage_dir) / "eval_before.json"
    if parts.resume and cache.is_file():
        return json.loads(cache.read_text())["exact_match_before"]
    value = exact_match(model, tokenizer, template, examples, parts, when="before training")
    write_json(cache, {"exact_match_before": value})
    return value


#: What may change between a run and its resume: how long it runs, and what it logs and evaluates.
RESUMABLE_CHANGES = ("resume", "trainer.max_steps", "trainer.max_epochs", "threads")
#: Not part of a stage's settings (a finished stage stays valid when only these change).
NOT_STAGE_SETTINGS = ("resume", "run_dir", "eval", "logger", "callbacks", "checkpoint", "optimized_metric")


def stage_settings(record: dict[str, Any], index: int) -> dict[str, Any]:
    """What stage `index` was trained with: the recorded config up to and including that stage."""
    out = {k: v for k, v in record.items() if k not in NOT_STAGE_SETTINGS and k != "stages"}
    return out | {"stages": list(record.get("stages") or [])[: index + 1]}


def check_stage_unchanged(stage: Any, stage_dir: Path, settings: dict[str, Any]) -> None:
    """A finished stage whose settings changed is never silently skipped: refused with the diff."""
    from tuneforge.lightning.resume import config_diff

    saved = json.loads((stage_dir / "done.json").read_text()).get("settings")
    diff = config_diff(saved, settings) if saved is not None else []
    if diff:
        raise TuneforgeError(f"stage {stage.index} ({stage.name}) finished in an earlier run with other settings:\n  "
                             + "\n  ".join(diff) + f"\nto train it again, delete {stage_dir}; or train into "
                             "another hydra.run.dir")


def checkpoints(run_dir: Path) -> list[Path]:
    return sorted([*run_dir.glob("checkpoints/last.ckpt"), *run_dir.glob("stages/*/checkpoints/last.ckpt")])


def check_resume(record: dict[str, Any], resume: str, run_dir: Path) -> None:
    """resume=auto continues only the same experiment: a changed config is refused with its diff (resume=force
    continues anyway); checkpoints without the config.yaml they were made with are refused (force takes them);
    and every checkpoint is verified and loaded once, before this run writes anything."""
    import yaml

    from tuneforge.lightning.resume import AtomicCheckpointIO, config_diff

    saved_file, found = run_dir / "config.yaml", checkpoints(run_dir)
    if not saved_file.is_file():
        if found and resume != "force":
            raise TuneforgeError(f"refusing to resume: {run_dir} holds checkpoints ({found[0]}) but no config.yaml, "
                                 "so nothing says they come from this experiment (resume=force takes them anyway)")
        if not found:
            log.info("resume=%s: %s has no earlier run; starting fresh", resume, run_dir)
    else:
        diff = [d for d in config_diff(yaml.safe_load(saved_file.read_text()), record)
                if d.split(":")[0] not in RESUMABLE_CHANGES]
        if diff and resume != "force":
            raise TuneforgeError("refusing to resume: the config differs from the run's saved config.yaml:\n  "
                                 + "\n  ".join(diff) + "\n(resume=force continues anyway)")
    for ckpt in found:
        AtomicCheckpointIO().load_checkpoint(ckpt)


def optimized_value(metrics: dict[str, Any], name: str | None) -> Any:
    """With `optimized_metric` set (e.g. by conf/hparams_search/*), the job returns that metric as a
    float, what a sweeper such as Optuna optimises; otherwise the metrics dict."""
    if not name:
        return metrics
    value = metrics.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        numeric = sorted(k for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
        raise TuneforgeError(f"optimized_metric {name!r} is not a number in metrics.json (got {value!r}); "
                             f"numeric metrics: {', '.join(numeric)}")
    return float(value)


def main(cfg: DictConfig) -> Any:
    """The Hydra task: the metrics, or the optimized metric's value for a sweeper."""
    return optimized_value(train(cfg), cfg.get("optimized_metric"))
