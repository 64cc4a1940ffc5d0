"""Callbacks every run gets: the loss history (for metrics.json and the loss-curve PNG), what the loggers
record besides the loss (learning rate, gradient norm, the run's config as hyper-parameters), run statistics
and the progress bar (rich on a terminal, plain and infrequent otherwise)."""
from __future__ import annotations

import copy
import logging
import sys
from pathlib import Path
from typing import Any

import lightning.pytorch as pl

from tuneforge.quiet import quiet
from tuneforge.registry import config_factory

quiet()  # Lightning is imported: its log lines go to the app's handlers once, its adverts are dropped
log = logging.getLogger("tuneforge.fit")


class LossHistory(pl.Callback):
    """Records train/loss at every optimizer step and val/loss at every validation."""

    def __init__(self) -> None:
        self.train: list[tuple[int, float]] = []
        self.val: list[tuple[int, float]] = []

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is not None:
            self.train.append((trainer.global_step, float(loss.detach())))

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        value = trainer.callback_metrics.get("val/loss")
        if value is not None and not trainer.sanity_checking:
            self.val.append((trainer.global_step, float(value)))

    def plot(self, path: Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        if self.train:
            ax.plot(*zip(*self.train), label="train/loss", linewidth=1)
        if self.val:
            ax.plot(*zip(*self.val), "o-", label="val/loss")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path


class TrainingSignals(pl.Callback):
    """What the loggers record besides the loss: `train/lr` (the first parameter group's learning rate;
    `train/lr_<i>` for groups whose rate differs, e.g. LoRA+) and `train/grad_norm` (the total L2 norm of the
    trainable gradients before clipping), measured only on the optimizer steps that the loggers write (every
    `trainer.log_every_n_steps`, like train/loss); and, when the fit starts, the run's redacted resolved config
    (`params`: what train.py wrote to `<run_dir>/config.yaml`; read from that file when not given) as the
    loggers' hyper-parameters (TensorBoard hparams, the W&B run config, MLflow params plus the file as an
    MLflow artifact)."""

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.params = params

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.loggers or trainer.global_rank != 0:
            return
        file, params = Path(trainer.default_root_dir) / "config.yaml", copy.deepcopy(self.params)
        if params is None:
            if not file.is_file():
                log.warning("no %s: the loggers get no hyper-parameters", file)
                return
            import yaml

            params = yaml.safe_load(file.read_text()) or {}
        from lightning.pytorch.loggers import MLFlowLogger  # mlflow itself is imported only when one is used

        for logger in trainer.loggers:
            logger.log_hyperparams(params)
            if isinstance(logger, MLFlowLogger) and file.is_file():  # params are cut at 250 characters: the file too
                logger.experiment.log_artifact(logger.run_id, str(file))

    def on_before_optimizer_step(self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any) -> None:
        if not (trainer._logger_connector.should_update_logs or trainer.fast_dev_run):
            return  # the loggers write only these steps (Lightning's LearningRateMonitor asks the same)
        import torch

        grads = [p.grad.detach() for p in pl_module.parameters() if p.grad is not None]
        if grads:
            norms = [torch.linalg.vector_norm(g, 2.0, dtype=torch.float32) for g in grads]
            norm = torch.linalg.vector_norm(torch.stack(norms))
            pl_module.log("train/grad_norm", norm, on_step=True, on_epoch=False)
        groups = optimizer.param_groups
        pl_module.log("train/lr", float(groups[0]["lr"]), on_step=True, on_epoch=False)
        for i, group in enumerate(groups[1:], 1):
            if group["lr"] != groups[0]["lr"]:
                pl_module.log(f"train/lr_{i}", float(group["lr"]), on_step=True, on_epoch=False)


@config_factory("callbacks")
def progress_bar(refresh_rate: int = 10, plain_refresh_rate: int = 50) -> pl.Callback:
    """Rich progress bar on a terminal; an infrequently refreshed plain bar in logs and CI."""
    from lightning.pytorch.callbacks import RichProgressBar, TQDMProgressBar

    if sys.stdout.isatty():
        return RichProgressBar(refresh_rate=refresh_rate)
    return TQDMProgressBar(refresh_rate=plain_refresh_rate)


def _rss_peak_kb(reset: bool = False) -> int | None:
    """The process's peak resident set in KiB (Linux VmHWM); `reset=True` restarts it from the
    current RSS (writing 5 to /proc/self/clear_refs). None where /proc is not available."""
    try:
        if reset:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _release_free_memory() -> None:
    """Collect garbage and give the C heap's free pages back to the OS (glibc `malloc_trim`): without
    it, a job of a sequential multirun reuses the memory earlier jobs freed and its RSS shows nothing."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _real_tokens(batch: Any) -> int:
    """Non-padding tokens of a batch: padded (2D attention_mask) or packed (segment_ids, -1 = padding)."""
    if not isinstance(batch, dict):
        return 0
    if batch.get("segment_ids") is not None:
        return int((batch["segment_ids"] >= 0).sum())
    mask = batch.get("attention_mask")
    if mask is not None and mask.dim() == 2:
        return int(mask.sum())
    ids = batch.get("input_ids")
    return int(ids.numel()) if ids is not None else 0


class RunStats(pl.Callback):
    """Training throughput and peak memory of one fit, for metrics.json: `perf/tokens_per_s`
    (non-padding input tokens over the time spent in training batches: forward, backward, optimizer
    step; validation and data loading excluded), `perf/train_tokens`, `perf/peak_rss_mb` (the
    process's peak resident memory during the fit, reset when it starts) and, on CUDA,
    `perf/peak_cuda_mb` (torch's peak allocated memory). `perf/fit_rss_mb` is the peak minus the resident
    memory when the fit started: what training added (gradients, optimizer states, activations),
    comparable between the jobs of a multirun that share one process."""

    def __init__(self) -> None:
        self.tokens, self.seconds, self._start = 0, 0.0, 0.0
        self.cuda_device: Any = None
        self.rss_start_kb: int | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        import torch

        _release_free_memory()  # so that what this fit allocates shows in RSS, even after earlier jobs
        self.rss_start_kb = _rss_peak_kb(reset=True)
        device = pl_module.device
        if device.type == "cuda":
            self.cuda_device = device
            torch.cuda.reset_peak_memory_stats(device)

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        import time

        self.tokens += _real_tokens(batch)
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        import time

        if self.cuda_device is not None:
            import torch

            torch.cuda.synchronize(self.cuda_device)
        self.seconds += time.perf_counter() - self._start

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {"perf/train_tokens": self.tokens}
        if self.seconds > 0:
            out["perf/tokens_per_s"] = round(self.tokens / self.seconds, 1)
        peak = _rss_peak_kb()
        if peak is None:  # no /proc: the lifetime peak of the process
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        out["perf/peak_rss_mb"] = round(peak / 1024, 1)
        if self.rss_start_kb is not None:
            out["perf/fit_rss_mb"] = round((peak - self.rss_start_kb) / 1024, 1)
        if self.cuda_device is not None:
            import torch

            out["perf/peak_cuda_mb"] = round(torch.cuda.max_memory_allocated(self.cuda_device) / 2**20, 1)
        return out
