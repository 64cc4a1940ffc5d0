"""Self-Instruct with the local `hf` backend and SmolLM2-135M-Instruct as the teacher (quality aside):
instruction generation, classification and instance generation all run on the real model, and every
dropped candidate is recorded with the filter and reason that dropped it."""
from __future__ import annotations

import json

import pytest

from tests.real.conftest import requires_smollm2
from tuneforge.pipeline.base import Stalled

pytestmark = [pytest.mark.slow, requires_smollm2]


def test_self_instruct_round_with_smollm2_teacher(smollm2_dir, compose, tmp_path):
    from tuneforge.commands.generate import generate

    cfg = compose("generate", [
        "llm=hf", f"llm.model={smollm2_dir}", "llm.max_new_tokens=64", "llm.batch_size=4", "llm.threads=1",
        "pipeline.num_instructions=2", "pipeline.batch_size=4", "pipeline.num_in_context=4",
        "pipeline.num_machine_in_context=1", "pipeline.clf_yes=3", "pipeline.clf_no=3",
        "pipeline.max_instances=2", "pipeline.instruction_max_tokens=64", "pipeline.instance_max_tokens=64",
        "pipeline.max_stall_batches=2", f"run_dir={tmp_path}"])
    try:
        generate(cfg)
    except Stalled:  # a 135M teacher may never get a task through every filter: the reason is recorded
        pass
    stats = json.loads((tmp_path / "generate_stats.json").read_text())
    print(json.dumps(stats, indent=1))
    assert stats["model"] == str(smollm2_dir)
    assert stats["llm"]["requests"] > 0 and stats["llm"]["failures"] == 0
    assert all(stats["prompts"].get(s, 0) > 0 for s in ("instruction_generation", "classification",
                                                         "instance_generation")), stats["prompts"]
    rejects_file = tmp_path / "rejects.jsonl"
    rejects = [json.loads(line) for line in rejects_file.read_text().splitlines()] if rejects_file.exists() else []
    assert all(r["filter"] and r["reason"] for r in rejects)
    assert sum(stats["dropped"].values()) == len(rejects)
    out = tmp_path / "generated.jsonl"
    generated = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    assert len(generated) == stats["records"] == stats["kept"]
    assert (len(generated) == 2) == (stats["stopped"] is None)  # finished, or stopped with its reason
    for rec in generated:
        assert rec["instruction"] and rec["output"] and rec["lineage"]["model"] == str(smollm2_dir)
