"""Run `generate` in-process against the local OpenAI-compatible test server."""
from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def run_generate(compose, tmp_path):
    from tuneforge.commands.generate import generate

    def run(server, overrides=(), run_dir: Path | None = None):
        run_dir = run_dir or tmp_path / "run"
        cfg = compose("generate", [f"llm.base_url={server.base_url}", "llm.model=scripted", "llm.backoff_base=0.01",
                                   "llm.timeout=5", f"run_dir={run_dir}", *overrides])
        stats = generate(cfg)
        read = lambda name: [json.loads(l) for l in (run_dir / name).read_text().splitlines()] \
            if (run_dir / name).exists() else []  # noqa: E731
        return stats, read("generated.jsonl"), read("rejects.jsonl")

    return run
