"""`tuneforge estimate-memory` for real model sizes, beside published peak-memory figures (docs/peft.md's table).

    .venv/bin/python benchmarks/memory_table.py [--smollm2-cache DIR]

Every estimate is built from a config.json alone on the meta device (the published configs of Llama-3-8B,
Llama-3-70B and LLaMA-65B are written here; SmolLM2-135M's comes from its cached directory or the GGUF
metadata), for a GPU (`--device cuda`: torch's foreach AdamW). Prints a markdown table: our estimate of the
peak, the published figure where one exists for the same setting, and their ratio.

Settings: `model.dtype=auto` (the checkpoint's bf16) with `trainer.precision=bf16-mixed` for LoRA and QLoRA
(LoRA weights fp32, as peft creates them); full fine-tuning with fp32 weights and bf16-mixed (the lecture's
16P). LoRA / QLoRA: r=8, alpha=16, dropout 0, all linear layers (torchtune's Llama 3.1 8B configs: q, v,
output and the MLP, rank 8, dropout 0).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

LLAMA3_8B = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
             "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
             "vocab_size": 128256, "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
             "tie_word_embeddings": False, "torch_dtype": "bfloat16", "hidden_act": "silu"}
LLAMA3_70B = dict(LLAMA3_8B, hidden_size=8192, intermediate_size=28672, num_hidden_layers=80, num_attention_heads=64)
LLAMA_65B = dict(LLAMA3_8B, hidden_size=8192, intermediate_size=22016, num_hidden_layers=80, num_attention_heads=64,
                 num_key_value_heads=64, vocab_size=32000, max_position_embeddings=2048, torch_dtype="float16")
GIB, GB = 2 ** 30, 1e9

LORA = ["peft.r=8", "peft.alpha=16", "peft.dropout=0.0"]
METHODS = {"full": ["peft=full", "model.dtype=float32"], "lora": ["peft=lora", *LORA], "qlora": ["peft=qlora", *LORA]}
# (model, method, checkpointing, batch, seq) -> (published peak in bytes, source); torchtune's single-device
# configs train with activation checkpointing on.
PUBLISHED = {
    ("8B", "lora", True, 2, 2048): (16.2 * GIB, "torchtune, Llama 3.1 8B, 1x RTX 4090, batch 2 packed to 2,048"),
    ("8B", "qlora", True, 2, 2048): (7.4 * GIB, "torchtune, same setting"),
    ("8B", "full", True, 2, 2048): (18.9 * GIB, "torchtune, same setting, but bf16 weights, 8-bit paged AdamW "
                                                "and the optimizer step fused into backward: not comparable"),
}
LLAMA_FACTORY = {("8B", "full"): 120 * GB, ("8B", "lora"): 16 * GB, ("8B", "qlora"): 6 * GB,
                 ("70B", "full"): 1200 * GB, ("70B", "lora"): 160 * GB, ("70B", "qlora"): 48 * GB}


def estimate(model: list[str], overrides: list[str]) -> tuple[dict, float]:
    from tuneforge.commands.estimate_memory import run_estimate
    from tuneforge.config.app import compose

    started = time.perf_counter()
    cfg = compose("train", [*model, *overrides, "trainer.precision=bf16-mixed", "run_dir=."])
    return run_estimate(cfg, "cuda").as_json(), time.perf_counter() - started


def fmt(x: float) -> str:
    return f"{x / GIB:.1f} GiB"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--smollm2-cache", default=None)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tf-configs-"))
    models = {"SmolLM2-135M": ["model=smollm2_135m"] + ([f"model.cache_dir={args.smollm2_cache}"]
                                                         if args.smollm2_cache else [])}
    for name, config in (("8B", LLAMA3_8B), ("70B", LLAMA3_70B), ("65B", LLAMA_65B)):
        (tmp / name).mkdir()
        (tmp / name / "config.json").write_text(json.dumps(config))
        models[name] = ["model=hf", f"model.name_or_path={tmp / name}"]

    print("| model | method | checkpointing | batch x seq | estimate (peak) | weights | activations | published | ratio (est./pub.) | seconds |")
    print("|---|---|---|---|---:|---:|---:|---|---:|---:|")
    for model in ("SmolLM2-135M", "8B", "70B"):
        for method, overrides in METHODS.items():
            for ck in (False, True):
                batch, seq = 2, 2048
                e, seconds = estimate(models[model], [*overrides, f"model.gradient_checkpointing={str(ck).lower()}",
                                                      f"data.batch_size={batch}", f"data.max_length={seq}"])
                published, source = PUBLISHED.get((model, method, ck, batch, seq), (None, ""))
                cells = [fmt(published) + f" ({source})" if published else "-",
                         f"{e['peak_bytes'] / published:.2f}" if published else "-"]
                print(f"| {model} | {method} | {'on' if ck else 'off'} | {batch} x {seq} | {fmt(e['peak_bytes'])} | "
                      f"{fmt(e['weights_bytes'])} | {fmt(e['activations_bytes'] + e['logits_bytes'])} | "
                      f"{cells[0]} | {cells[1]} | {seconds:.1f} |", flush=True)
    # litgpt's measured peak: Llama 3 8B LoRA r=32 alpha=16 dropout 0.05 on q and v, bf16-true, micro-batch 1, 512.
    e, _ = estimate(models["8B"], ["peft=lora", "peft.r=32", "peft.alpha=16", "peft.dropout=0.05",
                                   "peft.target_modules=[q_proj,v_proj]", "data.batch_size=1", "data.max_length=512",
                                   "trainer.precision=bf16-true"])
    print(f"| 8B | lora (litgpt: r 32, q and v, bf16-true) | off | 1 x 512 | {fmt(e['peak_bytes'])} | "
          f"{fmt(e['weights_bytes'])} | {fmt(e['activations_bytes'] + e['logits_bytes'])} | "
          f"19.73 GB = {fmt(19.73 * GB)} (litgpt, 1x A10G) | {e['peak_bytes'] / (19.73 * GB):.2f} | - |")
    # The QLoRA paper: LLaMA-65B, r=64 on every linear layer, dropout 0.05, activation checkpointing, one 48 GB GPU.
    e, _ = estimate(models["65B"], ["peft=qlora", "peft.r=64", "peft.alpha=16", "peft.dropout=0.05",
                                    "model.gradient_checkpointing=true", "data.batch_size=1", "data.max_length=512"])
    print(f"| LLaMA-65B | qlora (paper: r 64, all linears) | on | 1 x 512 | {fmt(e['peak_bytes'])} | "
          f"{fmt(e['weights_bytes'])} | {fmt(e['activations_bytes'] + e['logits_bytes'])} | "
          f"fits one 48 GB GPU = {fmt(48 * GB)} (QLoRA paper) | {e['peak_bytes'] / (48 * GB):.2f} | - |")
    print("\nLLaMA-Factory's estimated requirements (no batch or length given) beside ours at batch 1 x 512, "
          "checkpointing off:")
    print("| model | method | ours | LLaMA-Factory | ratio |")
    print("|---|---|---:|---:|---:|")
    for (model, method), theirs in LLAMA_FACTORY.items():
        e, _ = estimate(models[model], [*METHODS[method], "data.batch_size=1", "data.max_length=512"])
        label = f"{model} (theirs: {'7B' if model == '8B' else '70B'})"
        print(f"| {label} | {method} | {fmt(e['peak_bytes'])} | {fmt(theirs)} | {e['peak_bytes'] / theirs:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
