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
  generate   synthetic instruction data: pipeline=self_instruct|evol_instruct llm=openai|hf
  eval       generate on a split and score it (run=RUN_DIR, or model=... adapter=...)

Tools:
  ls [KIND|recipes]        list components (name, kind, provider, description) or recipes
  validate [overrides ...] check every selected component's config without building models
  cp NAME DEST             copy a recipe (NAME) or config (GROUP/OPTION) to DEST to edit
  compare RUN_DIR... [--out=DIR]  table (md, csv) and PNG charts of runs or a sweep directory
  nf4-table                the lecture's NF4 quantile formula next to bitsandbytes' code book
  estimate-memory [overrides ...]  training memory: the lecture's table + activations

Examples:
  tuneforge train peft=lora peft.r=4 trainer.max_steps=200
  tuneforge train -m peft=full,lora optimizer.lr=1e-3,2e-3
  tuneforge train recipe=instructgpt_style data=alpaca data.path=train.jsonl
"""


#: Hydra apps: command -> "module:function" run on the composed `conf/<command>.yaml`.
HYDRA_APPS = {
    "train": "tuneforge.commands.train:train",
    "preview": "tuneforge.commands.preview:preview",
    "generate": "tuneforge.commands.generate:generate",
    "eval": "tuneforge.commands.eval:run_eval",
}


def _hydra_task(command: str) -> Callable[[Any], Any]:
    def task(cfg: Any) -> Any:
        import importlib

        from tuneforge.errors import TuneforgeError

        module, function = HYDRA_APPS[command].split(":")
        try:
            result = getattr(importlib.import_module(module), function)(cfg)
            return optimized_value(result, cfg.get("optimized_metric")) if command == "train" else result
        except TuneforgeError as err:
            _fail(str(err))

    return task


def optimized_value(metrics: dict[str, Any], name: str | None) -> Any:
    """With `optimized_metric` set (e.g. by conf/hparams_search/*), the job returns that metric as a
    float, what a sweeper such as Optuna optimises; otherwise the metrics dict."""
    if not name:
        return metrics
    from tuneforge.errors import TuneforgeError

    value = metrics.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        numeric = sorted(k for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
        raise TuneforgeError(f"optimized_metric {name!r} is not a number in metrics.json (got {value!r}); "
                             f"numeric metrics: {', '.join(numeric)}")
    return float(value)


def _fail(message: str, code: int = 2) -> None:
    print(f"tuneforge: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(HELP)
        return
    command, rest = argv[0], argv[1:]
    from tuneforge.errors import TuneforgeError

    try:
        if command in HYDRA_APPS:
            from tuneforge.config.app import run_app

            run_app(command, _hydra_task(command), rest)
        elif command == "ls":
            from tuneforge.commands.tools import ls

            ls(rest[0] if rest else None)
        elif command == "validate":
            from tuneforge.commands.tools import validate

            validate(rest)
        elif command == "compare":
            from tuneforge.reports.compare import compare

            args = [a for a in rest if not a.startswith("--out=")]
            outs = [a.split("=", 1)[1] for a in rest if a.startswith("--out=")]
            if not args:
                _fail("usage: tuneforge compare RUN_DIR... [--out=DIR]")
            compare(args, outs[-1] if outs else None)
        elif command == "cp":
            from tuneforge.commands.tools import cp

            if len(rest) != 2:
                _fail("usage: tuneforge cp NAME DEST")
            cp(rest[0], rest[1])
        elif command == "nf4-table":
            from tuneforge.analysis.nf4 import main as nf4_table

            nf4_table()
        elif command == "estimate-memory":
            from tuneforge.analysis.memory import main as estimate_memory

            estimate_memory(rest)
        else:
            _fail(f"unknown command {command!r}; commands: train, preview, ls, validate, cp "
                  "(see tuneforge --help)")
    except TuneforgeError as err:
        _fail(str(err))


if __name__ == "__main__":
    main()
