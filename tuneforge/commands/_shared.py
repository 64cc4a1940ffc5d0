"""What the commands that load a trained model share (eval, chat, export): tool commands' `key=value`
arguments, a training run's model builder / PEFT method / seed from its config.yaml, and its model rebuilt
exactly as training built it (the run's seed first). Heavy libraries are imported inside the functions."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneforge.errors import TuneforgeError


def parse(argv: list[str], keys: tuple[str, ...], command: str) -> dict[str, str]:
    """`key=value` arguments of a tool command; an unknown or malformed one is one error line."""
    args = {}
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in keys:
            raise TuneforgeError(f"{command}: unexpected argument {arg!r}; expected {', '.join(k + '=...' for k in keys)}")
        args[key] = value
    return args


def load_run(run_dir: Path) -> tuple[Any, Any, str, int]:
    """The model builder, PEFT method, method name and seed a run was trained with (its config.yaml, checked
    like `tuneforge eval run=DIR`)."""
    from tuneforge.binding import build
    from tuneforge.config.assemble import eval_sources

    if not Path(run_dir).is_dir():
        raise TuneforgeError(f"run={run_dir}: no such directory")
    sources = eval_sources({"run": str(run_dir), "seed": 42, "data": {}, "template": None}, [])
    builder = build("model", sources.model, "model")
    method = build("peft", sources.peft, "peft")
    return builder, method, str(sources.peft.get("name")), sources.seed


def build_seeded(builder: Any, seed: int, method: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer) built as training built them: seeded first, so a base built from config (model=tiny)
    gets the run's weights; quantised as `method` trains it (model/load.py), full precision without one."""
    import lightning.pytorch as pl

    from tuneforge.model.load import build_model

    pl.seed_everything(seed, verbose=False)
    return build_model(builder, method)


def load_trained(builder: Any, method: Any, source: Path | None, seed: int) -> tuple[Any, Any]:
    """(model, tokenizer): the base rebuilt, then `method`'s saved result in `source` (a run directory) loaded
    onto it; without a method, the PEFT adapter directory `source` (if any)."""
    model, tokenizer = build_seeded(builder, seed, method)
    if method is not None:
        return method.load(model, source), tokenizer
    if source is not None:
        from tuneforge.peft._hf import load_adapter

        return load_adapter(model, source), tokenizer
    return model, tokenizer


def load_run_model(run_dir: Path) -> Any:
    """The trained model of the run in `run_dir` (its base rebuilt, its adapter or model loaded)."""
    builder, method, _, seed = load_run(run_dir)
    return load_trained(builder, method, Path(run_dir), seed)[0]
