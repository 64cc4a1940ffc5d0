"""The `tuneforge` command: Hydra apps (train, preview) and fast tools (ls, validate, cp).

`ls`, `validate`, `cp` and `--help` never import torch, transformers or peft.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

HELP = """usage: tuneforge COMMAND [overrides ...]

Hydra apps (accept key=value overrides, -m/--multirun, --cfg job, --help, hydra.run.dir=...):
  train      fine-tune a model (no overrides: the quickstart on model=tiny)
  preview    render encoded examples with the trained tokens highlighted

Tools:
  ls [KIND|recipes]        list components (name, kind, provider, description) or recipes
  validate [overrides ...] check every selected component's config without building models
  cp NAME DEST             copy a recipe (NAME) or config (GROUP/OPTION) to DEST to edit
  nf4-table                the lecture's NF4 quantile formula next to bitsandbytes' code book

Examples:
  tuneforge train peft=lora peft.r=4 trainer.max_steps=200
  tuneforge train -m peft=full,lora optimizer.lr=1e-3,2e-3
  tuneforge train recipe=quickstart_lora
"""


def _hydra_task(command: str) -> Callable[[Any], Any]:
    def task(cfg: Any) -> Any:
        from .errors import TuneforgeError

        try:
            if command == "train":
                from .train import train

                return train(cfg)
            from .preview import preview

            return preview(cfg)
        except TuneforgeError as err:
            _fail(str(err))

    return task


def _fail(message: str, code: int = 2) -> None:
    print(f"tuneforge: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(HELP)
        return
    command, rest = argv[0], argv[1:]
    from .errors import TuneforgeError

    try:
        if command in ("train", "preview"):
            from .hydra_app import run_app

            run_app(command, _hydra_task(command), rest)
        elif command == "ls":
            from .commands import ls

            ls(rest[0] if rest else None)
        elif command == "validate":
            from .commands import validate

            validate(rest)
        elif command == "cp":
            from .commands import cp

            if len(rest) != 2:
                _fail("usage: tuneforge cp NAME DEST")
            cp(rest[0], rest[1])
        elif command == "nf4-table":
            from .nf4 import main as nf4_table

            nf4_table()
        else:
            _fail(f"unknown command {command!r}; commands: train, preview, ls, validate, cp "
                  "(see tuneforge --help)")
    except TuneforgeError as err:
        _fail(str(err))


if __name__ == "__main__":
    main()
