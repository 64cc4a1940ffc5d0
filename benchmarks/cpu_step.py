"""One training step on a CPU: torch threads and OpenMP waiting (the quickstart's model), bf16 autocast (SmolLM2).

    .venv/bin/python benchmarks/cpu_step.py threads [--busy]   # quickstart model, batch 64 x 20 tokens, AdamW
    .venv/bin/python benchmarks/cpu_step.py bf16                # SmolLM2-135M LoRA q/v, batch 8 x 100, 1 thread
    .venv/bin/python benchmarks/cpu_step.py dropout             # LoRA's input dropout: nn.Dropout vs SkipDropout

`threads`: ms per step (mean of 30 after 5 warm-up steps) for 1 thread, and 2 threads with OpenMP workers that
spin briefly (`GOMP_SPINCOUNT=3000`, what `threads: auto` sets with two idle cores), sleep
(`OMP_WAIT_POLICY=PASSIVE`) or spin as libgomp does by default; each in a fresh process (libgomp reads its
settings when torch loads). `--busy` keeps one core busy with a spinning process meanwhile.
`bf16`: seconds of forward + backward of SmolLM2 LoRA (dropout 0) in float32, in bf16 autocast, with the
attention in float32 (`sdpa_fp32`) and with the frozen weights in bf16 too; each variant's loss beside float32's.
`dropout`: ms per call (mean of 50, 1 thread) of `nn.Dropout(0.05)` and tuneforge's `SkipDropout(0.05)` on the
inputs LoRA drops on SmolLM2 (800 x 576, 800 x 1536) and the toy (1760 x 256), float32 and bf16, and the
fraction each dropped of 10 M elements.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

SETTINGS = {"1 thread": (1, {}), "2 threads, brief spin": (2, {"GOMP_SPINCOUNT": "3000"}),
            "2 threads, sleeping workers": (2, {"OMP_WAIT_POLICY": "PASSIVE"}), "2 threads, libgomp default": (2, {})}


def tiny_step_ms(threads: int) -> float:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=260, hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
                                         num_key_value_heads=4, intermediate_size=512, tie_word_embeddings=True))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, 260, (64, 20))

    def step() -> None:
        model(input_ids=x, labels=x).loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    for _ in range(5):
        step()
    start = time.perf_counter()
    for _ in range(30):
        step()
    return (time.perf_counter() - start) / 30 * 1000


BF16_VARIANTS = {  # name: (autocast, frozen weights in bf16, attention)
    "float32": (False, False, "sdpa"),
    "bf16 autocast": (True, False, "sdpa"),
    "bf16 autocast, fp32 attention": (True, False, "sdpa_fp32"),
    "bf16 weights + autocast, fp32 attention": (True, True, "sdpa_fp32"),
}


def bf16_steps() -> None:
    """Each variant: seconds of forward + backward (3 steps after one warm-up, two rounds alternated) and its
    loss's distance from float32's on the same batch."""
    import torch

    from tuneforge.model.attention import register
    from tuneforge.model.smollm2_135m import SmolLM2
    from tuneforge.peft.lora import Lora

    torch.set_num_threads(1)
    register()
    tokenizer = SmolLM2().build_tokenizer()
    x = torch.randint(0, len(tokenizer), (8, 100), generator=torch.Generator().manual_seed(0))
    models, losses = {}, {}
    for name, (_, bf16_weights, attention) in BF16_VARIANTS.items():
        torch.manual_seed(0)
        model, _ = SmolLM2(dtype="bfloat16" if bf16_weights else "auto", attn_implementation=attention).build()
        models[name] = Lora(r=8, alpha=16, dropout=0.0, target_modules=["q_proj", "v_proj"]).apply(model, tokenizer)
    for round_ in range(2):
        for name, (autocast, _, _) in BF16_VARIANTS.items():
            times = []
            for _ in range(4):
                start = time.perf_counter()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                    loss = models[name](input_ids=x, labels=x).loss
                loss.backward()
                times.append(time.perf_counter() - start)
            losses[name] = loss.item()
            print(f"round {round_ + 1} {name:40} " + " ".join(f"{t:.2f}" for t in times[1:]) + " s, loss "
                  f"{losses[name]:.4f} (float32 {losses['float32'] - losses[name]:+.4f})", flush=True)


def dropout_calls() -> None:
    import torch

    from tuneforge.peft._skip_dropout import SkipDropout

    torch.set_num_threads(1)
    torch.manual_seed(0)
    modules = {"nn.Dropout": torch.nn.Dropout(0.05), "SkipDropout": SkipDropout(0.05)}
    for shape in ((800, 576), (800, 1536), (1760, 256)):
        for dtype in (torch.float32, torch.bfloat16):
            x = torch.randn(*shape, dtype=dtype)
            ms = {}
            for name, module in modules.items():
                module(x)
                start = time.perf_counter()
                for _ in range(50):
                    module(x)
                ms[name] = (time.perf_counter() - start) / 50 * 1000
            print(f"{str(shape):12} {str(dtype):15} " + "  ".join(f"{n} {v:.2f} ms" for n, v in ms.items())
                  + f"  ({ms['nn.Dropout'] / ms['SkipDropout']:.1f}x)", flush=True)
    ones = torch.ones(10_000_000)
    print("dropped: " + ", ".join(f"{n} {(m(ones) == 0).float().mean().item():.5f}" for n, m in modules.items()))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=("threads", "bf16", "dropout"))
    p.add_argument("--busy", action="store_true", help="one core kept busy by another process")
    p.add_argument("--child-threads", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_threads:
        print(f"{tiny_step_ms(args.child_threads):.1f}")
        return
    if args.what == "bf16":
        return bf16_steps()
    if args.what == "dropout":
        return dropout_calls()
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        for name, (threads, env) in SETTINGS.items():
            clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT",
                                                                      "OMP_NUM_THREADS")}
            out = subprocess.run([sys.executable, __file__, "threads", "--child-threads", str(threads)],
                                 env={**clean, **env}, capture_output=True, text=True, check=True)
            print(f"{name:28} {out.stdout.strip():>7} ms / step{' (one core busy)' if hog else ''}", flush=True)
    finally:
        if hog:
            hog.kill()


if __name__ == "__main__":
    main()
