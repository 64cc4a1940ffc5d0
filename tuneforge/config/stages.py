"""Training in stages (the seed's multi-stage instruction tuning): a `stages:` list in one config.

Each stage may set its own `data` (a node with `name` selects a builder as `data=<name>` would, the
loader keys of conf/data/<name>.yaml over the top-level ones; a node without `name` is merged over
the top-level `data`), `loss_mask`, `scheduler`, `lr`, and `max_steps` or `max_epochs`; it starts
from the weights the previous stage left. Metrics of stage i are prefixed `stage<i>/`. After each
stage its trainable weights and a `done.json` go under `<run_dir>/stages/<i>/`: rerunning in the same
run directory skips finished stages (loading their weights) and continues with the first unfinished
one.
Without `stages`, a run is one unprefixed stage over the top-level config.
"""
from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneforge.config.assemble import loader_settings
from tuneforge.data.base import LOADER_KEYS, LoaderSettings
from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.lightning.distributed import is_main_process

log = logging.getLogger("tuneforge.config.stages")
STAGE_KEYS = ("name", "data", "loss_mask", "scheduler", "lr", "max_steps", "max_epochs")


@dataclass
class Stage:
    index: int | None  # None: the single stage of a run without `stages`
    name: str
    data: Any
    settings: LoaderSettings
    loss_mask: Any
    scheduler: Any
    lr: float | None = None
    max_steps: int | None = None
    max_epochs: int | None = None

    @property
    def prefix(self) -> str:
        return "" if self.index is None else f"stage{self.index}/"


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _option_loader_keys(name: str) -> dict[str, Any]:
    """Loader keys (template, max_length, ...) that conf/data/<name>.yaml sets, if it exists."""
    from omegaconf import OmegaConf

    from tuneforge.config.paths import CONF_DIR

    path = CONF_DIR / "data" / f"{name}.yaml"
    if not path.is_file():
        return {}
    node = OmegaConf.load(path)
    return {k: node[k] for k in LOADER_KEYS if k in node and not OmegaConf.is_missing(node, k)}


def plan_stages(cfg: Any, parts: dict[str, Any], settings: LoaderSettings) -> list[Stage]:
    """The stages of a run, every stage's config checked (all problems reported at once)."""
    from omegaconf import OmegaConf

    from tuneforge.binding import bind

    nodes = OmegaConf.to_container(cfg, resolve=True).get("stages") or []
    if not nodes:
        return [Stage(None, "train", parts["data"], settings, parts["loss_mask"], parts["scheduler"])]
    top = OmegaConf.to_container(cfg.data, resolve=True)
    issues, stages = [], []
    for i, node in enumerate(nodes):
        path = f"stages[{i}]"
        if not isinstance(node, dict):
            issues.append(ConfigIssue(path, "expected a mapping with data / lr / max_steps / ..."))
            continue
        issues += [ConfigIssue(f"{path}.{k}", f"unknown stage key; valid: {', '.join(STAGE_KEYS)}")
                   for k in node if k not in STAGE_KEYS]
        data_node = node.get("data") or {}
        if "name" in data_node:  # like `data=<name>`: its option file's loader keys over the top level's
            data_node = {**{k: v for k, v in top.items() if k in LOADER_KEYS},
                         **_option_loader_keys(data_node["name"]), **data_node}
        else:
            data_node = _merge(top, data_node)
        stage = Stage(i, str(node.get("name", f"stage{i}")), None, settings, parts["loss_mask"],
                      parts["scheduler"], node.get("lr"), node.get("max_steps"), node.get("max_epochs"))
        try:
            stage.settings = loader_settings(data_node)
            stage.data = bind("data_builder", {k: v for k, v in data_node.items() if k not in LOADER_KEYS},
                              f"{path}.data").build()
        except ConfigError as err:
            issues += err.issues
        for key, kind in (("loss_mask", "loss_masker"), ("scheduler", "scheduler")):
            if node.get(key) is not None:
                try:
                    setattr(stage, key, bind(kind, node[key], f"{path}.{key}").build())
                except ConfigError as err:
                    issues += err.issues
        for key, tp in (("lr", float), ("max_steps", int), ("max_epochs", int)):
            value = node.get(key)
            if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)
                                      or tp is int and not isinstance(value, int) or value <= 0):
                issues.append(ConfigIssue(f"{path}.{key}", f"expected a positive {tp.__name__}, got {value!r}"))
        stages.append(stage)
    if issues:
        raise ConfigError(issues)
    return stages


def _stage_dir(run_dir: Path, stage: Stage) -> Path:
    return run_dir / "stages" / str(stage.index)


def save_stage(model: Any, stage_dir: Path, metrics: dict[str, Any]) -> None:
    """Trainable weights, then `done.json` (written last: its presence means the stage finished)."""
    import os

    import torch

    from tuneforge.artifacts import write_json

    if not is_main_process():
        return
    stage_dir.mkdir(parents=True, exist_ok=True)
    weights = {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad}
    tmp = stage_dir / ".weights.pt.tmp"
    with open(tmp, "wb") as f:
        torch.save(weights, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, stage_dir / "weights.pt")
    write_json(stage_dir / "done.json", {"metrics": metrics})


def load_stage(model: Any, stage_dir: Path) -> dict[str, Any]:
    import torch

    weights = torch.load(stage_dir / "weights.pt", map_location="cpu", weights_only=True)
    missing = [n for n, p in model.named_parameters() if p.requires_grad and n not in weights]
    if missing:
        from tuneforge.errors import TuneforgeError

        raise TuneforgeError(f"{stage_dir}/weights.pt lacks {len(missing)} trainable tensor(s) "
                             f"(e.g. {missing[0]}): was the run's model or peft config changed?")
    model.load_state_dict(weights, strict=False)
    return json.loads((stage_dir / "done.json").read_text())["metrics"]


def run_stages(stages: list[Stage], model: Any, tokenizer: Any, parts: dict[str, Any], cfg: Any,
               run_dir: Path, history: Any) -> dict[str, Any]:
    """Train every stage in order; returns the metrics (prefixed per stage when there are stages)."""
    from tuneforge.lightning.callbacks import RunStats
    from tuneforge.render.prepare import prepare_data
    from tuneforge.template.named import get_template
    from tuneforge.commands.train import evaluate_exact_match

    metrics: dict[str, Any] = {}
    steps = 0
    for stage in stages:
        stage_dir = _stage_dir(run_dir, stage) if stage.index is not None else run_dir
        if stage.index is not None and (stage_dir / "done.json").exists():
            done = load_stage(model, stage_dir)
            log.info("stage %d (%s) finished in an earlier run: loaded its weights", stage.index, stage.name)
            metrics |= done
            steps += int(done.get(f"{stage.prefix}trainer/global_step", 0))
            continue
        template = get_template(stage.settings.template, tokenizer)
        data = prepare_data(stage.data, tokenizer, template, stage.loss_mask, stage.settings, stage_dir)
        own = dict(data.metrics)
        evaluate = cfg.eval.enabled and data.eval_examples and is_main_process()
        if evaluate and cfg.eval.before and stage.index in (None, 0):
            own["exact_match_before"] = _eval_before(model, tokenizer, template, data.eval_examples, cfg,
                                                     stage_dir)
        if stage.index is not None:
            log.info("stage %d (%s): %d training examples", stage.index, stage.name, len(data.encoded["train"]))
        trainer = fit(stage, model, tokenizer, data, parts, cfg, history, step_offset=steps, stage_dir=stage_dir)
        own |= {k: float(v) for k, v in trainer.callback_metrics.items() if k in ("train/loss", "val/loss")}
        own |= {k: v for cb in trainer.callbacks if hasattr(cb, "latest") for k, v in cb.latest().items()}
        own |= next((c.metrics() for c in trainer.callbacks if isinstance(c, RunStats)), {})
        own["trainer/global_step"] = trainer.global_step
        steps += trainer.global_step
        if evaluate:
            own["exact_match_after"] = evaluate_exact_match(model, tokenizer, template, data.eval_examples, cfg)
        own = {f"{stage.prefix}{k}": v for k, v in own.items()}
        metrics |= own
        if stage.index is not None:
            save_stage(model, stage_dir, own)
    if stages[-1].index is not None:  # the run's headline numbers: the last stage's
        last = stages[-1].prefix
        metrics |= {k[len(last):]: v for k, v in metrics.items()
                    if k.startswith(last) and k[len(last):] in ("train/loss", "val/loss", "exact_match_after")}
        if f"{stages[0].prefix}exact_match_before" in metrics:
            metrics["exact_match_before"] = metrics[f"{stages[0].prefix}exact_match_before"]
        metrics["trainer/global_step"] = steps
    return metrics


def _eval_before(model: Any, tokenizer: Any, template: Any, examples: list, cfg: Any, stage_dir: Path) -> float:
    """Exact match before training, kept in `eval_before.json`: a resumed run reuses it instead of
    measuring its half-trained weights."""
    from tuneforge.artifacts import write_json
    from tuneforge.commands.train import evaluate_exact_match

    cache = Path(stage_dir) / "eval_before.json"
    if cfg.get("resume") and cache.is_file():
        return json.loads(cache.read_text())["exact_match_before"]
    value = evaluate_exact_match(model, tokenizer, template, examples, cfg)
    write_json(cache, {"exact_match_before": value})
    return value


def generation_eval(cfg: Any, data: Any, tokenizer: Any, template: Any, best_path: Path) -> Any:
    """The during-training evaluation callback that `eval.every_n_steps` asks for."""
    from tuneforge.errors import ConfigError, ConfigIssue
    from tuneforge.inference.generate import GenerationSettings
    from tuneforge.lightning.eval_callback import GenerationEval
    from tuneforge.binding import build

    names = list(cfg.eval.metrics)
    if cfg.eval.best_by and cfg.eval.best_by not in names:
        raise ConfigError(ConfigIssue("eval.best_by", f"{cfg.eval.best_by!r} is not one of eval.metrics {names}"))
    metrics = {n: build("metric", {"name": n}, f"eval.metrics.{n}") for n in names}
    examples = data.val_examples[: cfg.eval.limit] if cfg.eval.limit else data.val_examples
    generation = GenerationSettings(batch_size=cfg.eval.batch_size, max_new_tokens=cfg.eval.max_new_tokens)
    return GenerationEval(examples, tokenizer, template, metrics, cfg.eval.every_n_steps, generation,
                          cfg.eval.best_by, cfg.eval.best_mode, best_path)


def fit(stage: Stage, model: Any, tokenizer: Any, data: Any, parts: dict[str, Any], cfg: Any,
        history: Any, step_offset: int = 0, stage_dir: Path | None = None) -> Any:
    """One Lightning fit over the stage's data, from the model's current weights; checkpoints go to
    `<stage_dir>/checkpoints` and, with `resume` set, training continues from its `last.ckpt`."""
    import lightning.pytorch as pl
    from hydra.utils import instantiate

    from tuneforge.lightning.callbacks import LossHistory, RunStats
    from tuneforge.lightning.loaders import make_loader
    from tuneforge.lightning.module import SFTModule
    from tuneforge.template.named import get_template
    from tuneforge.lightning.distributed import end_distributed, install_launcher_patch
    from tuneforge.lightning.resume import (AtomicCheckpointIO, LoaderPosition, PeriodicCheckpoint, RNGState,
                                   StopOnSignal)

    ckpt_dir = Path(stage_dir or cfg.run_dir) / "checkpoints"
    last = ckpt_dir / "last.ckpt"
    stage_history = LossHistory()
    settings, pad = stage.settings, tokenizer.pad_token_id
    position = LoaderPosition()  # gets the loader once the trainer says which rank this is
    # The method's own callbacks (e.g. AdaLoRA's allocator) run before the checkpoint is taken.
    callbacks = [stage_history, RunStats(), RNGState(), position, *parts["peft"].callbacks()]
    if cfg.eval.get("every_n_steps"):
        callbacks.append(generation_eval(cfg, data, tokenizer, get_template(settings.template, tokenizer),
                                         ckpt_dir / "best.ckpt"))
    if cfg.checkpoint.enabled:  # after the evaluation, so the checkpoint holds its result
        callbacks += [PeriodicCheckpoint(last, cfg.checkpoint.every_n_steps), StopOnSignal(last)]
    callbacks += [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    loggers = [instantiate(lg) for lg in (cfg.get("logger") or {}).values() if lg is not None]
    length = {}
    if stage.max_steps is not None or stage.max_epochs is not None:
        length = {"max_steps": stage.max_steps or -1, "max_epochs": stage.max_epochs or -1}
    install_launcher_patch()  # a `ddp` rank runs this job's overrides only, also inside a multirun
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False,
                                      plugins=[AtomicCheckpointIO()], **length)
    train_loader = position.loader = make_loader(data.encoded["train"], settings, pad, train=True, seed=cfg.seed,
                                                 num_replicas=trainer.world_size, rank=trainer.global_rank)
    optimizer = {"lr": stage.lr} if stage.lr is not None else {}
    module = SFTModule(model, instantiate(cfg.optimizer, _partial_=True, **optimizer), stage.scheduler,
                       weight_decay=float(cfg.optimizer.get("weight_decay", 0.0)))
    val_loader = make_loader(data.encoded["val"], settings, pad, train=False, seed=cfg.seed) \
        if data.encoded["val"] else None
    resume_from = last if cfg.get("resume") and last.is_file() else None
    if resume_from is not None:
        log.info("resuming from %s", resume_from)
    trainer.fit(module, train_loader, val_loader, ckpt_path=resume_from)
    end_distributed()  # the next job of a multirun (or the next stage) starts its own group
    stopped = [c.received for c in callbacks if isinstance(c, StopOnSignal) and c.received is not None]
    if stopped:
        from tuneforge.errors import TuneforgeError

        raise TuneforgeError(f"training stopped by signal {stopped[0]} at step {trainer.global_step}; "
                             f"checkpoint {last}; continue with resume=auto")
    history.train += [(s + step_offset, v) for s, v in stage_history.train]
    history.val += [(s + step_offset, v) for s, v in stage_history.val]
    return trainer
