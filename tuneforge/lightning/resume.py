"""Exact resume after a crash (`kill -9` at any moment: bit-identical weights): what Lightning 2.6 does
not do by itself.

- `ResumableDataLoader`: a StatefulDataLoader (Lightning saves and restores its position) that drains
  a restored iterator which had already yielded every batch, so no epoch is silently lost.
- `LoaderPosition`: restores that position where Lightning skips it (epoch-end checkpoints).
- `RNGState`: torch / python / numpy RNG states in the checkpoint (numpy's as lists, so the
  checkpoint loads with `weights_only=True`).
- `AtomicCheckpointIO`: a temp file beside the target, fsync, rename: a kill never leaves a torn
  `last.ckpt`.
- `StopOnSignal`: SIGTERM / SIGINT stop training at the end of the current batch after a checkpoint.
- `PeriodicCheckpoint`: every N optimizer steps and at the last step, saved from inside the loop.
- `config_diff`: what changed between the run's saved config and the resuming one.
"""
from __future__ import annotations

import os
import random
import signal
import tempfile
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from torchdata.stateful_dataloader import StatefulDataLoader


class ResumableDataLoader(StatefulDataLoader):
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        if state_dict and state_dict.get("_num_yielded", 0) >= len(self):
            for _ in self:  # the saved epoch was complete: finish it so the next iter() starts anew
                pass


class LoaderPosition(pl.Callback):
    """Lightning restores the loader's position only when it considers the run "restarting"; from a
    checkpoint on the last batch of an epoch of an epoch-based run it does not, and the next epoch
    would replay the first epoch's order. Restore it here, as soon as the checkpoint is read (before
    Lightning creates any iterator); when Lightning restores it too, it restores the same state."""

    def __init__(self, loader: ResumableDataLoader | None = None):
        self.loader = loader

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        states = checkpoint.get("loops", {}).get("fit_loop", {}).get("state_dict", {}).get("combined_loader")
        if states and self.loader is not None:
            self.loader.load_state_dict(states[0])


class RNGState(pl.Callback):
    def state_dict(self) -> dict[str, Any]:
        import numpy as np

        kind, keys, pos, has_gauss, cached = np.random.get_state()
        return {"torch": torch.get_rng_state(), "python": _listify(random.getstate()),
                "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        import numpy as np

        torch.set_rng_state(state["torch"])
        random.setstate(_tuplify(state["python"]))
        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))


def _listify(value: Any) -> Any:
    return [_listify(v) for v in value] if isinstance(value, (tuple, list)) else value


def _tuplify(value: Any) -> Any:
    return tuple(_tuplify(v) for v in value) if isinstance(value, list) else value


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def load_checkpoint(self, path: Any, map_location: Any = None, weights_only: bool | None = None) -> dict:
        return torch.load(path, map_location=map_location or "cpu", weights_only=True)


class StopOnSignal(pl.Callback):
    """On SIGTERM / SIGINT: checkpoint to `path` at the end of the current batch, then stop."""

    def __init__(self, path: Path):
        self.path, self.received, self.previous = Path(path), None, {}

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = signum

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if self.received is not None and not trainer.should_stop:
            trainer.save_checkpoint(self.path)
            trainer.should_stop = True
            print(f"tuneforge: received signal {self.received}: checkpoint saved to {self.path}; stopping",
                  flush=True)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


class PeriodicCheckpoint(pl.Callback):
    """Checkpoint to `path` every N optimizer steps and on the run's last step, from inside the loop
    (a checkpoint taken after `fit` returns records a reset data loader, not the position reached)."""

    def __init__(self, path: Path, every_n_steps: int | None):
        self.path, self.every_n_steps = Path(path), every_n_steps
        self.seen_step: int | None = None

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        step, previous = trainer.global_step, self.seen_step
        self.seen_step = step
        if step == 0 or (previous is not None and step == previous):
            return  # no optimizer step in this batch (gradient accumulation): not a consistent point
        last_step = 0 < trainer.max_steps <= step
        last_epoch = (trainer.fit_loop.epoch_loop.batch_progress.is_last_batch
                      and 0 < trainer.max_epochs <= trainer.current_epoch + 1)
        if last_step or last_epoch or (self.every_n_steps and step % self.every_n_steps == 0):
            trainer.save_checkpoint(self.path)


def config_diff(saved: Any, current: Any, prefix: str = "") -> list[str]:
    """Lines `key: old -> new` for every leaf that differs between two plain configs."""
    if isinstance(saved, dict) and isinstance(current, dict):
        lines = []
        for key in sorted(set(saved) | set(current), key=str):
            lines += config_diff(saved.get(key, "<absent>"), current.get(key, "<absent>"), f"{prefix}{key}.")
        return lines
    return [] if saved == current else [f"{prefix[:-1]}: {saved!r} -> {current!r}"]
