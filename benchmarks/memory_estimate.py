"""Memory estimate (tuneforge.analysis.memory) vs the measured peak of a few real training steps.

    .venv/bin/python benchmarks/memory_estimate.py [--hidden 256 --layers 4 --batch 8 --seq 256]

Each method runs in a fresh subprocess (one torch thread): measured = peak RSS during 3 AdamW steps
minus the RSS after a warm-up (every library and kernel loaded) just before the model is built (CPU),
or torch.cuda.max_memory_allocated (CUDA). On CPU the subprocess runs with glibc's mmap threshold fixed
(MALLOC_MMAP_THRESHOLD_=65536, MALLOC_TRIM_THRESHOLD_=0): with the default dynamic threshold, freed
activation buffers stay in the heap and the RSS peak overstates live memory by 40-120 %.
Prints estimate, measured and their ratio for full fine-tuning and LoRA on the same model. The loop zeroes
gradients where Lightning does (after the forward pass, before backward). benchmarks/memory_scale.py does the
same on SmolLM2 through a real Lightning fit, with checkpointing and QLoRA.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(method: str, hidden: int, layers: int, batch: int, seq: int, steps: int = 3) -> dict:
    import torch

    torch.set_num_threads(1)
    from tuneforge.analysis.memory import estimate
    from tuneforge.model.tiny import TinyModel
    from tuneforge.peft.full import FullFineTuning
    from tuneforge.peft.lora import Lora

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    make = (lambda: FullFineTuning()) if method == "full" else (lambda: Lora(r=8, dropout=0.0))
    warm, _ = TinyModel(hidden_size=32, num_layers=1, num_heads=1, intermediate_size=64).build()
    warm = make().apply(warm).to(device)  # load every library and kernel before the baseline
    w_ids = torch.randint(3, 250, (1, 8), device=device)
    warm(input_ids=w_ids, labels=w_ids).loss.backward()
    del warm
    base = torch.cuda.memory_allocated() if cuda else _rss()
    torch.manual_seed(0)
    model, _ = TinyModel(hidden_size=hidden, num_layers=layers, num_heads=max(1, hidden // 64),
                         intermediate_size=4 * hidden, max_position_embeddings=max(512, seq)).build()
    model = make().apply(model).to(device).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    ids = torch.randint(3, 250, (batch, seq), device=device)
    mask = torch.ones_like(ids)
    labels = ids.clone()
    labels[:, : seq // 4] = -100
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    for _ in range(steps):  # Lightning's order: the previous gradients are freed after the forward pass
        loss = model(input_ids=ids, attention_mask=mask, labels=labels, use_cache=False).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    if cuda:
        torch.cuda.synchronize()
        measured = torch.cuda.max_memory_allocated() - base
    else:
        measured = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    e = estimate(model, method, batch, seq, "32-true", 0.0)
    return {"method": method, "device": device, "params": e.total_params, "trainable": e.trainable,
            "estimate": e.peak, "lecture_states": e.states + e.gradients, "activations": e.activations,
            "measured": measured}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.hidden, args.layers, args.batch, args.seq)))
        return
    print(f"model: Llama h={args.hidden} layers={args.layers} i={4 * args.hidden}, batch {args.batch} x {args.seq}")
    print(f"{'method':<6} {'device':<6} {'params':>11} {'trainable':>10} {'states+grads':>13} "
          f"{'activations':>12} {'estimate':>10} {'measured':>10} {'ratio':>6}")
    for method in ("full", "lora"):
        out = subprocess.run([sys.executable, __file__, "--one", method, "--hidden", str(args.hidden),
                              "--layers", str(args.layers), "--batch", str(args.batch), "--seq", str(args.seq)],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1", "MALLOC_MMAP_THRESHOLD_": "65536",
                                  "MALLOC_TRIM_THRESHOLD_": "0"})
        r = json.loads(out.stdout.strip().splitlines()[-1])
        mib = 2 ** 20
        print(f"{r['method']:<6} {r['device']:<6} {r['params']:>11,} {r['trainable']:>10,} "
              f"{r['lecture_states'] / mib:>10.1f} MiB {r['activations'] / mib:>8.1f} MiB "
              f"{r['estimate'] / mib:>6.1f} MiB {r['measured'] / mib:>6.1f} MiB {r['measured'] / r['estimate']:>6.3f}")


if __name__ == "__main__":
    main()
