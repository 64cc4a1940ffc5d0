"""The `lm_eval` metric: runs harness tasks on the model through lm_eval's Python API."""
from __future__ import annotations

from typing import Any

from tuneforge import register


@register("metric", "lm_eval")
class LMEvalHarness:
    """lm-evaluation-harness tasks on the evaluated model; one value per task and metric
    (`lm_eval/<task>/<metric>`). Local tasks: YAML files under `include_path` (with
    `include_defaults=false`, only those are indexed, which is fast and offline)."""

    needs_generation = False

    def __init__(self, tasks: list[str], include_path: str | None = None, include_defaults: bool = False,
                 limit: int | None = None, num_fewshot: int | None = None, batch_size: int = 8,
                 max_length: int | None = None):
        self.tasks, self.include_path, self.include_defaults = list(tasks), include_path, include_defaults
        self.limit, self.num_fewshot, self.batch_size, self.max_length = limit, num_fewshot, batch_size, max_length

    def compute(self, inputs: Any) -> dict[str, float]:
        from lm_eval import simple_evaluate
        from lm_eval.models.huggingface import HFLM
        from lm_eval.tasks import TaskManager

        device = str(next(inputs.model.parameters()).device)
        lm = HFLM(pretrained=inputs.model, tokenizer=inputs.tokenizer, batch_size=self.batch_size,
                  device=device, max_length=self.max_length)
        manager = TaskManager(include_path=self.include_path, include_defaults=self.include_defaults)
        out = simple_evaluate(model=lm, tasks=self.tasks, task_manager=manager, limit=self.limit,
                              num_fewshot=self.num_fewshot, log_samples=False)
        scores = {}
        for task, results in out["results"].items():
            for key, value in results.items():
                name, _, _filter = key.partition(",")
                if isinstance(value, (int, float)) and not isinstance(value, bool) and "stderr" not in name:
                    scores[f"{task}/{name}"] = float(value)
        return scores
