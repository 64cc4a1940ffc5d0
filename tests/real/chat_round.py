"""The real-model round shared by the `hf` and `transformers serve` tests: Self-Instruct toward 10
instructions and one Evol-Instruct round with SmolLM2-135M-Instruct as a chat teacher, sized for a
2-core CPU (a 135M model writes weak tasks and echoes its examples: the run may stop before its target,
but only with a stated reason). What is checked: nothing of the chat wrapping reaches the data, and
every drop is on record with its filter and reason."""
from __future__ import annotations

import json
import time
from pathlib import Path

from tuneforge.filters.chat_wrapping import ChatWrapping
from tuneforge.pipeline.base import Stalled

FILTERS = "filters=[chat_wrapping,rouge_l,keywords,length,format,output_format,dedup_exact,conflicting_outputs]"
# 8 prompts of 4 in-context tasks, 3 + 3 classification shots and a batch bound: about 100 s on 2 cores
SELF_INSTRUCT = ["pipeline.num_instructions=10", "pipeline.num_in_context=4", "pipeline.num_machine_in_context=1",
                 "pipeline.tasks_per_prompt=4", "pipeline.instance_max_tokens=80",
                 "pipeline.max_instances=2", "pipeline.clf_yes=3", "pipeline.clf_no=3", "pipeline.max_stall_batches=2"]
EVOL = ["pipeline=evol_instruct", "pipeline.rounds=1", "pipeline.evolve_max_tokens=128",
        "pipeline.response_max_tokens=96", "evolution=[add_constraints,deepening,concretizing,in_breadth]"]


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run_round(compose, run_dir: Path, overrides: list[str]) -> dict:
    """Run `generate`, check the outcome, and return the round's figures (printed for the issue note)."""
    from tuneforge.commands.generate import generate

    start = time.perf_counter()
    try:
        generate(compose("generate", [*overrides, FILTERS, f"run_dir={run_dir}"]))
    except Stalled:  # a 135M teacher may stop short: the reason is in the stats
        pass
    wall = time.perf_counter() - start
    stats = json.loads((run_dir / "generate_stats.json").read_text())
    generated, rejects = read(run_dir / "generated.jsonl"), read(run_dir / "rejects.jsonl")
    assert stats["llm"]["requests"] > 0 and stats["llm"]["failures"] == 0, stats["llm"]
    assert len(generated) == stats["records"] == stats["kept"]
    # every drop on record, with its filter and reason (an unreadable reply with the reply itself)
    assert all(r["filter"] and r["reason"] for r in rejects) and sum(stats["dropped"].values()) == len(rejects)
    assert all(r.get("reply") is not None for r in rejects if r["reason"].startswith("unparseable"))
    # nothing of the chat wrapping in what was kept
    flt = ChatWrapping()
    for rec in generated:
        rows = [{"instruction": rec["instruction"], **x} for x in rec.get("instances") or [rec]]
        assert flt.check(rows, []) == [None] * len(rows), rows
        assert rec["lineage"]["mode"] == "chat"
    figures = {"records": stats["records"], "requests": stats["llm"]["requests"], "prompts": stats["prompts"],
               "dropped": stats["dropped"], "unparseable": stats["unparseable"], "stopped": stats["stopped"],
               "wall_s": round(wall, 1), "sample": generated[:2]}
    print(json.dumps(figures, indent=1, ensure_ascii=False))
    return figures


def check_self_instruct(figures: dict, target: int = 10) -> None:
    """Reached its target, or stopped with a stated reason."""
    assert (figures["records"] >= target) == (figures["stopped"] is None), figures["stopped"]
    assert figures["stopped"] is None or figures["stopped"].startswith("stopped")
    assert figures["prompts"]["instruction_generation"] > 0


def check_evol_round(figures: dict, rejects_dir: Path, sources: int) -> None:
    """The round ends: every source instruction evolved into a kept record or a final, explained reject."""
    assert figures["stopped"] is None
    finals = {r["lineage"]["parents"][0] for r in read(rejects_dir / "rejects.jsonl") if r.get("final")}
    kept = {r["lineage"]["parents"][0] for r in read(rejects_dir / "generated.jsonl")}
    assert len(kept | finals) == sources and not kept & finals
