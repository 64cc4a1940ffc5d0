"""The `tuneforge` command: one table of commands drives the help, the dispatch and the errors.

Hydra apps (train, preview, generate, eval) run a function of tuneforge/commands/<name>.py on the composed
`conf/<name>.yaml`; tools run that module's `main(argv)`. `--help`, `ls`, `validate` and `cp` never import
torch, transformers, peft or lightning.
"""
from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Command:
    name: str
    target: str  # "module:function" in tuneforge.commands
    usage: str  # what follows the command's name
    summary: str
    hydra: bool = False  # a Hydra app over conf/<name>.yaml: key=value overrides, -m, --cfg job, --help

    @property
    def module(self) -> str:
        return "tuneforge.commands." + self.target.split(":")[0]


COMMANDS = (
    Command("train", "train:main", "[overrides ...]", "fine-tune a model (no overrides: the quickstart on model=tiny)",
            hydra=True),
    Command("preview", "preview:preview", "[overrides ...]",
            "show encoded examples with their trained tokens highlighted", hydra=True),
    Command("generate", "generate:generate", "[overrides ...]",
            "synthetic instruction data: pipeline=self_instruct|evol_instruct llm=openai|hf", hydra=True),
    Command("eval", "eval:run_eval", "run=RUN_DIR | model=... [adapter=DIR] [overrides ...]",
            "generate on a split and score it with metrics=[...]", hydra=True),
    Command("export", "export:main", "run=RUN_DIR [out=PATH] [gguf=true]",
            "merge a run's adapter into a model plain transformers loads (tokenizer, template, card)"),
    Command("chat", "chat:main", "run=RUN_DIR | model=MODEL_DIR [prompt=TEXT]",
            "talk to a trained model through its saved template (prompt=...: print one reply)"),
    Command("validate", "validate:main", "[train|preview|eval|generate] [--config-dir DIR] [overrides ...]",
            "check a command's whole config (components, stages, settings) without building models"),
    Command("ls", "ls:main", "[KIND|GROUP|recipes]", "list components and config options (name, kind, provider, description) or recipes"),
    Command("cp", "cp:main", "NAME DEST", "copy a recipe (NAME) or a config (GROUP/OPTION) to DEST to edit"),
    Command("compare", "compare:main", "RUN_DIR... [--out=DIR]", "what differs between runs (or a sweep's jobs), their metrics and loss curves"),
    Command("estimate-memory", "estimate_memory:main", "[train overrides ...]",
            "training memory of a config: weights, gradients, optimizer states, activations"),
    Command("nf4-table", "nf4_table:main", "", "the NF4 quantile formula next to bitsandbytes' code book"),
)
BY_NAME = {c.name: c for c in COMMANDS}
#: Commands that write a run directory hold its lock while they run (one process per run directory).
LOCKING = ("train", "generate", "eval")
EXAMPLES = """Examples:
  tuneforge train peft=lora peft.r=4 trainer.max_steps=200
  tuneforge train -m peft=full,lora optimizer.lr=1e-3,2e-3
  tuneforge train recipe=instructgpt_style data=alpaca data.path=train.jsonl
  tuneforge validate generate pipeline=evol_instruct llm=hf
"""


def help_text() -> str:
    width = max(len(c.name) for c in COMMANDS)
    apps = [f"  {c.name:<{width}}  {c.summary}" for c in COMMANDS if c.hydra]
    tools = [f"  {c.name:<{width}}  {c.summary}" for c in COMMANDS if not c.hydra]
    return ("usage: tuneforge COMMAND [arguments ...]   (tuneforge COMMAND --help for one command)\n\n"
            "Hydra apps (key=value overrides, -m/--multirun, --cfg job, --help, hydra.run.dir=...):\n"
            + "\n".join(apps) + "\n\nTools:\n" + "\n".join(tools) + "\n\n" + EXAMPLES)


def command_help(command: Command) -> str:
    import importlib

    doc = (importlib.import_module(command.module).__doc__ or "").strip()
    return f"usage: tuneforge {command.name} {command.usage}\n\n{command.summary}\n\n{doc}\n"


def _function(command: Command) -> Callable[..., Any]:
    import importlib

    module, function = command.target.split(":")
    return getattr(importlib.import_module(f"tuneforge.commands.{module}"), function)


def _hydra_task(command: Command) -> Callable[[Any], Any]:
    def task(cfg: Any) -> Any:
        from tuneforge.artifacts import RunLock
        from tuneforge.errors import TuneforgeError

        try:
            if command.name not in LOCKING:
                return _function(command)(cfg)
            with RunLock(cfg.run_dir, command.name):
                return _function(command)(cfg)
        except TuneforgeError as err:
            _fail(str(err))

    return task


def _fail(message: str, code: int = 2) -> None:
    print(f"tuneforge: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(help_text())
        return
    name, rest = argv[0], argv[1:]
    command = BY_NAME.get(name)
    if command is None:
        close = difflib.get_close_matches(name, BY_NAME, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        _fail(f"unknown command {name!r}.{hint} Commands: {', '.join(BY_NAME)} (tuneforge --help)")
    from tuneforge.errors import TuneforgeError
    from tuneforge.quiet import quiet

    quiet()  # known third-party noise off before any heavy import (tuneforge/quiet.py)
    try:
        if command.hydra:
            from tuneforge.config.app import run_app

            run_app(command.name, _hydra_task(command), rest)
        elif any(a in ("-h", "--help") for a in rest):
            print(command_help(command))
        else:
            _function(command)(rest)
    except TuneforgeError as err:
        _fail(str(err))


if __name__ == "__main__":
    main()
