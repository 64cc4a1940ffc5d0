"""Exact resume after a crash (`kill -9` at any moment: bit-identical weights): what Lightning 2.6 does
not do by itself.

- `ResumableDataLoader`: a StatefulDataLoader (Lightning saves and restores its position) that drains
  a restored iterator which had already yielded every batch, so no epoch is silently lost.
- `LoaderPosition`: restores that position where Lightning skips it (epoch-end checkpoints).
- `RNGState`: torch / python / numpy RNG states in the checkpoint (numpy's as lists, so the
  checkpoint loads with `weights_only=True`).
- `AtomicCheckpointIO`: a temp file beside the target, fsync, rename: a kill never leaves a torn
  `last.ckpt`; a SHA-256 written beside it (`last.ckpt.sha256`) and checked before loading, because torch's
  zip reader checks headers, not the bytes of a stored tensor (4 KB flipped inside one load silently).
- `StopOnSignal`: SIGTERM / SIGINT stop training at the end of the current batch after a checkpoint.
- `PeriodicCheckpoint`: every N optimizer steps and at the last step, saved from inside the loop.
- `config_diff`: what changed between the run's saved config and the resuming one.
"""
from __future__ import annotations

import hashlib
import logging
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

from tuneforge.errors import TuneforgeError

log = logging.getLogger("tuneforge.resume")


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, write: Any) -> None:
    """`write(f)` into a temp file beside `path`, fsync, rename over `path`; a full disk or a read-only
    directory is one clear error (torch's writer reports a full disk as a RuntimeError)."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as err:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        import shutil

        full = shutil.disk_usage(path.parent).free < (1 << 20) or getattr(err, "errno", None) == 28
        raise TuneforgeError(f"cannot write {path}: " + ("the disk is full" if full else
                                                         getattr(err, "strerror", None) or str(err))) from None
    except BaseException:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints written atomically with their SHA-256 beside them, verified before every load. The
    checksum goes to `<ckpt>.sha256.next` first, then the checkpoint and the checksum are renamed into
    place: a kill between the two renames leaves a `.next` that matches the new checkpoint."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.staged")
        _write_synced(staged, lambda f: torch.save(checkpoint, f))
        pending = path.with_name(path.name + ".sha256.next")
        _write_synced(pending, lambda f: f.write(_sha256(staged).encode() + b"\n"))
        os.replace(staged, path)
        os.replace(pending, path.with_name(path.name + ".sha256"))
        _fsync_dir(path.parent)

    def load_checkpoint(self, path: Any, map_location: Any = None, weights_only: bool | None = None) -> dict:
        path = Path(path)
        verify_checkpoint(path)
        try:
            return torch.load(path, map_location=map_location or "cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 (a torn or foreign file: one clear line)
            raise TuneforgeError(f"cannot read checkpoint {path}: {str(err).splitlines()[0]}; "
                                 f"{RESTART_HINT.format(path=path)}") from None


RESTART_HINT = ("to start over, delete it (and {path}.sha256) or train into another hydra.run.dir")


def verify_checkpoint(path: Path) -> None:
    """Raise a TuneforgeError naming `path` when its bytes differ from the SHA-256 written with it."""
    recorded = [p for p in (path.with_name(path.name + ".sha256"), path.with_name(path.name + ".sha256.next"))
                if p.is_file()]
    if not recorded:
        log.warning("%s has no checksum beside it (written by an older tuneforge?): loading it unverified", path)
        return
    actual = _sha256(path)
    if any(p.read_text().strip() == actual for p in recorded):
        return
    raise TuneforgeError(f"checkpoint {path} is corrupt: its SHA-256 differs from the one written with it, so "
                         f"resuming from it is refused; {RESTART_HINT.format(path=path)}")


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
    """Lines `key: old -> new` for every leaf that differs between two plain configs. A run directory that
    was moved or copied is the same experiment: its `run_dir` and the paths under it do not count."""
    if not prefix and isinstance(saved, dict) and isinstance(current, dict) \
            and isinstance(saved.get("run_dir"), str) and isinstance(current.get("run_dir"), str):
        saved = _moved(saved, saved["run_dir"], current["run_dir"])
    if isinstance(saved, dict) and isinstance(current, dict):
        lines = []
        for key in sorted(set(saved) | set(current), key=str):
            lines += config_diff(saved.get(key, "<absent>"), current.get(key, "<absent>"), f"{prefix}{key}.")
        return lines
    if isinstance(saved, list) and isinstance(current, list) and len(saved) == len(current) \
            and any(isinstance(v, dict) for v in saved):  # e.g. stages: per item, `stages[0].lr`
        return [line for i, (a, b) in enumerate(zip(saved, current))
                for line in config_diff(a, b, f"{prefix[:-1]}[{i}].")]
    return [] if saved == current else [f"{prefix[:-1]}: {saved!r} -> {current!r}"]


def _moved(node: Any, old: str, new: str) -> Any:
    """`node` with every path under the run directory `old` rewritten to lie under `new`."""
    if isinstance(node, dict):
        return {k: _moved(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [_moved(v, old, new) for v in node]
    if isinstance(node, str) and (node == old or node.startswith(old.rstrip("/") + "/")):
        return new + node[len(old):]
    return node
