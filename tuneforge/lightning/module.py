"""The LightningModule that trains whatever was assembled: a HF causal LM (PEFT-wrapped or not),
an optimizer built from config and a scheduler component."""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

import lightning.pytorch as pl
import torch

from tuneforge.model.base import peft_base
from tuneforge.scheduler.base import Scheduler, lambda_lr
from tuneforge.render.collate import packed_attention_mask
from tuneforge.render.encode import IGNORE_INDEX

log = logging.getLogger("tuneforge.fit")
NO_DECAY_HINTS = ("bias", "norm", "ln_", "layernorm")
# Architectures whose logits are exactly lm_head(last hidden state) (no scaling, no soft-capping).
FUSED_MODEL_TYPES = frozenset({"llama", "mistral", "qwen2", "qwen3"})
# PEFT types whose PeftModel forward only calls the base model (AdaLoRA adds a regulariser to the
# loss, prompt-learning methods change the inputs: those keep the model's own loss).
FUSED_PEFT_TYPES = frozenset({"LORA", "IA3"})
CHUNK_ELEMENTS = 1 << 24  # logits computed at once by the fused loss (64 MB of float32)


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Trainable parameters in two groups: weight decay on matrices, none on biases and norms. Parameters that
    the PEFT method gives a learning-rate multiplier (`model.tuneforge_lr_scales`: LoRA+'s B matrices) form
    groups of their own with `lr_scale`, applied to the optimizer's learning rate by `configure_optimizers`."""
    scales = getattr(model, "tuneforge_lr_scales", None) or {}
    decay, no_decay, scaled = [], [], {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        lowered = name.lower()
        plain = p.ndim < 2 or any(h in lowered for h in NO_DECAY_HINTS)
        if name in scales:
            scaled.setdefault((scales[name], plain), []).append(p)
            continue
        (no_decay if plain else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    groups += [{"params": params, "weight_decay": 0.0 if plain else weight_decay, "lr_scale": scale}
               for (scale, plain), params in scaled.items()]
    return [g for g in groups if g["params"]]


class _LinearCrossEntropy(torch.autograd.Function):
    """sum_i -log softmax(h_i W^T + b)[y_i] over rows of `hidden`, in chunks of rows; the gradients
    (softmax - onehot) @ W, ^T @ h are computed chunk by chunk in the forward pass, so no chunk's logits
    outlive it and the full (N, vocab) logits never exist."""

    @staticmethod
    def forward(ctx: Any, hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                targets: torch.Tensor, chunk: int) -> torch.Tensor:
        need_h, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        need_b = bias is not None and ctx.needs_input_grad[2]
        grad_h = torch.empty_like(hidden) if need_h else None
        grad_w = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device) if need_w else None
        grad_b = torch.zeros(bias.shape, dtype=torch.float32, device=bias.device) if need_b else None
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        for start in range(0, hidden.shape[0], chunk):
            h, t = hidden[start:start + chunk], targets[start:start + chunk]
            logits = torch.nn.functional.linear(h, weight, bias).float()
            lse = torch.logsumexp(logits, dim=-1)
            total += (lse - logits.gather(1, t[:, None]).squeeze(1)).sum()
            if need_h or need_w or need_b:
                g = logits.sub_(lse[:, None]).exp_()  # softmax, in place
                g[torch.arange(len(t), device=g.device), t] -= 1.0
                if need_b:
                    grad_b += g.sum(0)
                if need_w:  # in place, in fp32: no (vocab, hidden) product per chunk beside the accumulator
                    grad_w.addmm_(g.t(), h.float())
                g = g.to(h.dtype)
                if need_h:
                    grad_h[start:start + chunk] = g @ weight
        ctx.save_for_backward(grad_h, grad_w, grad_b)
        ctx.dtypes = (weight.dtype, None if bias is None else bias.dtype)
        return total

    @staticmethod
    def backward(ctx: Any, grad_total: torch.Tensor) -> tuple:
        grad_h, grad_w, grad_b = ctx.saved_tensors
        w_dtype, b_dtype = ctx.dtypes
        # Scaled in place (the loss is the graph's end, backward runs once): a trained head's gradient
        # (vocab x hidden, fp32) is not copied again; grad_total is 1 / trained tokens from the mean.
        return (None if grad_h is None else grad_h.mul_(grad_total.to(grad_h.dtype)),
                None if grad_w is None else grad_w.mul_(grad_total).to(w_dtype),
                None if grad_b is None else grad_b.mul_(grad_total).to(b_dtype), None, None)


def linear_cross_entropy(hidden: torch.Tensor, head: torch.nn.Linear, labels: torch.Tensor) -> torch.Tensor:
    """The causal-LM loss of `head(hidden)` against `labels` (mean over labels != -100, shifted by
    one as in transformers), computed only at trained positions and chunk by chunk over the
    vocabulary's logits. Equals the model's own loss (tests/unit/lightning/test_packing.py)."""
    mask = labels[:, 1:] != IGNORE_INDEX
    h, targets = hidden[:, :-1][mask], labels[:, 1:][mask]
    chunk = max(1, CHUNK_ELEMENTS // head.out_features)
    if torch.is_grad_enabled():
        total = _LinearCrossEntropy.apply(h, head.weight, head.bias, targets, chunk)
    else:
        total = sum((torch.nn.functional.cross_entropy(torch.nn.functional.linear(
            h[s:s + chunk], head.weight, head.bias).float(), targets[s:s + chunk], reduction="sum")
            for s in range(0, h.shape[0], chunk)), torch.zeros((), device=h.device))
    return total / mask.sum().clamp(min=1)


def fused_parts(model: torch.nn.Module) -> tuple[torch.nn.Module, torch.nn.Linear] | None:
    """(decoder, lm_head) when the loss may be computed as `linear_cross_entropy(decoder(...), lm_head)`
    with the same result as the model's own forward; None otherwise (the model's loss is used)."""
    configs = getattr(model, "peft_config", None)
    if isinstance(configs, dict) and any(str(getattr(c, "peft_type", "")).rsplit(".", 1)[-1]
                                         not in FUSED_PEFT_TYPES for c in configs.values()):
        return None
    base = peft_base(model)
    if getattr(getattr(base, "config", None), "model_type", None) not in FUSED_MODEL_TYPES:
        return None
    head = base.get_output_embeddings()
    if type(head) is not torch.nn.Linear or head._forward_hooks or head._forward_pre_hooks:
        return None
    decoder = getattr(base, getattr(base, "base_model_prefix", ""), None)
    return (decoder, head) if isinstance(decoder, torch.nn.Module) else None


def is_prompt_learning(model: torch.nn.Module) -> bool:
    """Prefix / prompt / P-tuning (virtual tokens added to every row) or free-form P-tuning (virtual
    tokens numbered per row): methods whose rows cannot hold several examples."""
    configs = getattr(model, "peft_config", None)
    return hasattr(model, "tuneforge_placeholder_id") or isinstance(configs, dict) and any(
        getattr(c, "is_prompt_learning", False) for c in configs.values())


def layout_problem(model: torch.nn.Module, layout: str) -> str | None:
    """Why `model` cannot train on batches of `layout` (`padding_free`: one row, restarting position ids;
    `packed`: rows of several examples with a 4D mask) without its examples seeing each other, or None."""
    from tuneforge.render.collate import padding_free_problem

    if layout == "padding_free":
        problem = padding_free_problem(getattr(getattr(peft_base(model), "config", None), "_attn_implementation", None),
                                       is_prompt_learning(model))
        return f"data.packing=padding_free: {problem}" if problem else None
    if layout == "packed" and is_prompt_learning(model):
        return ("data.packing=true does not work with prompt-learning PEFT methods "
                "(prefix, prompt, ptuning, ptuning_free): use data.group_by_length=true")
    return None


class SFTModule(pl.LightningModule):
    """Supervised fine-tuning: the causal-LM loss on the masked labels (mean over trained tokens).

    Packed batches (with `segment_ids`, from `PackingCollator`) get the block-diagonal 4D mask and
    their restarting position ids. With `fused_loss` (default) the loss of supported models is
    `linear_cross_entropy` over the decoder's hidden states, the same number as the model's own loss
    without materialising the full logits; other models use the model's own loss.
    """

    def __init__(self, model: torch.nn.Module, make_optimizer: Callable[..., torch.optim.Optimizer],
                 scheduler: Scheduler, weight_decay: float = 0.0, fused_loss: bool = True):
        super().__init__()
        self.model, self.make_optimizer = model, make_optimizer
        self.scheduler, self.weight_decay = scheduler, weight_decay
        self.fused_loss = fused_loss
        self.strict_loading = False  # checkpoints hold only the trainable weights
        self._layouts_checked: set[str] = set()

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Only trainable tensors: the frozen base is rebuilt identically from config on resume."""
        trainable = {n for n, p in self.named_parameters() if p.requires_grad}
        return {k: v for k, v in super().state_dict(*args, **kwargs).items() if k in trainable}

    def check_layout(self, layout: str) -> None:
        """Refuse a batch layout whose examples the model cannot isolate (`layout_problem`): checked on the
        first batch of each layout, not on every forward pass."""
        if layout in self._layouts_checked:
            return
        if problem := layout_problem(self.model, layout):
            from tuneforge.errors import TuneforgeError

            raise TuneforgeError(problem)
        self._layouts_checked.add(layout)

    def model_inputs(self, batch: dict[str, torch.Tensor]) -> dict[str, Any]:
        """The HF forward's inputs for a padded or a packed batch (never the labels). A padding-free batch
        (PaddingFreeCollator) gets input ids and restarting position ids, no attention mask (the forward must
        not use a cache)."""
        if "segment_ids" not in batch and "attention_mask" not in batch:
            self.check_layout("padding_free")
            return {"input_ids": batch["input_ids"], "position_ids": batch["position_ids"]}
        if "segment_ids" not in batch:
            return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        self.check_layout("packed")
        dtype = self.model.get_input_embeddings().weight.dtype
        return {"input_ids": batch["input_ids"], "position_ids": batch["position_ids"],
                "attention_mask": packed_attention_mask(batch["segment_ids"], dtype)}

    def forward(self, batch: dict[str, torch.Tensor]) -> Any:
        return self.model(**self.model_inputs(batch), labels=batch["labels"], use_cache=False)

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        parts = fused_parts(self.model) if self.fused_loss else None
        if parts is None:
            return self(batch).loss
        decoder, head = parts
        hidden = decoder(**self.model_inputs(batch), use_cache=False).last_hidden_state
        return linear_cross_entropy(hidden, head, batch["labels"])

    @staticmethod
    def _batch_size(batch: dict[str, Any]) -> int:
        return int(batch.get("num_examples", batch["input_ids"].shape[0]))

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=self._batch_size(batch))
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(batch)
        self.log("val/loss", loss, prog_bar=True, batch_size=self._batch_size(batch))
        return loss

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        super().optimizer_step(*args, **kwargs)
        self._stepped = True
        if not getattr(self, "_first_step_done", False):  # start-up to the first step (benchmarks/startup.py)
            self._first_step_done = True
            log.debug("phase first_step %.3f", time.time())

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        """Free the gradients after an optimizer step, once the callbacks that read them (AdaLoRA's allocator;
        callbacks run first) are done: Lightning zeroes them only after the next forward pass, so they would
        sit beside that pass's activations (4 bytes per trained parameter in fp32: 513 MiB for SmolLM2)."""
        if getattr(self, "_stepped", False):
            for optimizer in self.trainer.optimizers:
                optimizer.zero_grad(set_to_none=True)
            self._stepped = False

    def on_fit_start(self) -> None:
        """A CPU fit in bf16-mixed keeps its frozen weights in bfloat16 (`frozen_weights_to_bf16`; they stay so
        after the fit), lets autocast alone cast adapter inputs (`peft_input_casting`) and attends in float32
        (`tuneforge.model.attention`: torch's bf16 attention backward on a CPU is ~2.5x slower than fp32's);
        peft's casting and `sdpa` are back when the fit ends."""
        from tuneforge.lightning.precision import frozen_weights_to_bf16, peft_input_casting
        from tuneforge.model.attention import switch, wants_fp32_attention

        precision = str(self.trainer.precision)
        self._cpu_autocast = self.device.type == "cpu" and precision == "bf16-mixed"
        if self._cpu_autocast:
            if cast := frozen_weights_to_bf16(self.model):
                log.info("CPU bf16-mixed: %.1f M frozen parameters kept in bfloat16", cast / 1e6)
            peft_input_casting(self.model, False)
        self._fp32_attention = wants_fp32_attention(self.model, self.device.type, precision)
        if self._fp32_attention:
            switch(self.model, True)

    def on_fit_end(self) -> None:
        if getattr(self, "_fp32_attention", False):
            from tuneforge.model.attention import switch

            switch(self.model, False)
        if getattr(self, "_cpu_autocast", False):
            from tuneforge.lightning.precision import peft_input_casting

            peft_input_casting(self.model, True)

    def on_train_start(self) -> None:
        """`from_pretrained` returns models in eval mode and Lightning keeps a module's mode: without
        this, a loaded model would train with its dropout (and LoRA's) switched off."""
        self.model.train()

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = self.make_optimizer(parameter_groups(self.model, self.weight_decay))
        for group in optimizer.param_groups:  # LoRA+: before the scheduler records each group's initial lr
            group["lr"] *= group.get("lr_scale", 1.0)
        total = int(self.trainer.estimated_stepping_batches)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": lambda_lr(optimizer, self.scheduler, total),
                                 "interval": "step", "frequency": 1}}
