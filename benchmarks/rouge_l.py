"""ROUGE-L dedup: tuneforge.filters.rouge_l.dedup vs rouge_score's RougeScorer(["rougeL"]), same decisions.

    .venv/bin/python benchmarks/rouge_l.py [--n 1000]

Candidates: >= 1,000 instructions made from the 175 built-in seed instructions (re-worded: words
dropped, swapped, replaced, so that some are near-duplicates), compared with a pool of the 175 seeds
and with each earlier kept candidate, threshold 0.7 (Self-Instruct). Prints both timings and the ratio.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tuneforge.filters.rouge_l import dedup  # noqa: E402
from tuneforge.pipeline._seeds import load_seed_tasks  # noqa: E402


def candidates(pool: list[str], n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    vocab = sorted({w for text in pool for w in text.split()})
    out = []
    for _ in range(n):
        words = rng.choice(pool).split()
        for _ in range(rng.randint(1, max(2, len(words) // 2))):
            op, i = rng.random(), rng.randrange(len(words))
            if op < 0.4:
                words[i] = rng.choice(vocab)
            elif op < 0.7 and len(words) > 3:
                del words[i]
            else:
                j = rng.randrange(len(words))
                words[i], words[j] = words[j], words[i]
        out.append(" ".join(words))
    return out


def reference(texts: list[str], pool: list[str], threshold: float) -> list[bool]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    kept, out = [], []
    for text in texts:
        ok = all(scorer.score(other, text)["rougeL"].fmeasure <= threshold for other in [*pool, *kept])
        out.append(ok)
        if ok:
            kept.append(text)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--threshold", type=float, default=0.7)
    args = parser.parse_args()
    pool = [s.instruction for s in load_seed_tasks()]
    texts = candidates(pool, args.n)
    dedup(texts[:10], args.threshold, pool)  # warm-up: imports
    start = time.perf_counter()
    ours = dedup(texts, args.threshold, pool)
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    ref = reference(texts, pool, args.threshold)
    t_ref = time.perf_counter() - start
    print(f"{len(texts)} instructions vs a pool of {len(pool)}, threshold {args.threshold}: "
          f"{sum(ref)} kept, {len(texts) - sum(ref)} dropped")
    print(f"rouge_score RougeScorer(['rougeL']): {t_ref:8.3f} s")
    print(f"tuneforge rouge_l.dedup:             {t_ours:8.3f} s")
    print(f"speed-up: {t_ref / t_ours:.1f}x   identical decisions: {ours == ref}")
    if ours != ref:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
