"""Self-Instruct end to end over HTTP: every stage, the filters, lineage, resume and bounds."""
from __future__ import annotations

import re

import pytest

from tests.servers.openai_server import OpenAITestServer
from tests.servers.scripts import SyntheticLLM
from tuneforge.pipeline.base import Stalled


def test_self_instruct_end_to_end(run_generate):
    with OpenAITestServer(reply=SyntheticLLM(seed=1)) as server:
        stats, records, rejects = run_generate(server, ["pipeline.num_instructions=12", "pipeline.batch_size=4"])
        prompts = [r["prompt_text"] for r in server.requests]
    assert len(records) == 12 and stats["records"] == 12
    assert len({r["id"] for r in records}) == 12 and len({r["instruction"] for r in records}) == 12
    for rec in records:  # alpaca format + lineage
        assert {"instruction", "input", "output", "instances", "is_classification", "lineage"} <= rec.keys()
        lin = rec["lineage"]
        assert lin["pipeline"] == "self_instruct" and lin["model"] == "scripted" and len(lin["in_context"]) == 8
        assert re.fullmatch(r"[0-9a-f]{16}", lin["prompt_sha256"])
        assert lin["instance_order"] == ("output_first" if rec["is_classification"] else "input_first")
    # later prompts hold 2 machine-generated instructions among their 8
    late = [r["lineage"]["in_context"] for r in records if r["lineage"]["round"] >= 2]
    assert late and all(sum(i.startswith("si-") for i in ids) == 2 for ids in late)
    # classification tasks got output-first instance prompts, the others input-first
    clf = [r for r in records if r["is_classification"]]
    assert clf and all(r["output"] in ("Positive", "Negative") for r in clf)
    inst_prompts = [p for p in prompts if p.startswith(("Given the classification", "Come up with examples"))]
    for p in inst_prompts:
        task = p.rsplit("Task:", 1)[1]
        assert p.startswith("Given the classification") == ("Classify" in task)
    # every drop has a filter and a reason; the scripted LLM makes keywords, length and conflicts fire
    assert rejects and all(r["filter"] and r["reason"] for r in rejects)
    assert {"keywords", "length", "conflicting_outputs"} <= {r["filter"] for r in rejects}
    assert stats["dropped"] == {f: sum(r["filter"] == f for r in rejects) for f in stats["dropped"]}
    assert stats["prompts"]["instruction_generation"] > 0 and stats["prompts"]["classification"] > 0


def test_rerun_on_a_finished_run_sends_nothing(run_generate, tmp_path):
    with OpenAITestServer(reply=SyntheticLLM()) as server:
        run_generate(server, ["pipeline.num_instructions=5"])
        sent = server.count
        stats, records, _ = run_generate(server, ["pipeline.num_instructions=5"])
        assert server.count == sent and len(records) == 5 and stats["resumed_from"] == 5
        stats, records, _ = run_generate(server, ["pipeline.num_instructions=8"])  # a higher target goes on
    assert len(records) == 8 and [r["id"] for r in records] == [f"si-{i:06d}" for i in range(8)]


def test_stops_with_a_reason_when_every_request_fails(run_generate):
    with OpenAITestServer(reply=SyntheticLLM(), faults=lambda i: ("500",)) as server:
        with pytest.raises(Stalled, match="every LLM request failed in 2 batches"):
            run_generate(server, ["pipeline.num_instructions=5", "pipeline.max_failed_batches=2",
                                  "llm.max_retries=1", "pipeline.batch_size=2"])
        assert server.count == 8  # 2 batches x 2 prompts x 2 attempts: bounded


def test_stops_with_a_reason_when_filters_drop_everything(run_generate):
    with OpenAITestServer(reply=lambda req: " Draw an image of a cat.") as server:
        with pytest.raises(Stalled, match="kept nothing.*keywords"):
            run_generate(server, ["pipeline.num_instructions=5", "pipeline.max_stall_batches=3",
                                  "pipeline.batch_size=2"])
