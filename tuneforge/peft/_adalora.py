"""AdaLoRA internals: importance scores as rank allocators, the per-step allocation callback and the
final rank report (JSON + heatmap).

peft enforces none of what the callback does: without `update_and_allocate` every optimizer step the
ranks never change (`rank_pattern` stays None); called from `on_before_zero_grad` it fails on None
gradients; and the allocator's averages are not in the state dict, so checkpoints must carry them."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from peft.tuners.adalora.layer import RankAllocator

from tuneforge.artifacts import write_json


class MagnitudeAllocator(RankAllocator):
    """S_ki = |lambda_ki| (the singular value's magnitude); P and Q add nothing."""

    def update_ipt(self, model: torch.nn.Module) -> None:
        for n, p in model.named_parameters():
            if "lora_" in n and self.adapter_name in n:
                self.ipt[n] = p.detach().abs() if "lora_E" in n else torch.zeros_like(p)

    def _element_score(self, n: str) -> torch.Tensor:
        return self.ipt[n]


class SensitivityAllocator(RankAllocator):
    """S_ki = s(lambda_ki) + mean_j s(P_jki) + mean_j s(Q_kij) with s(w) = |w dL/dw| of this step
    (no smoothing)."""

    def update_ipt(self, model: torch.nn.Module) -> None:
        for n, p in model.named_parameters():
            if "lora_" in n and self.adapter_name in n and p.grad is not None:
                self.ipt[n] = (p * p.grad).abs().detach()

    def _element_score(self, n: str) -> torch.Tensor:
        return self.ipt[n]


ALLOCATORS = {"magnitude": MagnitudeAllocator, "sensitivity": SensitivityAllocator,
              "smoothed": RankAllocator}  # peft's own: I-bar * U-bar (beta1 / beta2 averages)


def _adalora_model(model: Any) -> Any:
    inner = getattr(model, "base_model", model)
    if not hasattr(inner, "update_and_allocate"):
        raise TypeError(f"not an AdaLoRA model: {type(model).__name__}")
    return inner


def install_allocator(model: Any, importance: str) -> None:
    """Replace peft's allocator by the one computing `importance` (same budget schedule)."""
    inner = _adalora_model(model)
    name = inner.trainable_adapter_name
    inner.rankallocator = ALLOCATORS[importance](inner.model, inner.peft_config[name], name)


class AdaLoraAllocation(pl.Callback):
    """Sets total_step on fit start and calls `update_and_allocate(global_step - 1)` after every
    optimizer step (before the next zero_grad); keeps the allocator state in checkpoints."""

    def __init__(self, method: Any):
        self.method, self.last_step, self.budgets = method, -1, []

    def _inner(self, pl_module: pl.LightningModule) -> Any:
        return _adalora_model(getattr(pl_module, "model", pl_module))

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        inner = self._inner(pl_module)
        config = inner.peft_config[inner.trainable_adapter_name]
        total = int(self.method.total_step or trainer.estimated_stepping_batches)
        config.tinit, config.tfinal = self.method.schedule(total)
        config.total_step = total
        self.last_step = trainer.global_step

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        step = trainer.global_step
        if step == self.last_step:  # gradient accumulation: no optimizer step on this batch
            return
        self.last_step = step
        inner = self._inner(pl_module)
        inner.update_and_allocate(step - 1)
        pattern = inner.peft_config[inner.trainable_adapter_name].rank_pattern
        if pattern:
            self.budgets.append((step, sum(sum(v) for v in pattern.values())))

    def state_dict(self) -> dict[str, Any]:
        return {"last_step": self.last_step, "budgets": self.budgets}

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        inner = self._inner(pl_module)
        alloc = inner.rankallocator
        checkpoint["adalora_allocator"] = {
            "ipt": alloc.ipt, "exp_avg_ipt": alloc.exp_avg_ipt, "exp_avg_unc": alloc.exp_avg_unc,
            "rank_pattern": inner.peft_config[inner.trainable_adapter_name].rank_pattern}

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        saved = checkpoint.get("adalora_allocator")
        if not saved:
            return
        inner = self._inner(pl_module)
        alloc = inner.rankallocator
        alloc.ipt, alloc.exp_avg_ipt, alloc.exp_avg_unc = saved["ipt"], saved["exp_avg_ipt"], saved["exp_avg_unc"]
        inner.peft_config[inner.trainable_adapter_name].rank_pattern = saved["rank_pattern"]


_LAYER = re.compile(r"layers\.(\d+)\.(?:.*\.)?([^.]+)\.lora_E")


def final_ranks(model: Any, init_r: int) -> dict[str, int]:
    """{module name: rank kept} from the rank pattern (init_r everywhere if never allocated)."""
    inner = _adalora_model(model)
    pattern = inner.peft_config[inner.trainable_adapter_name].rank_pattern
    if pattern:
        return {re.sub(r"\.lora_E(\.\w+)?$", "", k): int(sum(v)) for k, v in pattern.items()}
    return {n.rsplit(".lora_E", 1)[0]: init_r for n, _ in inner.model.named_parameters() if ".lora_E." in n}


def write_rank_report(model: Any, init_r: int, out_dir: Path) -> dict[str, str]:
    """`adalora_ranks.json` (rank per module) and `adalora_ranks.png` (layers x modules heatmap)."""
    ranks = final_ranks(model, init_r)
    inner = _adalora_model(model)
    allocated = bool(inner.peft_config[inner.trainable_adapter_name].rank_pattern)
    json_path = write_json(out_dir / "adalora_ranks.json",
                           {"init_r": init_r, "allocated": allocated, "total": sum(ranks.values()),
                            "ranks": ranks})
    cells: dict[tuple[int, str], int] = {}
    for name, r in ranks.items():
        m = _LAYER.search(name + ".lora_E")
        if m:
            cells[(int(m.group(1)), m.group(2))] = r
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = sorted({k[0] for k in cells})
    modules = sorted({k[1] for k in cells})
    grid = [[cells.get((layer, mod), float("nan")) for mod in modules] for layer in layers]
    fig, ax = plt.subplots(figsize=(1.2 * len(modules) + 2, 0.5 * len(layers) + 2))
    image = ax.imshow(grid, cmap="viridis", vmin=0, vmax=init_r, aspect="auto")
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", color="w", fontsize=8)
    ax.set_xticks(range(len(modules)), modules, rotation=45, ha="right")
    ax.set_yticks(range(len(layers)), [str(layer) for layer in layers])
    ax.set_xlabel("module")
    ax.set_ylabel("layer")
    ax.set_title(f"AdaLoRA final ranks (init_r={init_r})")
    fig.colorbar(image, ax=ax, label="rank")
    fig.tight_layout()
    png = out_dir / "adalora_ranks.png"
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return {"ranks": str(json_path), "heatmap": str(png)}
