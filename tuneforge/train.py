"""`tuneforge train`: assemble, encode, fit, evaluate before and after, write the artefacts."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from .assemble import assemble
from .artifacts import write_json, write_resolved_config
from .metrics.exact_match import ExactMatch
from .text.templates import get_template

log = logging.getLogger("tuneforge.train")


def evaluate_exact_match(model: Any, tokenizer: Any, template: Any, examples: list, cfg: DictConfig) -> float:
    from .evaluation.generate import generate_responses

    predictions = generate_responses(model, tokenizer, template, examples, batch_size=cfg.eval.batch_size,
                                     max_new_tokens=cfg.eval.max_new_tokens)
    return ExactMatch().compute(predictions, [ex.reference for ex in examples])


def train(cfg: DictConfig) -> dict[str, Any]:
    """Run one training job; returns the metrics also written to `metrics.json`."""
    started = time.perf_counter()
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    assembly = assemble(cfg)  # every config problem is reported here, before any model is built
    parts, settings = assembly.components, assembly.loader
    write_resolved_config(cfg, run_dir / "config.yaml")

    import lightning.pytorch as pl
    from hydra.utils import instantiate

    from .lightning.callbacks import LossHistory
    from .lightning.data import make_loader
    from .text.dataset import encode_split
    from .lightning.module import SFTModule
    from .peft.base import count_parameters

    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    model, tokenizer = parts["model"].build()
    model = parts["peft"].apply(model)
    trainable, total = count_parameters(model)
    template = get_template(settings.template)
    splits = parts["data"].build()
    encoded, metrics = {}, {"params/trainable": trainable, "params/total": total}
    for split in ("train", "val"):
        encoded[split], stats = encode_split(splits.get(split, []), tokenizer, template,
                                             parts["loss_mask"], settings, split)
        metrics |= stats.as_metrics(split)
    test = splits.get("test") or splits.get("val", [])
    if cfg.eval.enabled and cfg.eval.before and test:
        metrics["exact_match_before"] = evaluate_exact_match(model, tokenizer, template, test, cfg)

    history = LossHistory()
    callbacks = [history, *parts["peft"].callbacks()]
    callbacks += [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    loggers = [instantiate(lg) for lg in (cfg.get("logger") or {}).values() if lg is not None]
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    optimizer_cfg = cfg.optimizer
    module = SFTModule(model, instantiate(optimizer_cfg, _partial_=True), parts["scheduler"],
                       weight_decay=float(optimizer_cfg.get("weight_decay", 0.0)))
    val_loader = make_loader(encoded["val"], settings, tokenizer.pad_token_id, train=False,
                             seed=cfg.seed) if encoded["val"] else None
    trainer.fit(module, make_loader(encoded["train"], settings, tokenizer.pad_token_id, train=True,
                                    seed=cfg.seed), val_loader)

    metrics |= {k: float(v) for k, v in trainer.callback_metrics.items() if k in ("train/loss", "val/loss")}
    metrics["trainer/global_step"] = trainer.global_step
    if cfg.eval.enabled and test:
        metrics["exact_match_after"] = evaluate_exact_match(model, tokenizer, template, test, cfg)
    history.plot(run_dir / "loss_curve.png")
    artefacts = parts["peft"].save(model, tokenizer, run_dir)
    metrics["runtime_s"] = round(time.perf_counter() - started, 2)
    write_json(run_dir / "metrics.json", metrics)
    write_json(run_dir / "loss_history.json", {"train": history.train, "val": history.val})
    from .report import print_summary

    print_summary(metrics, artefacts, run_dir)
    return metrics
