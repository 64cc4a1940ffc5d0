"""Hydra's record of a run without its secrets: `.hydra/config.yaml`, `hydra.yaml` and `overrides.yaml`,
written by tuneforge, redacted.

Hydra writes those three files in `run_job` before any callback or task sees the config (mode 0644), and a
sweep's `multirun.yaml` before its first job; conf/hydra/default.yaml sets `hydra.output_subdir: null` so
Hydra writes none of the three, and this callback writes redacted copies at each job's start and rewrites
`multirun.yaml` redacted. tuneforge's sweep summary reads the overrides from here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

SUBDIR = ".hydra"


def _yaml(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


class RunRecord(Callback):
    def on_job_start(self, config: Any, **kwargs: Any) -> None:
        from omegaconf import OmegaConf

        from tuneforge.artifacts import write_text

        out = Path(config.hydra.runtime.output_dir) / SUBDIR
        plain = _plain_redacted(config)
        hydra = plain.pop("hydra")
        write_text(out / "config.yaml", _yaml(plain))
        write_text(out / "hydra.yaml", _yaml({"hydra": hydra}))
        write_text(out / "overrides.yaml", _yaml(hydra["overrides"]["task"]))  # unresolved: ${oc.env:...} stays
        sweep_file = Path(str(config.hydra.sweep.dir)) / "multirun.yaml"
        if sweep_file.is_file():  # a sweep: Hydra wrote the sweep config before the first job
            write_text(sweep_file, _yaml(_plain_redacted(OmegaConf.load(sweep_file))))


def _plain_redacted(node: Any) -> Any:
    """`node` as plain containers, unresolved (Hydra's `${now:...}` and `${hydra:...}` stay as written), with
    secret-named keys and secret-shaped values redacted."""
    from omegaconf import OmegaConf

    from tuneforge.secrets import MARK, is_secret_key, redact_value

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str) and "${oc.env:" not in value and is_secret_key(key):
            return MARK
        return redact_value(value) if isinstance(value, str) else value

    return walk(OmegaConf.to_container(node, resolve=False, enum_to_str=True) if OmegaConf.is_config(node) else node)
