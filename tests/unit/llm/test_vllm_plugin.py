"""The vllm plugin package imports and registers `llm=vllm` without vLLM installed (vLLM is imported
only when it generates), and its config binds to the backend's signature."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[3] / "plugins" / "tuneforge-vllm"


def test_plugin_registers_vllm_and_its_config_binds():
    code = """
import sys, yaml
import tuneforge_vllm
from tuneforge import binding
cfg = yaml.safe_load(open(sys.argv[1]))
cfg["model"] = "/models/x"
b = binding.bind("llm", cfg, "llm")
assert b.entry.name == "vllm" and "vllm" not in sys.modules, sys.modules.get("vllm")
print(tuneforge_vllm.CONFIG_DIR, sorted(b.kwargs))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGIN), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code, str(PLUGIN / "tuneforge_vllm/conf/llm/vllm.yaml")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("pkg://tuneforge_vllm.conf") and "tensor_parallel_size" in done.stdout
    toml = (PLUGIN / "pyproject.toml").read_text()
    assert '[project.entry-points."tuneforge.plugins"]' in toml and 'vllm = "tuneforge_vllm"' in toml
