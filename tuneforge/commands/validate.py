"""`tuneforge validate [train|preview|eval|generate] [overrides ...]`: compose that command's config (train
when no command is named) and check all of it (every component, every stage, every setting) exactly as the
command would, without building models. Prints `config OK` or every problem with its config path."""
from __future__ import annotations

from tuneforge.config.assemble import COMMANDS, assemble
from tuneforge.errors import TuneforgeError


def validate(overrides: list[str], command: str = "train") -> None:
    """Compose `command`'s config with `overrides` and assemble it; print OK or raise."""
    from hydra.errors import HydraException

    from tuneforge.config.app import check_group_overrides, compose, with_run_dir

    check_group_overrides(overrides)
    try:
        cfg = compose(command, overrides, return_hydra_config=False)
    except (HydraException, ValueError, TypeError) as err:  # Hydra's raw errors for some bad overrides
        raise TuneforgeError(str(err)) from None
    parts = assemble(command, with_run_dir(cfg), overrides)
    named = vars(parts) | ({"data": parts.stage.data} if hasattr(parts, "stage") else {})
    shown = [f"{k}={type(v).__name__}" for k, v in named.items()
             if k in ("model", "peft", "data", "llm", "pipeline") and v is not None]
    stages = getattr(parts, "stages", [])
    if stages:
        shown.append(f"{len(stages)} stage(s)")
    print(f"config OK ({command}): {', '.join(shown)}")


def main(argv: list[str]) -> None:
    command = argv[0] if argv and argv[0] in COMMANDS else "train"
    validate(argv[1:] if argv and argv[0] in COMMANDS else argv, command)
