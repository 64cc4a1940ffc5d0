"""GPU throughput and memory (skipped without CUDA): tuneforge against TRL's SFTTrainer on a ~1B-parameter
Llama built from a config (random weights, saved once as a bf16 checkpoint), LoRA and QLoRA, activation
checkpointing on and off, bf16 mixed precision.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/throughput_gpu.py [--examples 384 --batch 16 --reps 1 --methods lora,qlora]

Both sides load the same checkpoint directory the way users do: LoRA from bf16 weights, QLoRA straight
into 4-bit NF4 with double quantisation and bf16 compute (ours: `model=hf peft=qlora`'s loading path,
`build_model`; TRL: `from_pretrained(quantization_config=BitsAndBytesConfig(...))`, then SFTTrainer with a
peft_config, which prepares the k-bit model itself). Same synthetic pre-encoded data (--min-len to
--max-len tokens; prompt tokens -100), same LoraConfig (r8 on all linear layers), AdamW lr 2e-4
constant, clipping 1.0, one epoch, fresh subprocess per run, runs interleaved, medians over reps.
Configurations: trl_padded, trl_packed (bfd, padding-free) against ours_padded, ours_packed; each with
activation checkpointing (non-reentrant) as --checkpointing says.
Figures per run: training tokens/s (real tokens / wall time of training), peak CUDA memory while loading
(`load_gib`) and while training (`peak_gib`, torch.cuda.max_memory_allocated), load seconds.
Without CUDA it prints why it skipped and exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
CONFIGS = ("trl_padded", "trl_packed", "ours_padded", "ours_packed")
# Llama-3.2-1B's shape (grouped-query attention, 16 layers of 2048), with a 32k vocabulary: ~1.0B parameters.
MODEL = dict(vocab_size=32000, hidden_size=2048, num_hidden_layers=16, num_attention_heads=32,
             num_key_value_heads=8, intermediate_size=8192, max_position_embeddings=4096)


def save_base(path: Path) -> int:
    """Build the model from its config with random weights and save it (bf16) with the byte tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from tuneforge.model.byte_tokenizer import byte_tokenizer

    tok = byte_tokenizer()
    torch.manual_seed(0)
    config = LlamaConfig(pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=None,
                         tie_word_embeddings=True, **MODEL)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return sum(p.numel() for p in model.parameters())


def lora(method: str):  # noqa: ANN201
    from tuneforge.peft.lora import Lora
    from tuneforge.peft.qlora import QLora

    kind = QLora if method == "qlora" else Lora
    return kind(r=8, alpha=16, dropout=0.05, target_modules="all-linear")


def load_ours(base: str, method: str, checkpointing: bool):  # noqa: ANN201
    from tuneforge.model.hf import HFModel
    from tuneforge.model.load import build_model

    peft = lora(method)
    builder = HFModel(base, dtype="bfloat16", attn_implementation="sdpa", gradient_checkpointing=checkpointing)
    model, tok = build_model(builder, peft)  # a 4-bit base is quantised onto the GPU as it loads
    if model.device.type != "cuda":
        model = model.cuda()  # where Lightning would move it: here, so that both sides' load figures compare
    return peft.apply(model, tok), tok


def load_trl(base: str, method: str):  # noqa: ANN201
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    quant = None
    if method == "qlora":
        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=torch.bfloat16)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.bfloat16, attn_implementation="sdpa",
                                                 quantization_config=quant, device_map={"": 0})
    return model, AutoTokenizer.from_pretrained(base)


def train_ours(model, tok, data: list[dict], config: str, args: argparse.Namespace) -> float:  # noqa: ANN001
    import lightning.pytorch as pl
    import torch

    from tuneforge.data.base import LoaderSettings
    from tuneforge.lightning.loaders import make_loader
    from tuneforge.lightning.module import SFTModule
    from tuneforge.render.encode import Encoded
    from tuneforge.scheduler.constant import Constant

    settings = LoaderSettings(batch_size=args.batch, packing=config == "ours_packed", pack_length=args.pack_length)
    loader = make_loader([Encoded(d["input_ids"], d["labels"]) for d in data], settings, tok.pad_token_id,
                         train=True, seed=0)
    module = SFTModule(model, lambda ps: torch.optim.AdamW(ps, lr=2e-4, weight_decay=0.0), Constant())
    trainer = pl.Trainer(accelerator="gpu", devices=1, max_epochs=1, logger=False, precision="bf16-mixed",
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         gradient_clip_val=1.0, log_every_n_steps=10, num_sanity_val_steps=0)
    start = time.perf_counter()
    trainer.fit(module, loader)
    torch.cuda.synchronize()
    return time.perf_counter() - start


def train_trl(model, tok, data: list[dict], config: str, method: str, checkpointing: bool,  # noqa: ANN001
              args: argparse.Namespace, out_dir: str) -> float:
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    packed = config == "trl_packed"
    mean = sum(len(d["input_ids"]) for d in data) / len(data)
    cfg = SFTConfig(
        output_dir=out_dir, num_train_epochs=1, learning_rate=2e-4, lr_scheduler_type="constant",
        per_device_train_batch_size=max(1, round(args.batch * mean / args.pack_length)) if packed else args.batch,
        warmup_steps=0, weight_decay=0.0, optim="adamw_torch", max_grad_norm=1.0, logging_steps=10,
        save_strategy="no", report_to="none", disable_tqdm=True, bf16=True, seed=0,
        gradient_checkpointing=checkpointing, gradient_checkpointing_kwargs={"use_reentrant": False},
        max_length=args.pack_length if packed else None, packing=packed, packing_strategy="bfd")
    trainer = SFTTrainer(model=model, args=cfg, train_dataset=Dataset.from_list(data), processing_class=tok,
                         peft_config=lora(method).peft_config())
    start = time.perf_counter()
    trainer.train()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def run(config: str, method: str, checkpointing: bool, data: list[dict], args: argparse.Namespace) -> dict:
    import torch

    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    model, tok = (load_ours(args.base, method, checkpointing) if config.startswith("ours")
                  else load_trl(args.base, method))
    torch.cuda.synchronize()
    load_s, load_gib = time.perf_counter() - start, torch.cuda.max_memory_allocated() / 2**30
    torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as tmp:
        seconds = (train_ours(model, tok, data, config, args) if config.startswith("ours")
                   else train_trl(model, tok, data, config, method, checkpointing, args, tmp))
    tokens = sum(len(d["input_ids"]) for d in data)
    return {"config": config, "method": method, "checkpointing": checkpointing, "tokens_per_s": tokens / seconds,
            "peak_gib": torch.cuda.max_memory_allocated() / 2**30, "load_gib": load_gib, "load_s": load_s}


def child_command(config: str, method: str, checkpointing: bool, path: Path, args: argparse.Namespace) -> list[str]:
    return [sys.executable, __file__, "--run", config, "--method", method, "--ckpt", str(int(checkpointing)),
            "--data", str(path), "--base", args.base, "--batch", str(args.batch),
            "--pack-length", str(args.pack_length)]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--examples", type=int, default=384)
    p.add_argument("--min-len", type=int, default=128)
    p.add_argument("--max-len", type=int, default=1024)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--pack-length", type=int, default=2048)
    p.add_argument("--methods", default="lora,qlora")
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--checkpointing", default="on,off", help="on, off or on,off (each configuration both ways)")
    p.add_argument("--only", help="instead of the product above, these runs: method/on|off/config,...")
    p.add_argument("--json", help="also write every run's figures to this file (JSON lines)")
    p.add_argument("--run", help=argparse.SUPPRESS)
    p.add_argument("--method", help=argparse.SUPPRESS)
    p.add_argument("--ckpt", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--base", help=argparse.SUPPRESS)
    args = p.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("skipped: no CUDA device (benchmarks/throughput_gpu.py needs a GPU)")
        return 0
    if args.run:
        result = run(args.run, args.method, args.ckpt == "1", json.loads(Path(args.data).read_text()), args)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    from throughput_trl import make_data

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    runs = [(m, c, ck == "on") for m in args.methods.split(",") for ck in args.checkpointing.split(",")
            for c in args.configs.split(",")]
    if args.only:
        runs = [(m, c, ck == "on") for m, ck, c in (r.split("/") for r in args.only.split(","))]
    results: dict[tuple, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        args.base = str(Path(tmp) / "base")
        params = save_base(Path(args.base))
        data = make_data(args.examples, lengths=(args.min_len, args.max_len))
        path = Path(tmp) / "data.json"
        path.write_text(json.dumps(data))
        tokens = sum(len(d["input_ids"]) for d in data)
        print(f"{torch.cuda.get_device_name(0)}: Llama {params / 1e9:.2f}B from config, {len(data)} examples, "
              f"{tokens} tokens ({args.min_len}-{args.max_len} each), batch {args.batch}, pack {args.pack_length}",
              flush=True)
        for rep in range(args.reps):
            for method, config, ckpt in runs if rep % 2 == 0 else runs[::-1]:
                out = subprocess.run(child_command(config, method, ckpt, path, args), capture_output=True,
                                     text=True, env=env, cwd=ROOT)
                line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
                if out.returncode or not line:
                    print(f"{method} {config} ckpt={ckpt} failed:\n{out.stderr[-3000:]}", flush=True)
                    continue
                r = json.loads(line[0][7:])
                results.setdefault((method, ckpt, config), []).append(r)
                if args.json:
                    with open(args.json, "a") as f:
                        f.write(json.dumps(r) + "\n")
                print(f"  rep {rep + 1} {method:5s} ckpt={'on ' if ckpt else 'off'} {config:11s} "
                      f"{r['tokens_per_s']:9.0f} tokens/s  train peak {r['peak_gib']:6.2f} GiB  "
                      f"load peak {r['load_gib']:5.2f} GiB in {r['load_s']:.1f} s", flush=True)
    print("\nmedians")
    for method, ckpt in dict.fromkeys((m, ck) for m, _, ck in runs):
        med = {c: statistics.median(r["tokens_per_s"] for r in results[(m, ck, c)])
               for m, c, ck in runs if (m, ck) == (method, ckpt) and (m, ck, c) in results}
        if med:
            for c, v in med.items():
                peak = max(r["peak_gib"] for r in results[(method, ckpt, c)])
                print(f"  {method:5s} ckpt={'on ' if ckpt else 'off'} {c:11s} {v:9.0f} tokens/s  peak {peak:.2f} GiB")
            trl = [c for c in med if c.startswith("trl")]
            ours = [c for c in med if c.startswith("ours")]
            if trl and ours:
                bt, bo = max(trl, key=med.get), max(ours, key=med.get)
                print(f"  {method} ckpt={'on' if ckpt else 'off'}: ours-best / TRL-best "
                      f"{med[bo] / med[bt]:.2f}x ({bo} vs {bt})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
