"""Data preparation: tuneforge's `prepare_data` (what `train` and `preview` run) against a hand-written
`datasets.map` over the same alpaca records with the same tokenizer (SmolLM2-135M-Instruct's 49k BPE),
one process each; then both with num_proc=2, and tuneforge's second start (the prepared data cached by
the run just before it).

    .venv/bin/python benchmarks/data_prep.py [--records 100000] [--reps 3] [--configs ours,hf_map,...]

Each measurement is a fresh process (configurations interleaved, their order rotated every repetition);
the tokenizer is loaded before the clock starts. Timed: for tuneforge, `prepare_data` from the JSONL file
to encoded examples (reading, parsing, template, spans, loss mask, truncation, counts; `data.cache=false`
except `ours_cached`); for `datasets`, `load_dataset("json")` (fresh cache directory) + `map(batched=True)`.
The hand-written function is the strongest simple form: the same prompt text, one tokenizer call per
batch with offsets, labels from the reply's character span (`hf_map_twice` is the common form that
tokenises the prompt a second time to find its length, as Stanford Alpaca's train.py does). Both sides
must give identical input_ids and labels (a digest of all of them is compared). Wall seconds and CPU
seconds (the process and its workers) are printed: on a shared machine the CPU figure is the steadier one.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = ("ours", "hf_map", "ours_np2", "hf_map_np2", "ours_cached")
INPUT_FORMAT = "{instruction}\n\n### Input:\n{input}"  # conf/data/alpaca.yaml
HEAD = ("Below is an instruction that describes a task. Write a response that appropriately completes the "
        "request.\n\n### Instruction:\n")  # the alpaca template's text before the instruction


def make_records(path: Path, n: int, seed: int = 0) -> None:
    """Alpaca-like records: 4-20-word instructions, an input 40 % of the time, 1-6-sentence outputs."""
    rng = random.Random(seed)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "data", "model", "train", "token", "reply", "question", "answer", "explain", "write", "list", "give", "describe", "summarise", "translate", "compute", "python", "function", "because", "therefore", "café", "naïve", "東京", "1984", "3.14", "(see", "below)", "e.g.", "don't"]

    def sentence(k: int) -> str:
        return " ".join(rng.choice(words) for _ in range(k)).capitalize() + "."

    with path.open("w", encoding="utf-8") as f:
        for _ in range(n):
            record = {"instruction": sentence(rng.randint(4, 20)),
                      "input": sentence(rng.randint(3, 30)) if rng.random() < 0.4 else "",
                      "output": " ".join(sentence(rng.randint(5, 18)) for _ in range(rng.randint(1, 6)))}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def digest(rows) -> str:
    h = hashlib.sha256()
    for ids, labels in rows:
        h.update(json.dumps([ids, labels]).encode())
    return h.hexdigest()[:16]


def tokenizer():
    from tuneforge.model.smollm2_135m import SmolLM2

    return SmolLM2().build_tokenizer()


def run_ours(path: str, tok, num_proc: int, cache_dir: str | None):
    from tuneforge.data.alpaca import Alpaca
    from tuneforge.data.base import LoaderSettings
    from tuneforge.loss_mask.multi_turn import MultiTurn
    from tuneforge.render.prepare import prepare_data
    from tuneforge.template.named import TEMPLATES

    settings = LoaderSettings(max_length=512, num_proc=num_proc, cache=cache_dir is not None, cache_dir=cache_dir)
    data = prepare_data(Alpaca(path=path, input_format=INPUT_FORMAT, val_fraction=0.0), tok, TEMPLATES["alpaca"],
                        MultiTurn(), settings)
    return [(e.input_ids, e.labels) for e in data.encoded["train"]]


def run_hf(path: str, tok, num_proc: int | None, twice: bool = False):
    import datasets
    from datasets import load_dataset

    datasets.disable_progress_bars()
    eos = tok.eos_token

    def tokenize(batch):
        texts, spans = [], []
        for instruction, extra, output in zip(batch["instruction"], batch["input"], batch["output"]):
            user = INPUT_FORMAT.format(instruction=instruction, input=extra) if extra.strip() else instruction
            prompt = HEAD + user + "\n\n### Response:\n"
            texts.append(prompt + output + eos + "\n\n")
            spans.append((len(prompt), len(prompt) + len(output) + len(eos)))
        enc = tok(texts, add_special_tokens=False, return_offsets_mapping=True, truncation=True, max_length=512)
        if twice:  # the common form: the prompt's token count from tokenising it again
            cut = [len(ids) for ids in tok([t[:a] for t, (a, _) in zip(texts, spans)], add_special_tokens=False)
                   ["input_ids"]]
            labels = [[-100 if i < n or s >= b else t for i, (t, (s, _)) in enumerate(zip(ids, offsets))]
                      for ids, offsets, n, (_, b) in zip(enc["input_ids"], enc["offset_mapping"], cut, spans)]
        else:
            labels = [[t if e > a and s < b else -100 for t, (s, e) in zip(ids, offsets)]
                      for ids, offsets, (a, b) in zip(enc["input_ids"], enc["offset_mapping"], spans)]
        return {"input_ids": enc["input_ids"], "labels": labels}

    with tempfile.TemporaryDirectory() as cache:
        ds = load_dataset("json", data_files=path, split="train", cache_dir=cache)
        out = ds.map(tokenize, batched=True, remove_columns=ds.column_names, num_proc=num_proc)
        return list(zip(out["input_ids"], out["labels"]))


def one(config: str, path: str, cache_dir: str) -> dict:
    tok = tokenizer()
    tok("warm up", add_special_tokens=False)
    start, cpu = time.perf_counter(), cpu_seconds()
    if config.startswith("ours"):
        rows = run_ours(path, tok, 2 if config == "ours_np2" else 1, cache_dir if config == "ours_cached" else None)
    else:
        rows = run_hf(path, tok, 2 if config == "hf_map_np2" else None, twice=config == "hf_map_twice")
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {"config": config, "wall": wall, "cpu": cpu, "rows": len(rows), "tokens": sum(len(i) for i, _ in rows),
            "digest": digest(rows)}


def child(config: str, path: str, cache_dir: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", config, "--data", path, "--cache-dir", cache_dir],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{config} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.data, args.cache_dir)))
        return
    configs = args.configs.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        path, cache_dir = Path(tmp) / "alpaca.jsonl", Path(tmp) / "cache"
        make_records(path, args.records)
        tokenizer()  # the SmolLM2 cache is built before any clock runs
        results: dict[str, list[dict]] = {c: [] for c in configs}
        for rep in range(args.reps):
            order = configs[rep % len(configs):] + configs[:rep % len(configs)]
            for config in order:
                if config == "ours_cached":  # the first start, untimed: fills the cache (or finds it there)
                    child(config, str(path), str(cache_dir))
                r = child(config, str(path), str(cache_dir))
                results[config].append(r)
                print(f"  rep {rep + 1} {config:13} wall {r['wall']:7.2f} s  cpu {r['cpu']:7.2f} s", flush=True)
    med = {c: {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu")} for c, rs in results.items()}
    digests = {c: {r["digest"] for r in rs} for c, rs in results.items()}
    first = next(iter(results.values()))[0]
    print(f"\n{args.records:,} alpaca records, {first['tokens']:,} tokens, SmolLM2 tokenizer, "
          f"medians of {args.reps} interleaved fresh processes; load average {os.getloadavg()[0]:.1f}")
    print(f"{'configuration':14} {'wall s':>8} {'cpu s':>8}  digest")
    for c in configs:
        print(f"{c:14} {med[c]['wall']:8.2f} {med[c]['cpu']:8.2f}  {','.join(sorted(digests[c]))}")
    same = len(set().union(*digests.values())) == 1
    print(f"identical input_ids and labels in every configuration: {same}")
    for a, b in (("hf_map", "ours"), ("hf_map_np2", "ours_np2"), ("ours", "ours_np2"), ("hf_map_twice", "ours")):
        if a in med and b in med:
            print(f"{a} / {b}: {med[a]['wall'] / med[b]['wall']:.2f}x wall, {med[a]['cpu'] / med[b]['cpu']:.2f}x cpu")
    if "ours_cached" in med and "ours" in med:
        print(f"second start (cached): {med['ours_cached']['wall']:.2f} s wall, "
              f"{med['ours']['wall'] / med['ours_cached']['wall']:.1f}x faster than preparing")


if __name__ == "__main__":
    main()
