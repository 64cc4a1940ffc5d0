"""Logger factories that make the offline defaults explicit.

Each fails late without them: W&B online without a login fails after about 8 s (so with no login and
no `WANDB_MODE` it runs offline); TensorBoardLogger without the `tensorboard` package fails at its first
write; MLflow's file store needs `MLFLOW_ALLOW_FILE_STORE=true` (sqlite costs ~8 s a start) and sends
telemetry unless `MLFLOW_DISABLE_TELEMETRY=true`.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from tuneforge.registry import config_factory

log = logging.getLogger("tuneforge.loggers")


@config_factory("logger")
def wandb_logger(save_dir: str, offline: bool | None = None, project: str = "tuneforge", **kwargs: Any) -> Any:
    """Weights & Biases as the user has set it up: `WANDB_MODE` when set, online after `wandb login` (or with
    WANDB_API_KEY), otherwise offline under `save_dir/wandb` (`wandb sync` uploads it); `offline=true|false`
    forces one."""
    from lightning.pytorch.loggers import WandbLogger

    if offline is None:
        offline = not os.environ.get("WANDB_MODE") and not wandb_logged_in()
        if offline:
            log.info("W&B: no WANDB_MODE and no login (wandb login or WANDB_API_KEY): logging offline to "
                     "%s/wandb; `wandb sync` uploads it", save_dir)
    os.environ.setdefault("WANDB_SILENT", "true")
    logger = WandbLogger(save_dir=save_dir, offline=offline, project=project, **kwargs)
    init = getattr(logger, "_wandb_init", {})
    if init.get("anonymous") is None:  # Lightning passes anonymous=None; wandb 0.31 warns at any value
        init.pop("anonymous", None)
    return logger


def wandb_logged_in() -> bool:
    """Whether W&B has credentials for its host, where `wandb login` puts them: WANDB_API_KEY (or an identity
    token file) or a .netrc entry (NETRC, else ~/.netrc). Read locally; nothing is sent."""
    import netrc
    from urllib.parse import urlparse

    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai").hostname
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    try:
        return os.path.isfile(path) and netrc.netrc(path).authenticators(host or "") is not None
    except (OSError, netrc.NetrcParseError):
        return False


@config_factory("logger")
def mlflow_logger(save_dir: str, experiment_name: str = "tuneforge", **kwargs: Any) -> Any:
    """MLflow with a local file store under `save_dir`, telemetry off."""
    try:
        from lightning.pytorch.loggers import MLFlowLogger
        import mlflow  # noqa: F401
    except ImportError:
        from tuneforge.errors import TuneforgeError

        raise TuneforgeError("logger=mlflow needs the mlflow package: pip install 'tuneforge[mlflow]'") from None
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    return MLFlowLogger(experiment_name=experiment_name, tracking_uri=f"file:{save_dir}/mlruns", **kwargs)


@config_factory("logger")
def tensorboard_logger(save_dir: str, **kwargs: Any) -> Any:
    """TensorBoard event files under `save_dir/tensorboard`."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        from tuneforge.errors import TuneforgeError

        raise TuneforgeError("logger=tensorboard needs the tensorboard package: "
                             "pip install 'tuneforge[tensorboard]'") from None
    from lightning.pytorch.loggers import TensorBoardLogger

    return TensorBoardLogger(save_dir=save_dir, name="tensorboard", version="", **kwargs)
