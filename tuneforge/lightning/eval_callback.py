"""Evaluation during training: generation metrics on the validation split every N steps and at the
last step, logged as `val/<metric>`; with `best_by`, the checkpoint of the best value is kept."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl

from tuneforge.metrics.evaluate import evaluate
from tuneforge.inference.generate import GenerationSettings


class GenerationEval(pl.Callback):
    def __init__(self, examples: list, tokenizer: Any, template: Any, metrics: dict[str, Any],
                 every_n_steps: int, generation: GenerationSettings, best_by: str | None = None,
                 mode: str = "max", best_path: Path | None = None):
        self.examples, self.tokenizer, self.template = examples, tokenizer, template
        self.metrics, self.every_n_steps, self.generation = metrics, every_n_steps, generation
        self.best_by, self.mode, self.best_path = best_by, mode, best_path
        self.best: tuple[int, float] | None = None  # (step, value)
        self.history: list[tuple[int, dict[str, float]]] = []

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        step = trainer.global_step
        last = 0 < trainer.max_steps <= step or (trainer.fit_loop.epoch_loop.batch_progress.is_last_batch
                                                 and 0 < trainer.max_epochs <= trainer.current_epoch + 1)
        if not self.examples or (step % self.every_n_steps and not last):
            return
        with trainer.precision_plugin.forward_context():  # the fit's precision (bf16-mixed: autocast)
            scores, _ = evaluate(pl_module.model, self.tokenizer, self.template, self.examples, self.metrics,
                                 self.generation)
        self.history.append((step, scores))
        for logger in trainer.loggers:  # once, at this step (self.log would repeat it on later rows)
            logger.log_metrics({f"val/{name}": value for name, value in scores.items()}, step=step - 1)
        if self.best_by and self.best_path:
            value = scores[self.best_by]
            better = self.best is None or (value > self.best[1] if self.mode == "max" else value < self.best[1])
            if better:
                self.best = (step, value)
                trainer.save_checkpoint(self.best_path)

    def latest(self) -> dict[str, float]:
        """The last evaluation as metrics.json entries (val/<metric>)."""
        return {f"val/{name}": value for name, value in self.history[-1][1].items()} if self.history else {}

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "history": self.history}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = tuple(state["best"]) if state.get("best") else None
        self.history = [(s, dict(v)) for s, v in state.get("history", [])]
