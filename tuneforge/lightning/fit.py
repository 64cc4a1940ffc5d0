"""`fit`: one Lightning fit of a stage's data from the model's current weights.

It receives built objects and settings, never the whole config: the assembler (tuneforge/config/assemble.py)
checked everything before, and the objects from outside tuneforge (Trainer, optimizer, callbacks, loggers) arrive
as `_target_` nodes that passed the allow-list.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("tuneforge.fit")


@dataclass
class EvalSettings:
    """Greedy evaluation of a run: exact match before / after training and, with `every_n_steps`,
    `metrics` on the validation split during training (`best_by` keeps the best checkpoint)."""

    enabled: bool = True
    before: bool = True
    batch_size: int = 64
    max_new_tokens: int = 32
    every_n_steps: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)  # name -> built metric component
    limit: int | None = 64
    best_by: str | None = None
    best_mode: str = "max"
    exact_match: Any = field(default=None, init=False)  # the before / after metric (built, not config)

    @property
    def generation(self) -> Any:
        from tuneforge.inference.generate import GenerationSettings

        return GenerationSettings(batch_size=self.batch_size, max_new_tokens=self.max_new_tokens)


@dataclass
class FitSettings:
    """How to fit: `_target_` nodes (checked by the assembler) and the run's checkpoint policy."""

    seed: int
    trainer: dict[str, Any]
    optimizer: dict[str, Any]
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    loggers: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: bool = True
    checkpoint_every_n_steps: int = 100
    resume: bool = False
    eval: EvalSettings = field(default_factory=EvalSettings)


def generation_eval(settings: EvalSettings, data: Any, tokenizer: Any, template: Any, best_path: Path) -> Any:
    """The during-training evaluation callback that `eval.every_n_steps` asks for."""
    from tuneforge.lightning.eval_callback import GenerationEval

    examples = data.val_examples[: settings.limit] if settings.limit else data.val_examples
    return GenerationEval(examples, tokenizer, template, settings.metrics, settings.every_n_steps,
                          settings.generation, settings.best_by, settings.best_mode, best_path)


def fit(stage: Any, model: Any, tokenizer: Any, template: Any, data: Any, peft_callbacks: list[Any],
        settings: FitSettings, history: Any, step_offset: int = 0, stage_dir: Path | None = None,
        params: dict[str, Any] | None = None) -> Any:
    """One Lightning fit over `data` (a prepared stage); checkpoints go to `<stage_dir>/checkpoints` and,
    with `settings.resume`, training continues from its `last.ckpt`. `params` (the run's recorded config) go to
    the loggers as hyper-parameters. Returns the trainer."""
    import lightning.pytorch as pl
    from hydra.utils import instantiate

    from tuneforge.errors import TuneforgeError
    from tuneforge.lightning.callbacks import LossHistory, RunStats, TrainingSignals
    from tuneforge.lightning.distributed import end_distributed, install_launcher_patch
    from tuneforge.lightning.loaders import make_loader
    from tuneforge.lightning.module import SFTModule
    from tuneforge.lightning.precision import resolve_precision
    from tuneforge.lightning.resume import (AtomicCheckpointIO, LoaderPosition, PeriodicCheckpoint, RNGState,
                                            StopOnSignal)

    ckpt_dir = Path(stage_dir) / "checkpoints"
    last = ckpt_dir / "last.ckpt"
    stage_history = LossHistory()
    loader, pad = stage.settings, tokenizer.pad_token_id
    position = LoaderPosition()  # gets the loader once the trainer says which rank this is
    # The method's own callbacks (e.g. AdaLoRA's allocator) run before the checkpoint is taken.
    callbacks = [stage_history, RunStats(), TrainingSignals(params), RNGState(), position, *peft_callbacks]
    if settings.eval.every_n_steps:
        callbacks.append(generation_eval(settings.eval, data, tokenizer, template, ckpt_dir / "best.ckpt"))
    if settings.checkpoint:  # after the evaluation, so the checkpoint holds its result
        callbacks += [PeriodicCheckpoint(last, settings.checkpoint_every_n_steps), StopOnSignal(last)]
    callbacks += [instantiate(c) for c in settings.callbacks]
    loggers = [instantiate(lg) for lg in settings.loggers]
    length = {}
    if stage.max_steps is not None or stage.max_epochs is not None:
        length = {"max_steps": stage.max_steps or -1, "max_epochs": stage.max_epochs or -1}
    install_launcher_patch()  # a `ddp` rank runs this job's overrides only, also inside a multirun
    precision = resolve_precision(settings.trainer.get("precision"), settings.trainer.get("accelerator", "auto"),
                                  parameters=sum(p.numel() for p in model.parameters()))
    if settings.trainer.get("precision") is None and precision != "32-true":
        log.info("precision: %s (trainer.precision=null picks it for this device and model; "
                 "trainer.precision=32-true turns it off)", precision)
    trainer: pl.Trainer = instantiate({**settings.trainer, "precision": precision}, callbacks=callbacks,
                                      logger=loggers or False, plugins=[AtomicCheckpointIO()], **length)
    train_loader = position.loader = make_loader(data.encoded["train"], loader, pad, train=True, seed=settings.seed,
                                                 num_replicas=trainer.world_size, rank=trainer.global_rank)
    lr = {"lr": stage.lr} if stage.lr is not None else {}
    module = SFTModule(model, instantiate(settings.optimizer, _partial_=True, **lr), stage.scheduler,
                       weight_decay=float(settings.optimizer.get("weight_decay", 0.0)))
    val_loader = make_loader(data.encoded["val"], loader, pad, train=False, seed=settings.seed) \
        if data.encoded["val"] else None
    resume_from = last if settings.resume and last.is_file() else None
    if resume_from is not None:
        log.info("resuming from %s", resume_from)
    trainer.fit(module, train_loader, val_loader, ckpt_path=resume_from)
    end_distributed()  # the next job of a multirun (or the next stage) starts its own group
    stopped = [c.received for c in callbacks if isinstance(c, StopOnSignal) and c.received is not None]
    if stopped:
        raise TuneforgeError(f"training stopped by signal {stopped[0]} at step {trainer.global_step}; "
                             f"checkpoint {last}; continue with resume=auto")
    history.train += [(s + step_offset, v) for s, v in stage_history.train]
    history.val += [(s + step_offset, v) for s, v in stage_history.val]
    return trainer


def fit_metrics(trainer: Any) -> dict[str, Any]:
    """What a finished fit reports: final losses, the evaluation callbacks' latest values, run statistics
    (tokens/s, peak memory) and the step count."""
    from tuneforge.lightning.callbacks import RunStats

    out = {k: float(v) for k, v in trainer.callback_metrics.items() if k in ("train/loss", "val/loss")}
    out |= {k: v for cb in trainer.callbacks if hasattr(cb, "latest") for k, v in cb.latest().items()}
    out |= next((c.metrics() for c in trainer.callbacks if isinstance(c, RunStats)), {})
    out["trainer/global_step"] = trainer.global_step
    return out
