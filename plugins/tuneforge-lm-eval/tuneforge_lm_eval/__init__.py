"""lm-evaluation-harness as a tuneforge metric: `tuneforge eval run=DIR metrics=[lm_eval]
metrics.lm_eval.tasks=[...] metrics.lm_eval.include_path=DIR`.

The model under evaluation (a run's model or adapter, or any model config) is handed to the harness
in memory; tasks may be the harness's own or defined by local YAML + JSONL files (offline).
"""
from .metric import LMEvalHarness  # noqa: F401 (registers the component)

CONFIG_DIR = "pkg://tuneforge_lm_eval.conf"
