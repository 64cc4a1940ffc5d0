"""`tuneforge export run=DIR [out=PATH] [gguf=true]`: the trained run as one directory that plain
transformers (`AutoModelForCausalLM`, `transformers serve`, vLLM) loads as it is.

lora, dora, qlora (onto its dequantised base), adalora and ia3 are merged into the base; full and freeze runs
export their complete model; prefix / prompt / P-tuning stay a PEFT adapter and tuneforge's own `adapter` and
`ptuning_free` formats stay as they are (one line says so). The directory carries the tokenizer with the
training template as its chat template, generation_config.json (eos = the template's end of reply) and a
README.md model card from the run. `out` defaults to DIR/export. `gguf=true` also writes DIR/export/model.gguf
for llama.cpp / Ollama (docs/export.md).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneforge.errors import TuneforgeError

KEYS = ("run", "out", "gguf")


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


def run_tokenizer(run_dir: Path) -> Any:
    """The tokenizer the run saved (its chat template is the training template)."""
    from transformers import AutoTokenizer

    from tuneforge.peft._export import saved_dir

    return AutoTokenizer.from_pretrained(saved_dir(run_dir))


def export(run_dir: Path, out: Path | None = None, gguf: bool = False) -> Any:
    """Export `run_dir` to `out` (default run_dir/export); returns the Exported record."""
    import lightning.pytorch as pl

    from tuneforge.artifacts import write_text
    from tuneforge.peft._export import export_run
    from tuneforge.reports.model_card import library_of, model_card

    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / "export"
    builder, method, name, seed = load_run(run_dir)
    tokenizer = run_tokenizer(run_dir)

    def build_base() -> Any:
        pl.seed_everything(seed, verbose=False)  # a base built from config is rebuilt exactly as in training
        return builder.build()[0]

    exported = export_run(run_dir, out, build_base, method, name, tokenizer)
    write_text(out / "README.md", model_card(run_dir, library=library_of(out), note=exported.message))
    if gguf:
        if exported.model is None:
            raise TuneforgeError(f"gguf=true needs a merged or full model; {exported.message}")
        from tuneforge.peft._gguf import write_gguf

        write_gguf(exported.model, tokenizer, out / "model.gguf")
    return exported


def main(argv: list[str]) -> None:
    args = parse(argv, KEYS, "export")
    if "run" not in args:
        raise TuneforgeError("usage: tuneforge export run=RUN_DIR [out=PATH] [gguf=true]")
    exported = export(Path(args["run"]), args.get("out"), args.get("gguf", "false").lower() in ("1", "true", "yes"))
    print(exported.message)
