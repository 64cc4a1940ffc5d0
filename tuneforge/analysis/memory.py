"""Training memory, term by term: the usual mixed-precision table (16P) plus activations (`tuneforge estimate-memory`).

The usual table (mixed precision: fp16/bf16 weights and gradients, fp32 master copy and Adam moments):

                          full fine-tuning     LoRA
    model weights         2P                   2P + 2P_LoRA
    gradients             2P                   2P_LoRA
    optimizer: fp32 copy  4P                   4P_LoRA
    Adam first moment     4P                   4P_LoRA
    Adam second moment    4P                   4P_LoRA
    total                 16P                  2P + 16P_LoRA

Lightning keeps no separate master copy: weights stay in the dtype they were loaded in (`-mixed`
precisions autocast the matmuls, `-true` half precisions convert the weights), gradients and AdamW's
two moments take each trainable weight's dtype. fp32 weights (`model.dtype=float32`) therefore give
4P + 4P + 8P = 16P for full fine-tuning, the usual figure; a bf16 checkpoint trained as loaded gives 8P.

Weights are counted by dtype; a 4-bit base (QLoRA) costs half a byte per weight plus its block
constants: an fp32 absmax per block of 64 weights (4/64 byte), or with double quantisation an 8-bit
absmax (1/64) plus an fp32 constant per 256 blocks (4/16384). LLM.int8 costs 1 byte plus an fp32
scale per output row.

Activations (saved for backward, per token, Llama-style decoder layer with a fused attention kernel,
h = hidden size, h_kv = key/value width, i = feed-forward width): two RMSNorms save their input and
normalised output and the linears their input (6h), attention saves q, k, v and its output and o_proj
its input (3h + 2h_kv), the SwiGLU MLP saves gate, act(gate), up and their product (4i):
9h + 2h_kv + 4i elements per layer, plus 3h for the final norm. Eager attention also keeps the softmax
(fp32) and the probabilities: heads x seq x seq per row and layer. LoRA dropout adds each targeted layer's
input again (+ a 1-byte mask). With activation checkpointing each layer keeps only its input (h) and one
layer's activations exist at a time, recomputed during backward.

Logits: the model's own loss holds vocabulary x tokens logits, their fp32 copy, the log-probabilities and
their gradient; tuneforge's fused loss (supported models and methods) computes them in chunks of rows and
holds only a chunk, the gathered hidden states and their gradient (and the head's gradient, if it trains).

Overheads: the optimizer step's temporaries (torch's foreach AdamW, the default on CUDA, allocates one
copy of every trainable tensor at once; the per-tensor loop on CPU, one of the largest). The CUDA
context (a few hundred MiB that `nvidia-smi` shows and torch's allocator statistics do not) is left out.

The peak is not the plain sum. tuneforge frees the gradients right after each optimizer step
(SFTModule.on_train_batch_end; Lightning alone would zero them only after the next forward pass, so they
would sit beside that pass's activations); during backward, activations are freed as gradients are created
(with checkpointing, one recomputed layer's activations are live while they are); the optimizer step's
temporaries come when the activations are gone:
peak = weights + optimizer states + max(activations + logits, gradients + recomputed layer, gradients + overheads).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tuneforge.model.base import peft_base

HALF = {"bf16-mixed", "16-mixed", "bf16-true", "16-true", "bf16", "16"}
PRECISIONS = ("32-true", "32", "bf16-mixed", "16-mixed", "bf16-true", "16-true")
ATTENTION = ("sdpa", "eager", "flash_attention_2", "flash_attention_3", "flex_attention")


@dataclass
class Dims:
    layers: int
    hidden: int
    kv: int
    intermediate: int
    vocab: int
    heads: int = 0

    @classmethod
    def of(cls, config: Any) -> "Dims":
        config = config.get_text_config() if hasattr(config, "get_text_config") else config
        heads = config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        kv_heads = getattr(config, "num_key_value_heads", None) or heads
        return cls(config.num_hidden_layers, config.hidden_size, kv_heads * head_dim,
                   config.intermediate_size, config.vocab_size, heads)

    def layer_elements(self) -> int:
        """Elements saved per token by one decoder layer (sdpa; see the module docstring)."""
        return 9 * self.hidden + 2 * self.kv + 4 * self.intermediate


@dataclass
class Quantization:
    """How the frozen base's linear weights are stored: 4 bits (block constants) or 8 bits (row scales)."""

    bits: int = 4
    double_quant: bool = True
    blocksize: int = 64

    def bytes_per_weight(self, in_features: int) -> float:
        if self.bits == 8:
            return 1 + 4 / in_features  # int8 codes + an fp32 scale per output row
        constants = 1 / self.blocksize + 4 / (self.blocksize * 256) if self.double_quant else 4 / self.blocksize
        return self.bits / 8 + constants


@dataclass
class Setup:
    """What the estimate needs besides the model: the run's shape and the training loop's choices."""

    batch: int
    seq: int
    precision: str = "32-true"
    checkpointing: bool = False
    attention: str = "sdpa"
    lora_dropout: float = 0.0
    optimizer: str = "adamw"  # adamw | adamw8bit
    foreach: bool = False  # optimizer step over all trainable tensors at once (torch's default on CUDA)
    fused_loss: bool = False  # tuneforge's chunked loss applies (supported model and method)
    chunk_elements: int = 1 << 24  # logits computed at once by the fused loss


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
    adam: float
    activations: float
    logits: float = 0.0
    overhead: float = 0.0
    quantized_params: int = 0
    checkpointing: bool = False
    attention: str = "sdpa"
    activations_per_layer: float = 0.0
    weights_by_dtype: dict[str, float] = field(default_factory=dict)

    @property
    def optimizer(self) -> float:
        return self.adam

    @property
    def states(self) -> float:
        """Weights and optimizer states: held for the whole run."""
        return self.weights + self.adam

    @property
    def peak(self) -> float:
        recomputed = self.activations_per_layer if self.checkpointing else 0.0
        return self.states + max(self.activations + self.logits, self.gradients + max(recomputed, self.overhead))

    @property
    def lecture_total(self) -> float:
        """The usual table's total (bytes): 16P, or 2P + 16P_trainable for a frozen base."""
        p, t = self.total_params, self.trainable
        return 16 * p if t >= p else 2 * p + 16 * t

    def as_json(self) -> dict[str, Any]:
        return {"params": self.total_params, "trainable_params": self.trainable,
                "weights_bytes": round(self.weights), "gradients_bytes": round(self.gradients),
                "optimizer_bytes": round(self.adam), "activations_bytes": round(self.activations),
                "logits_bytes": round(self.logits), "overhead_bytes": round(self.overhead),
                "peak_bytes": round(self.peak), "method": self.method, "precision": self.precision,
                "batch": self.batch, "seq": self.seq, "gradient_checkpointing": self.checkpointing,
                "attention": self.attention, "quantized_params": self.quantized_params,
                "activations_per_layer_bytes": round(self.activations_per_layer),
                "weights_by_dtype": {k: round(v) for k, v in self.weights_by_dtype.items()}}


def activation_bytes(dims: Dims, batch: int, seq: int, act_bytes: int, dropout_inputs: int = 0,
                     lora_ranks: int = 0, *, checkpointing: bool = False, attention: str = "sdpa") -> float:
    """Saved activations for one forward of `batch` x `seq` tokens, logits excluded (module docstring);
    `dropout_inputs` / `lora_ranks` are summed over all layers."""
    per_layer = layer_bytes(dims, batch, seq, act_bytes, attention) + batch * seq * (
        (dropout_inputs * act_bytes + dropout_inputs + lora_ranks * act_bytes) / max(dims.layers, 1))
    final_norm = batch * seq * 3 * dims.hidden * act_bytes
    if checkpointing:  # every layer keeps its input; one layer's activations exist at a time
        return dims.layers * batch * seq * dims.hidden * act_bytes + per_layer + final_norm
    return dims.layers * per_layer + final_norm


def layer_bytes(dims: Dims, batch: int, seq: int, act_bytes: int, attention: str = "sdpa") -> float:
    """One decoder layer's saved activations; eager attention adds the fp32 softmax and the probabilities."""
    scores = dims.heads * seq * seq * (4 + act_bytes) if attention == "eager" else 0
    return batch * (seq * dims.layer_elements() * act_bytes + scores)


def logits_bytes(dims: Dims, batch: int, seq: int, act_bytes: int, *, fused: bool, chunk_elements: int,
                 head_trains: bool) -> float:
    """The loss's memory: full logits (model dtype and fp32 copy, log-probabilities, their gradient) or,
    fused, one fp32 chunk of them with its softmax, the gathered hidden states and their gradient."""
    tokens = batch * seq
    if not fused:
        return tokens * dims.vocab * (act_bytes + (4 if act_bytes < 4 else 0) + 8)
    chunk = min(tokens, max(1, chunk_elements // dims.vocab)) * dims.vocab * 4 * 2
    head_grad = dims.vocab * dims.hidden * 4 if head_trains else 0  # its fp32 accumulator (updated in place)
    return chunk + 2 * tokens * dims.hidden * act_bytes + head_grad


def estimate(model: Any, method_name: str, batch: int, seq: int, precision: str = "32-true",
             lora_dropout: float = 0.0, setup: Setup | None = None,
             quantized: dict[int, float] | None = None) -> Estimate:
    """Estimate from a model with the PEFT method applied (parameters may live on the meta device).
    `quantized` maps id(weight) -> bytes per element for the base weights stored quantised."""
    import torch

    setup = setup or Setup(batch, seq, precision, lora_dropout=lora_dropout)
    if setup.precision not in PRECISIONS:
        raise ValueError(f"unknown precision {setup.precision!r}; known: {', '.join(PRECISIONS)}")
    quantized = quantized or getattr(model, "tuneforge_quantized_bytes", None) or {}
    half_weights = setup.precision in ("bf16-true", "16-true")
    params = list({id(p): p for p in model.parameters()}.values())
    weights, by_dtype, gradients, optimizer, largest = 0.0, {}, 0.0, 0.0, 0.0
    for p in params:
        size = 2 if half_weights and p.is_floating_point() else p.element_size()
        nbytes = p.numel() * quantized[id(p)] if id(p) in quantized else p.numel() * size
        key = f"{quantized[id(p)]:.3f} B/param (quantised)" if id(p) in quantized else str(
            torch.bfloat16 if half_weights and p.is_floating_point() else p.dtype).replace("torch.", "")
        by_dtype[key] = by_dtype.get(key, 0.0) + nbytes
        weights += nbytes
        if p.requires_grad:
            gradients += p.numel() * size
            largest = max(largest, p.numel() * size)
            optimizer += p.numel() * (2.03 if setup.optimizer == "adamw8bit" else 2 * size)
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    base = peft_base(model)
    dims = Dims.of(base.config)
    embed = base.get_input_embeddings().weight
    act = 2 if setup.precision in HALF else embed.element_size()
    dropout_inputs = lora_ranks = 0
    for module in model.modules():
        if hasattr(module, "lora_A") and hasattr(module, "base_layer") and len(module.lora_A):
            adapter = next(iter(module.lora_A.values()))  # a Linear, or AdaLoRA's (r x in) Parameter
            rank, fan_in = (adapter.out_features, adapter.in_features) if hasattr(adapter, "in_features") \
                else tuple(adapter.shape)
            lora_ranks += rank
            if setup.lora_dropout > 0:
                dropout_inputs += fan_in
    head = base.get_output_embeddings()
    head_trains = head is not None and head.weight.requires_grad
    activations = activation_bytes(dims, setup.batch, setup.seq, act, dropout_inputs, lora_ranks,
                                   checkpointing=setup.checkpointing, attention=setup.attention)
    step_temporaries = (gradients if setup.foreach else largest) if setup.optimizer == "adamw" else largest
    return Estimate(total, trainable, method_name, setup.precision, setup.batch, setup.seq,
                    weights=weights, gradients=gradients, adam=optimizer, activations=activations,
                    logits=logits_bytes(dims, setup.batch, setup.seq, act, fused=setup.fused_loss,
                                        chunk_elements=setup.chunk_elements, head_trains=head_trains),
                    overhead=step_temporaries,
                    quantized_params=sum(p.numel() for p in params if id(p) in quantized),
                    checkpointing=setup.checkpointing, attention=setup.attention,
                    activations_per_layer=layer_bytes(dims, setup.batch, setup.seq, act, setup.attention),
                    weights_by_dtype=by_dtype)


def _mb(x: float) -> str:
    return f"{x / 2**20:10.2f} MiB"


def _gb(x: float) -> str:
    return f"{x / 2**30:8.2f} GiB"


def table(e: Estimate) -> str:
    p, t = e.total_params, e.trainable
    full = t >= p
    unit = _gb if e.peak >= 2**32 else _mb
    dtypes = ", ".join(f"{k}: {unit(v).strip()}" for k, v in e.weights_by_dtype.items())
    lines = [f"P = {p:,} parameters, trainable = {t:,} ({100 * t / p:.3f} %), method {e.method}, "
             f"precision {e.precision}, batch {e.batch} x {e.seq} tokens, attention {e.attention}, "
             f"activation checkpointing {'on' if e.checkpointing else 'off'}",
             "",
             "Usual table (mixed precision)            full fine-tuning        LoRA-style (frozen base)",
             f"  model weights        2P | 2P + 2P_L   {unit(2 * p)}          {unit(2 * p + 2 * t)}",
             f"  gradients            2P | 2P_L        {unit(2 * p)}          {unit(2 * t)}",
             f"  optimizer fp32 copy  4P | 4P_L        {unit(4 * p)}          {unit(4 * t)}",
             f"  Adam first moment    4P | 4P_L        {unit(4 * p)}          {unit(4 * t)}",
             f"  Adam second moment   4P | 4P_L        {unit(4 * p)}          {unit(4 * t)}",
             f"  total               16P | 2P + 16P_L  {unit(16 * p)}          {unit(2 * p + 16 * t)}",
             f"  (this run is {'full fine-tuning' if full else 'a frozen base'}: table total {unit(e.lecture_total)})",
             "",
             f"This configuration ({e.precision}):",
             f"  weights            {unit(e.weights)}   ({dtypes})"
             + (f", {e.quantized_params:,} quantised" if e.quantized_params else ""),
             f"  gradients          {unit(e.gradients)}",
             f"  optimizer states   {unit(e.adam)}",
             f"  activations        {unit(e.activations)}   ({unit(e.activations_per_layer).strip()} per layer"
             + (", checkpointed: each layer keeps only its input)" if e.checkpointing else ")"),
             f"  logits             {unit(e.logits)}",
             f"  overheads          {unit(e.overhead)}   (optimizer step temporaries)",
             f"  estimated peak     {unit(e.peak)}   (weights + optimizer + max(activations + logits, "
             f"gradients + max(recomputed layer, overheads)))"]
    if full and e.weights_by_dtype and all(k in ("bfloat16", "float16") for k in e.weights_by_dtype):
        lines.append("  note: AdamW on half-precision weights keeps no fp32 master copy; the table's 16P "
                     "is model.dtype=float32 with trainer.precision=bf16-mixed")
    return "\n".join(lines)
