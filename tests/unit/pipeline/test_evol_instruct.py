"""Evol-Instruct end to end over HTTP: operators, the four elimination cases, rounds, resume."""
from __future__ import annotations

import json
import re

from tests.servers.openai_server import OpenAITestServer

SOURCE = [("normal", "Explain why the sky is blue."), ("copy", "Name a copy-prone fruit."),
          ("sorry", "Describe a sorry-inducing task."), ("stop", "Give a stop-word task."),
          ("equal", "Write an equal-judged line.")]


def scripted(req):
    p = req["prompt"]
    if p.startswith(("I want you act as a Prompt Rewriter", "I want you act as a Prompt Creator")):
        given = re.search(r"#Given Prompt#:\n(.*)\n#(Rewritten|Created) Prompt#:", p, re.S).group(1).strip()
        if "copy-prone" in given:
            return "#Rewritten Prompt#: " + given
        return given + " Then justify the answer with two examples from daily life."
    if p.startswith("Here are two Instructions"):
        return "Equal" if "equal-judged" in p else "Not Equal"
    if "sorry-inducing" in p:
        return "Sorry, I cannot help with that."
    if "stop-word" in p:
        return "the of and , ."
    return "A full answer: light scatters, shorter wavelengths scatter more, so we see blue. " + p[:40]


def write_source(tmp_path):
    path = tmp_path / "source.jsonl"
    path.write_text("".join(json.dumps({"id": i, "instruction": t, "input": "", "output": "x"}) + "\n"
                            for i, t in SOURCE))
    return path


def test_evol_instruct_rounds_and_elimination(run_generate, tmp_path):
    src = write_source(tmp_path)
    with OpenAITestServer(reply=scripted) as server:
        stats, records, rejects = run_generate(server, [
            "pipeline=evol_instruct", "pipeline.rounds=2", f"pipeline.source={src}",
            "evolution=[add_constraints,deepening,in_breadth]"])
        prompts = [r["prompt_text"] for r in server.requests]
    # the "normal" line evolves twice: round 2's parent is round 1's child
    assert [r["lineage"]["round"] for r in records] == [1, 2]
    r1, r2 = records
    assert r1["lineage"]["parents"] == ["normal"] and r2["lineage"]["parents"] == [r1["id"]]
    assert all(r["lineage"]["operator"] in ("add_constraints", "deepening", "in_breadth") for r in records)
    assert r2["instruction"].startswith(r1["instruction"]) and r1["output"].startswith("A full answer")
    # the four failure cases, each with its reason, in both rounds (failed parents are retried)
    reasons = {(r["lineage"]["parents"][0], r["lineage"]["round"]): r["reason"] for r in rejects}
    for rnd in (1, 2):
        assert "copies '#rewritten prompt#'" in reasons[("copy", rnd)]
        assert "could not answer" in reasons[("sorry", rnd)]
        assert "only punctuation and stop words" in reasons[("stop", rnd)]
        assert "no information gain" in reasons[("equal", rnd)]
    assert all(r["filter"] == "elimination" for r in rejects) and len(rejects) == 8
    assert stats["prompts"] == {"evolve": 10, "respond": 8, "judge_equal": 4}
    # the in-depth prompt is the lecture's template with the operator's method
    depth = [p for p in prompts if p.startswith("I want you act as a Prompt Rewriter")]
    assert depth and all("#Given Prompt#:" in p and p.endswith("#Rewritten Prompt#:\n") for p in depth)


def test_evol_instruct_resumes_round_by_round(run_generate, tmp_path):
    src = write_source(tmp_path)
    base = ["pipeline=evol_instruct", f"pipeline.source={src}", "evolution=[concretizing]"]
    with OpenAITestServer(reply=scripted) as server:
        run_generate(server, [*base, "pipeline.rounds=1"], run_dir=tmp_path / "a")
        before = server.count
        stats, records, rejects = run_generate(server, [*base, "pipeline.rounds=2"], run_dir=tmp_path / "a")
        second = server.requests[before:]
    # the second run sent round-2 evolutions only (one per parent), never round 1's again
    evolve = [r for r in second if r["prompt_text"].startswith("I want you act as a Prompt Rewriter")]
    assert len(evolve) == 5 and stats["resumed_from"] == 1
    assert [r["lineage"]["round"] for r in records] == [1, 2] and len(rejects) == 8
    assert len({(r["lineage"]["round"], r["lineage"]["parents"][0]) for r in rejects}) == 8
