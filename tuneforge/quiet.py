"""Known third-party noise, silenced at its source; every other warning and log line is kept.

`quiet()` is called when a command starts (before torch, transformers, peft or lightning are imported)
and again once Lightning is imported. It installs warning filters and logging filters that match one
message each (never a whole category or library), so a new or real warning still shows. It imports
nothing heavy, and calling it twice changes nothing.
"""
from __future__ import annotations

import logging
import re
import warnings

#: (category, message regex): deprecations inside the libraries, which a user can do nothing about.
WARNINGS = (
    # transformers 5 renamed it; peft still calls the old name.
    (FutureWarning, r"`is_gradient_checkpointing` is deprecated"),
    # torchdata's StatefulDataLoader calls torch.set_vital, deprecated in torch 2.13.
    (UserWarning, r"'set_vital' is deprecated"),
    # Lightning's _pytree builds a torch LeafSpec, deprecated in torch 2.13.
    (FutureWarning, r"`isinstance\(treespec, LeafSpec\)` is deprecated"),
)

#: logger name -> message regexes dropped from that logger (adverts and notes on defaults we set on purpose).
LOG_MESSAGES = {
    "lightning.pytorch.utilities.rank_zero": (r"💡 Tip: ",),  # litlogger / litmodels adverts
    "lightning.fabric.utilities.rank_zero": (r"💡 Tip: ",),
    # tuneforge's checkpoints hold optimizer and loader state on purpose (exact resume).
    "lightning.pytorch.trainer.connectors.checkpoint_connector": (r"`weights_only` was not set",),
}

#: loggers that only report harmless hints below ERROR: bitsandbytes' "Failed to load CPU gemm_4bit_forward
#: from kernels-community ... pip install kernels" (the CPU path works without it; `kernels` would fetch
#: from a hub).
QUIET_LOGGERS = ("bitsandbytes",)


class DropMessages(logging.Filter):
    """A logging filter that drops records whose message matches one of `patterns`."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        super().__init__()
        self.pattern = re.compile("|".join(f"(?:{p})" for p in patterns))

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.pattern.search(record.getMessage())


def quiet() -> None:
    """Install the filters (once each) and give Lightning's log lines to the app's handlers."""
    for category, message in WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)  # filterwarnings dedupes
    for name, patterns in LOG_MESSAGES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropMessages) for f in logger.filters):
            logger.addFilter(DropMessages(patterns))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    one_lightning_stream()


def one_lightning_stream() -> None:
    """`import lightning` adds its own stderr handler ("INFO: ...") to the `lightning` logger, which also
    propagates to the root logger: under Hydra every Lightning line came twice (stdout and stderr). When the
    root logger has handlers (Hydra's console and <run_dir>/<command>.log), Lightning's own are removed and
    its records propagate there, once. Without root handlers (plain Python), Lightning keeps its own."""
    import sys

    if "lightning" not in sys.modules or not logging.getLogger().handlers:
        return
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if type(handler) is logging.StreamHandler:  # Lightning's console handlers, nothing else
                logger.removeHandler(handler)
        logger.propagate = True
