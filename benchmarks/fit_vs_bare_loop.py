"""Our fit against a bare PyTorch loop over the same batches, model and loss: the loop's overhead.

    .venv/bin/python benchmarks/fit_vs_bare_loop.py [--models tiny,smollm2] [--reps 3]
        [--steps-tiny 200] [--steps-smollm2 6] [--threads auto]

Both sides get the same composed `tuneforge train` config (`model=tiny`: the quickstart; `smollm2`:
SmolLM2-135M-Instruct with `peft=lora`), the same prepared data, the same model weights (seed), the same
batches (the loader `fit` builds, same seed) and the same loss (`SFTModule.loss`: the fused LM-head loss),
AdamW with the config's settings, its scheduler, gradient clipping 1.0, the same torch threads.
  fit   tuneforge.lightning.fit.fit(): Trainer, callbacks (progress bar, loss history, run statistics,
        learning rate and gradient norm, RNG state, loader position), CSV logger, validation every
        trainer.val_check_interval, checkpoints every checkpoint.every_n_steps and at the end
  bare  for batch in loader: loss(batch).backward(); clip; step; scheduler; zero_grad; and the same work the
        fit's config asks for: the validation loss over the validation loader every trainer.val_check_interval
        steps (no grad) and a checkpoint (trainable weights + optimizer state, torch.save) every
        checkpoint.every_n_steps and at the end; nothing else
  With `--training-only` both sides skip validation and checkpoints (the fit: trainer.limit_val_batches=0,
  checkpoint.enabled=false): the per-step cost alone.
Figure: seconds from the call (fit() / the loop) to its end, model and data built before; each run is a
fresh process, runs interleaved (bare, fit, bare, fit, ...); medians. Ratio = bare s / fit s (fit's speed
as a share of the bare loop's; >= 0.95 is the target). CPU seconds are shown too: the machine may be shared.
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
TRAINING_ONLY = "--training-only" in sys.argv
OVERRIDES = {"tiny": [], "smollm2": ["model=smollm2_135m", "peft=lora", "data.num_train=256", "data.batch_size=8"]}


def setup(model_name: str, steps: int, run_dir: Path) -> tuple:
    """(parts, stage, model, tokenizer, template, data) exactly as `tuneforge train` builds them."""
    from tuneforge.config.app import compose
    from tuneforge.config.assemble import assemble
    from tuneforge.model.load import build_model
    from tuneforge.render.prepare import prepare_data

    interval = min(steps, 100)
    quiet = ["+trainer.limit_val_batches=0", "checkpoint.enabled=false"] if TRAINING_ONLY else []
    cfg = compose("train", [*OVERRIDES[model_name], f"trainer.max_steps={steps}",
                            f"trainer.val_check_interval={interval}", f"run_dir={run_dir}", *quiet])
    parts = assemble("train", cfg)
    import lightning.pytorch as pl

    pl.seed_everything(parts.fit.seed, workers=True, verbose=False)
    model, tokenizer = build_model(parts.model, parts.peft)
    model = parts.peft.apply(model, tokenizer)
    stage = parts.stages[0]
    template = stage.build_template(tokenizer)
    data = prepare_data(stage.data, tokenizer, template, stage.loss_mask, stage.settings, run_dir)
    return parts, stage, model, tokenizer, template, data


def run_bare(parts, stage, model, tokenizer, data, steps: int, run_dir: Path) -> None:  # noqa: ANN001
    import torch
    from hydra.utils import instantiate

    from tuneforge.lightning.loaders import make_loader
    from tuneforge.lightning.module import SFTModule, parameter_groups
    from tuneforge.scheduler.base import lambda_lr

    module = SFTModule(model, instantiate(parts.fit.optimizer, _partial_=True), stage.scheduler)
    optimizer = module.make_optimizer(parameter_groups(model, float(parts.fit.optimizer.get("weight_decay", 0.0))))
    scheduler = lambda_lr(optimizer, stage.scheduler, steps)
    loader = make_loader(data.encoded["train"], stage.settings, tokenizer.pad_token_id, train=True,
                         seed=parts.fit.seed)
    val_loader = make_loader(data.encoded["val"], stage.settings, tokenizer.pad_token_id, train=False,
                             seed=parts.fit.seed) if data.encoded["val"] else None
    val_every = int(parts.fit.trainer.get("val_check_interval") or 0) if val_loader and not TRAINING_ONLY else 0
    ckpt_every = parts.fit.checkpoint_every_n_steps if parts.fit.checkpoint else 0
    params = [p for p in model.parameters() if p.requires_grad]
    model.train()
    done = 0
    while done < steps:
        for batch in loader:
            module.loss(batch).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            done += 1
            if val_every and done % val_every == 0:
                model.eval()
                with torch.no_grad():
                    for val_batch in val_loader:
                        module.loss(val_batch)
                model.train()
            if ckpt_every and (done % ckpt_every == 0 or done == steps):
                torch.save({"state_dict": module.state_dict(), "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict()}, run_dir / "bare.ckpt")
            if done == steps:
                break


def run_fit(parts, stage, model, tokenizer, template, data, run_dir: Path) -> None:  # noqa: ANN001
    from tuneforge.lightning.callbacks import LossHistory
    from tuneforge.lightning.fit import fit

    fit(stage, model, tokenizer, template, data, parts.peft.callbacks(), parts.fit, LossHistory(),
        stage_dir=run_dir)


def child(side: str, model_name: str, steps: int, threads: str) -> dict:
    from tuneforge.threads import use_threads

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        parts, stage, model, tokenizer, template, data = setup(model_name, steps, run_dir)
        n_threads = use_threads(threads if threads == "auto" else int(threads))
        start, cpu = time.perf_counter(), time.process_time()
        if side == "bare":
            run_bare(parts, stage, model, tokenizer, data, steps, run_dir)
        else:
            run_fit(parts, stage, model, tokenizer, template, data, run_dir)
        return {"s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu, "threads": n_threads}


def measure(side: str, model_name: str, steps: int, threads: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", side, "--models", model_name,
                          "--steps", str(steps), "--threads", threads, *(["--training-only"] if TRAINING_ONLY else [])],
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if out.returncode != 0:
        raise SystemExit(f"{side} {model_name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="tiny,smollm2")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--steps-tiny", type=int, default=200)
    parser.add_argument("--steps-smollm2", type=int, default=6)
    parser.add_argument("--threads", default="auto", help="auto (as `tuneforge train`) or a number, both sides")
    parser.add_argument("--training-only", action="store_true", help="no validation, no checkpoints (both sides)")
    parser.add_argument("--child", choices=("bare", "fit"))
    parser.add_argument("--steps", type=int)
    args = parser.parse_args()
    if args.child:
        from tuneforge.threads import set_openmp_waiting

        set_openmp_waiting()  # as `tuneforge train` (before torch loads)
        print(json.dumps(child(args.child, args.models, args.steps, args.threads)))
        return
    print(f"{'model':8} {'steps':>5} {'threads':>7} {'bare s':>8} {'fit s':>8} {'bare cpu':>9} {'fit cpu':>8} "
          f"{'ratio':>6} {'cpu ratio':>9}")
    for name in args.models.split(","):
        steps = getattr(args, f"steps_{name}")
        runs: dict[str, list[dict]] = {"bare": [], "fit": []}
        for _ in range(args.reps):
            for side in ("bare", "fit"):
                runs[side].append(measure(side, name, steps, args.threads))
        med = {side: {k: statistics.median(r[k] for r in rs) for k in ("s", "cpu_s")} for side, rs in runs.items()}
        print(f"{name:8} {steps:5d} {runs['fit'][0]['threads']:7d} {med['bare']['s']:8.2f} {med['fit']['s']:8.2f} "
              f"{med['bare']['cpu_s']:9.2f} {med['fit']['cpu_s']:8.2f} {med['bare']['s'] / med['fit']['s']:5.3f}x "
              f"{med['bare']['cpu_s'] / med['fit']['cpu_s']:8.3f}x", flush=True)
        print("  runs (s): bare " + " ".join(f"{r['s']:.2f}" for r in runs["bare"])
              + " | fit " + " ".join(f"{r['s']:.2f}" for r in runs["fit"]), flush=True)


if __name__ == "__main__":
    main()
