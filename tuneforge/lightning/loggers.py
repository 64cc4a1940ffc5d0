"""Logger factories that make the offline defaults explicit.

Each fails late without them: wandb without `WANDB_MODE=offline` and without a key fails after about
8 s; TensorBoardLogger without the `tensorboard` package fails at its first write; MLflow's file store
needs `MLFLOW_ALLOW_FILE_STORE=true` (sqlite costs ~8 s a start) and sends telemetry unless
`MLFLOW_DISABLE_TELEMETRY=true`.
"""
from __future__ import annotations

import os
from typing import Any

from tuneforge.registry import config_factory


@config_factory("logger")
def wandb_logger(save_dir: str, offline: bool = True, project: str = "tuneforge", **kwargs: Any) -> Any:
    """Weights & Biases; offline unless `offline=false` (online needs WANDB_API_KEY)."""
    from lightning.pytorch.loggers import WandbLogger

    if offline:
        os.environ["WANDB_MODE"] = "offline"
    os.environ.setdefault("WANDB_SILENT", "true")
    return WandbLogger(save_dir=save_dir, offline=offline, project=project, **kwargs)


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
