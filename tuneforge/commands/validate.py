"""`tuneforge validate [train|preview|eval|generate] [--config-dir DIR] [overrides ...]`: compose that command's
config (train when no command is named) and check all of it (every component, every stage, every setting)
exactly as the command would, without building models. Prints `config OK` or every problem with its config path.
`--config-dir DIR` adds a user config directory, as for the command itself (DIR/peft/my_lora.yaml: peft=my_lora)."""
from __future__ import annotations

from tuneforge.config.assemble import COMMANDS, assemble
from tuneforge.errors import TuneforgeError


def validate(argv: list[str], command: str = "train") -> None:
    """Compose `command`'s config with the overrides of `argv` and assemble it; print OK or raise."""
    from hydra.errors import HydraException

    from tuneforge.config.app import (check_group_overrides, compose, config_dirs, extra_config_dirs,
                                      friendly_compose_error, split_argv, with_run_dir)

    flags, overrides = split_argv(argv)
    dirs = config_dirs(flags)
    others = _other_flags(flags)
    if others:
        raise TuneforgeError(f"validate takes --config-dir DIR and overrides, not {' '.join(others)}")
    with extra_config_dirs(dirs):
        check_group_overrides(overrides)
        try:
            cfg = compose(command, overrides, return_hydra_config=False)
        except (HydraException, ValueError, TypeError) as err:  # Hydra's raw errors for some bad overrides
            raise TuneforgeError(friendly_compose_error(err) or str(err)) from None
    parts = assemble(command, with_run_dir(cfg), overrides)
    named = vars(parts) | ({"data": parts.stage.data} if hasattr(parts, "stage") else {})
    shown = [f"{k}={type(v).__name__}" for k, v in named.items()
             if k in ("model", "peft", "data", "llm", "pipeline") and v is not None]
    stages = getattr(parts, "stages", [])
    if stages:
        shown.append(f"{len(stages)} stage(s)")
    print(f"config OK ({command}): {', '.join(shown)}")


def _other_flags(flags: list[str]) -> list[str]:
    """Hydra's flags other than `--config-dir DIR` (which validate does not take)."""
    others, i = [], 0
    while i < len(flags):
        if flags[i] in ("--config-dir", "-cd"):
            i += 1
        elif not flags[i].startswith(("--config-dir=", "-cd=")):
            others.append(flags[i])
        i += 1
    return others


def main(argv: list[str]) -> None:
    command = argv[0] if argv and argv[0] in COMMANDS else "train"
    validate(argv[1:] if argv and argv[0] in COMMANDS else argv, command)
