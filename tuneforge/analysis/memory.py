"""Training memory, term by term: the lecture's table plus activations (`tuneforge estimate-memory`).

Lecture (mixed precision: fp16/bf16 weights and gradients, fp32 master copy and Adam moments):

                          full fine-tuning     LoRA
    model weights         2P                   2P + 2P_LoRA
    gradients             2P                   2P_LoRA
    optimizer: fp32 copy  4P                   4P_LoRA
    Adam first moment     4P                   4P_LoRA
    Adam second moment    4P                   4P_LoRA
    total                 16P                  2P + 16P_LoRA

With `trainer.precision=32-true` (tuneforge's default) there is no master copy but everything is fp32:
4P weights, 4P gradients, 8P Adam moments: again 16P for full fine-tuning, 4P + 16P_trainable with LoRA.

Activations (saved for backward, per token, Llama-style decoder layer with a fused attention kernel,
h = hidden size, h_kv = key/value width, i = feed-forward width): two RMSNorms save their input and
normalised output and the linears their input (6h), attention saves q, k, v and its output and o_proj
its input (3h + 2h_kv), the SwiGLU MLP saves gate, act(gate), up and their product (4i):
9h + 2h_kv + 4i elements per layer, plus 3h for the final norm and 3V for the logits, log-probabilities
and their gradient (V = vocabulary). LoRA dropout adds each targeted layer's input again (+ a 1-byte mask).
The peak is not the plain sum: gradients are created during backward while activations are freed, so
peak = weights + optimizer states + max(activations, gradients).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# bytes per element: weights, gradients, fp32 master copy, Adam moments (both), activations. Lightning
# keeps no separate master copy: "-mixed" keeps fp32 weights and autocasts, "-true" is all half.
PRECISIONS = {
    "32-true": (4, 4, 0, 8, 4), "32": (4, 4, 0, 8, 4),
    "bf16-mixed": (4, 4, 0, 8, 2), "16-mixed": (4, 4, 0, 8, 2),
    "bf16-true": (2, 2, 0, 4, 2), "16-true": (2, 2, 0, 4, 2),
}


@dataclass
class Dims:
    layers: int
    hidden: int
    kv: int
    intermediate: int
    vocab: int

    @classmethod
    def of(cls, config: Any) -> "Dims":
        heads = config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        kv_heads = getattr(config, "num_key_value_heads", None) or heads
        return cls(config.num_hidden_layers, config.hidden_size, kv_heads * head_dim,
                   config.intermediate_size, config.vocab_size)


@dataclass
class Estimate:
    total_params: int
    trainable: int
    method: str
    precision: str
    batch: int
    seq: int
    weights: float
    gradients: float
    master: float
    adam: float
    activations: float
    quantized_params: int = 0

    @property
    def states(self) -> float:
        return self.weights + self.master + self.adam

    @property
    def peak(self) -> float:
        return self.states + max(self.activations, self.gradients)

    @property
    def lecture_total(self) -> float:
        """The lecture's table total (bytes): 16P, or 2P + 16P_trainable for a frozen base."""
        p, t = self.total_params, self.trainable
        return 16 * p if t >= p else 2 * p + 16 * t


def activation_bytes(dims: Dims, batch: int, seq: int, act_bytes: int, dropout_inputs: int = 0,
                     lora_ranks: int = 0) -> float:
    """Saved activations for one forward of `batch` x `seq` tokens (see the module docstring)."""
    per_layer = 9 * dims.hidden + 2 * dims.kv + 4 * dims.intermediate
    elements = dims.layers * per_layer + 3 * dims.hidden + 3 * dims.vocab + dropout_inputs + lora_ranks
    mask = dropout_inputs  # dropout masks: 1 byte each
    return batch * seq * (elements * act_bytes + mask)


def estimate(model: Any, method_name: str, batch: int, seq: int, precision: str = "32-true",
             lora_dropout: float = 0.0) -> Estimate:
    """Estimate from a model with the PEFT method applied (parameters may live on the meta device)."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; known: {', '.join(PRECISIONS)}")
    wb, gb, mb, ab, actb = PRECISIONS[precision]
    params = {id(p): p for p in model.parameters()}.values()
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    quantized = getattr(model, "tuneforge_quantized_params", 0)
    weights = total * wb
    weights -= quantized * (wb - 0.5)  # 4-bit codes (scales counted below as ~1/64 byte per weight)
    weights += quantized * (1 / 64 + 4 / (64 * 256))
    dims = Dims.of(getattr(model, "config", None) or model.base_model.model.config)
    dropout_inputs = lora_ranks = 0
    for name, module in model.named_modules():
        if hasattr(module, "lora_A") and hasattr(module, "base_layer") and len(module.lora_A):
            adapter = next(iter(module.lora_A.values()))
            lora_ranks += adapter.out_features
            if lora_dropout > 0:
                dropout_inputs += adapter.in_features
    return Estimate(total, trainable, method_name, precision, batch, seq,
                    weights=weights, gradients=trainable * gb, master=trainable * mb,
                    adam=trainable * ab,
                    activations=activation_bytes(dims, batch, seq, actb, dropout_inputs, lora_ranks),
                    quantized_params=quantized)


def _mb(x: float) -> str:
    return f"{x / 2**20:10.2f} MiB"


def table(e: Estimate) -> str:
    p, t = e.total_params, e.trainable
    full = t >= p
    lines = [f"P = {p:,} parameters, trainable = {t:,} ({100 * t / p:.3f} %), method {e.method}, "
             f"precision {e.precision}, batch {e.batch} x {e.seq} tokens",
             "",
             "Lecture table (mixed precision)          full fine-tuning        LoRA-style (frozen base)",
             f"  model weights        2P | 2P + 2P_L   {_mb(2 * p)}          {_mb(2 * p + 2 * t)}",
             f"  gradients            2P | 2P_L        {_mb(2 * p)}          {_mb(2 * t)}",
             f"  optimizer fp32 copy  4P | 4P_L        {_mb(4 * p)}          {_mb(4 * t)}",
             f"  Adam first moment    4P | 4P_L        {_mb(4 * p)}          {_mb(4 * t)}",
             f"  Adam second moment   4P | 4P_L        {_mb(4 * p)}          {_mb(4 * t)}",
             f"  total               16P | 2P + 16P_L  {_mb(16 * p)}          {_mb(2 * p + 16 * t)}",
             f"  (this run is {'full fine-tuning' if full else 'a frozen base'}: lecture total {_mb(e.lecture_total)})",
             "",
             f"This configuration ({e.precision}):",
             f"  weights            {_mb(e.weights)}" + (f"   ({e.quantized_params:,} in 4 bits)" if e.quantized_params else ""),
             f"  gradients          {_mb(e.gradients)}",
             f"  fp32 master copy   {_mb(e.master)}",
             f"  Adam moments       {_mb(e.adam)}",
             f"  activations        {_mb(e.activations)}   (batch {e.batch} x seq {e.seq})",
             f"  sum of all         {_mb(e.states + e.gradients + e.activations)}",
             f"  estimated peak     {_mb(e.peak)}   (weights + optimizer + max(activations, gradients))"]
    return "\n".join(lines)
