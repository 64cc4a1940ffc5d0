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

        from tuneforge.artifacts import redacted, write_text

        out = Path(config.hydra.runtime.output_dir) / SUBDIR
        plain = redacted(config, resolve=False)
        hydra = plain.pop("hydra")
        write_text(out / "config.yaml", _yaml(plain))
        write_text(out / "hydra.yaml", _yaml({"hydra": hydra}))
        write_text(out / "overrides.yaml", _yaml(hydra["overrides"]["task"]))  # unresolved: ${oc.env:...} stays
        sweep_file = Path(str(config.hydra.sweep.dir)) / "multirun.yaml"
        if sweep_file.is_file():  # a sweep: Hydra wrote the sweep config before the first job
            write_text(sweep_file, _yaml(redacted(OmegaConf.load(sweep_file), resolve=False)))
