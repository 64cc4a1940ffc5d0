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

from tuneforge.commands._shared import build_seeded, load_run, parse
from tuneforge.errors import TuneforgeError

KEYS = ("run", "out", "gguf")


def run_tokenizer(run_dir: Path) -> Any:
    """The tokenizer the run saved (its chat template is the training template)."""
    from transformers import AutoTokenizer

    from tuneforge.peft._export import saved_dir

    return AutoTokenizer.from_pretrained(saved_dir(run_dir))


def export(run_dir: Path, out: Path | None = None, gguf: bool = False) -> Any:
    """Export `run_dir` to `out` (default run_dir/export); returns the Exported record."""
    from tuneforge.artifacts import write_text
    from tuneforge.peft._export import export_run
    from tuneforge.reports.model_card import library_of, model_card

    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / "export"
    builder, method, name, seed = load_run(run_dir)
    tokenizer = run_tokenizer(run_dir)
    # the base in full precision, seeded as in training (export_run quantises it as the method did)
    exported = export_run(run_dir, out, lambda: build_seeded(builder, seed)[0], method, name, tokenizer)
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
