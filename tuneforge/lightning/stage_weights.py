"""A finished stage of a multi-stage run: its trainable weights and `done.json` under
`<run_dir>/stages/<i>/`, so that a rerun in the same run directory skips it (loading its weights) and continues
with the first unfinished stage."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def save_stage(model: Any, stage_dir: Path, metrics: dict[str, Any], settings: dict[str, Any] | None = None) -> None:
    """Trainable weights, then `done.json` with the stage's metrics and settings (written last: its presence
    means the stage finished)."""
    import os

    import torch

    from tuneforge.artifacts import write_json
    from tuneforge.artifacts import is_main_process

    if not is_main_process():
        return
    stage_dir.mkdir(parents=True, exist_ok=True)
    weights = {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad}
    tmp = stage_dir / ".weights.pt.tmp"
    with open(tmp, "wb") as f:
        torch.save(weights, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, stage_dir / "weights.pt")
    write_json(stage_dir / "done.json", {"metrics": metrics, "settings": settings})


def load_stage(model: Any, stage_dir: Path) -> dict[str, Any]:
    import torch

    weights = torch.load(stage_dir / "weights.pt", map_location="cpu", weights_only=True)
    missing = [n for n, p in model.named_parameters() if p.requires_grad and n not in weights]
    if missing:
        from tuneforge.errors import TuneforgeError

        raise TuneforgeError(f"{stage_dir}/weights.pt lacks {len(missing)} trainable tensor(s) "
                             f"(e.g. {missing[0]}): was the run's model or peft config changed?")
    model.load_state_dict(weights, strict=False)
    return json.loads((stage_dir / "done.json").read_text())["metrics"]
