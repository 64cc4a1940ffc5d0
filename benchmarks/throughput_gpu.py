"""GPU throughput (skipped without CUDA): tuneforge against TRL's SFTTrainer on a ~0.45B-parameter Llama
built from a config (random weights), LoRA and QLoRA, bf16 mixed precision.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/throughput_gpu.py [--examples 2048 --batch 32 --reps 3 --methods lora,qlora]

Same protocol as benchmarks/throughput_trl.py (same synthetic pre-encoded data, same
LoraConfig, AdamW lr 2e-4 constant, clipping 1.0, one epoch, fresh subprocess per run, repetitions
interleaved, medians): for each method, TRL padded / TRL packed (bfd, padding-free) against ours padded /
ours packed, reporting training tokens/s and peak CUDA memory (torch.cuda.max_memory_allocated).
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
MODEL = dict(vocab_size=32000, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
             num_key_value_heads=16, intermediate_size=4096, max_position_embeddings=4096)  # ~0.45B


def build(method: str):  # noqa: ANN201
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from throughput_trl import lora
    from tuneforge.model.byte_tokenizer import byte_tokenizer
    from tuneforge.peft.qlora import quantize_linears

    tok = byte_tokenizer()
    torch.manual_seed(0)
    config = LlamaConfig(pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=None,
                         tie_word_embeddings=True, **MODEL)
    config._attn_implementation = "sdpa"
    model = LlamaForCausalLM(config).cuda()
    if method == "qlora":
        model = quantize_linears(model, compute_dtype="bfloat16")
    return model, tok, lora()


def run(config: str, method: str, data: list[dict], args: argparse.Namespace, out_dir: str) -> dict:
    import torch

    model, tok, peft = build(method)
    torch.cuda.reset_peak_memory_stats()
    if config.startswith("ours"):
        import lightning.pytorch as pl

        from tuneforge.data.base import LoaderSettings
        from tuneforge.lightning.loaders import make_loader
        from tuneforge.lightning.module import SFTModule
        from tuneforge.scheduler.constant import Constant
        from tuneforge.render.encode import Encoded

        model = peft.apply(model, tok)
        settings = LoaderSettings(batch_size=args.batch, packing=config == "ours_packed",
                                  pack_length=args.pack_length)
        loader = make_loader([Encoded(d["input_ids"], d["labels"]) for d in data], settings, tok.pad_token_id,
                             train=True, seed=0)
        module = SFTModule(model, lambda ps: torch.optim.AdamW(ps, lr=2e-4, weight_decay=0.0), Constant())
        trainer = pl.Trainer(accelerator="gpu", devices=1, max_epochs=1, logger=False, precision="bf16-mixed",
                             enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                             gradient_clip_val=1.0, log_every_n_steps=10, num_sanity_val_steps=0)
        start = time.perf_counter()
        trainer.fit(module, loader)
    else:
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        packed = config == "trl_packed"
        mean = sum(len(d["input_ids"]) for d in data) / len(data)
        cfg = SFTConfig(
            output_dir=out_dir, num_train_epochs=1, learning_rate=2e-4, lr_scheduler_type="constant",
            per_device_train_batch_size=max(1, round(args.batch * mean / args.pack_length)) if packed else args.batch,
            warmup_steps=0, weight_decay=0.0, optim="adamw_torch", max_grad_norm=1.0, logging_steps=10,
            save_strategy="no", report_to="none", disable_tqdm=True, bf16=True, gradient_checkpointing=False,
            seed=0, max_length=args.pack_length if packed else None, packing=packed, packing_strategy="bfd")
        trainer = SFTTrainer(model=model, args=cfg, train_dataset=Dataset.from_list(data), processing_class=tok,
                             peft_config=peft.peft_config())
        start = time.perf_counter()
        trainer.train()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    tokens = sum(len(d["input_ids"]) for d in data)
    return {"config": config, "method": method, "tokens_per_s": tokens / seconds,
            "peak_gib": torch.cuda.max_memory_allocated() / 2**30}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--examples", type=int, default=2048)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--pack-length", type=int, default=1024)
    p.add_argument("--methods", default="lora,qlora")
    p.add_argument("--run", help=argparse.SUPPRESS)
    p.add_argument("--method", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("skipped: no CUDA device (benchmarks/throughput_gpu.py needs a GPU)")
        return 0
    if args.run:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(args.run, args.method, json.loads(Path(args.data).read_text()), args, tmp)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    from throughput_trl import make_data

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}
    results: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.json"
        path.write_text(json.dumps(make_data(args.examples)))
        for rep in range(args.reps):
            for method in args.methods.split(","):
                for config in CONFIGS if rep % 2 == 0 else CONFIGS[::-1]:
                    out = subprocess.run([sys.executable, __file__, "--run", config, "--method", method, "--data",
                                          str(path), "--batch", str(args.batch), "--pack-length",
                                          str(args.pack_length)], capture_output=True, text=True, env=env, cwd=ROOT)
                    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
                    if out.returncode or not line:
                        sys.exit(f"{method} {config} failed:\n{out.stderr[-3000:]}")
                    r = json.loads(line[0][7:])
                    results.setdefault((method, config), []).append(r)
                    print(f"  rep {rep + 1} {method:6s} {config:12s} {r['tokens_per_s']:9.0f} tokens/s "
                          f"peak {r['peak_gib']:.2f} GiB", flush=True)
    print(f"\n{torch.cuda.get_device_name(0)}: medians")
    for method in args.methods.split(","):
        med = {c: statistics.median(r["tokens_per_s"] for r in results[(method, c)]) for c in CONFIGS}
        for c in CONFIGS:
            peak = max(r["peak_gib"] for r in results[(method, c)])
            print(f"  {method:6s} {c:12s} {med[c]:9.0f} tokens/s  peak {peak:.2f} GiB")
        best_t = max(("trl_padded", "trl_packed"), key=med.get)
        best_o = max(("ours_padded", "ours_packed"), key=med.get)
        print(f"  {method}: ours-best / TRL-best {med[best_o] / med[best_t]:.2f}x ({best_o} vs {best_t})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
