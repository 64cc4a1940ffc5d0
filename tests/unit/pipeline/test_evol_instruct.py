"""Evol-Instruct end to end over HTTP, in completion and chat mode: operators, the four elimination
cases, rounds, resume; in chat mode the replies come dressed as chat models write them."""
from __future__ import annotations

import json
import re

import pytest

from tests.servers import chat_styles as S
from tests.servers.openai_server import OpenAITestServer

SOURCE = [("normal", "Explain why the sky is blue."), ("copy", "Name a copy-prone fruit."),
          ("sorry", "Describe a sorry-inducing task."), ("stop", "Give a stop-word task."),
          ("equal", "Write an equal-judged line.")]
REWRITER = ("I want you act as a Prompt Rewriter", "I want you act as a Prompt Creator")


def given(prompt: str) -> str:
    return re.search(r"#Given Prompt#:\n(.*?)\n(?:#(?:Rewritten|Created) Prompt#:|\nReply with)", prompt,
                     re.S).group(1).strip()


def scripted(req):
    """Completion requests get bare continuations; chat requests the same content in chat styles."""
    p, chat = req["prompt"], "messages" in req
    n = len(req["prompt"]) % 5  # a style per prompt, stable across reruns
    if p.startswith(REWRITER):
        text = given(p)
        if "copy-prone" in text:  # a header the parser strips in chat mode, and the words again
            return "#Rewritten Prompt#: " + text + " (the rewritten prompt)"
        text += " Then justify the answer with two examples from daily life."
        return S.rewrite(S.REWRITE_STYLES[n], text) if chat else text
    if p.startswith("Here are two Instructions"):
        verdict = "equal-judged" in p
        return S.verdict(S.VERDICT_STYLES[n % len(S.VERDICT_STYLES)], verdict) if chat else \
            ("Equal" if verdict else "Not Equal")
    if "sorry-inducing" in p:
        return "Sorry, I cannot help with that."
    if "stop-word" in p:
        return "the of and , ."
    answer = "A full answer: light scatters, shorter wavelengths scatter more, so we see blue. " + p[:40]
    return S.answer(S.ANSWER_STYLES[n % len(S.ANSWER_STYLES)], answer) if chat else answer


def write_source(tmp_path, rows=SOURCE):
    path = tmp_path / "source.jsonl"
    path.write_text("".join(json.dumps({"id": i, "instruction": t, "input": "", "output": "x"}) + "\n"
                            for i, t in rows))
    return path


@pytest.mark.parametrize("mode", ["completion", "chat"])
def test_evol_instruct_rounds_and_elimination(run_generate, tmp_path, mode):
    src = write_source(tmp_path)
    with OpenAITestServer(reply=scripted) as server:
        stats, records, rejects = run_generate(server, [
            f"llm.mode={mode}", "pipeline=evol_instruct", "pipeline.rounds=2", f"pipeline.source={src}",
            "evolution=[add_constraints,deepening,in_breadth]"])
        sent = server.requests
    # the "normal" line evolves twice: round 2's parent is round 1's child
    assert [r["lineage"]["round"] for r in records] == [1, 2]
    r1, r2 = records
    assert r1["lineage"]["parents"] == ["normal"] and r2["lineage"]["parents"] == [r1["id"]]
    assert all(r["lineage"]["operator"] in ("add_constraints", "deepening", "in_breadth") for r in records)
    assert all(r["lineage"]["mode"] == mode for r in records)
    # chat or not, the record holds the rewrite and the answer alone
    assert r2["instruction"].startswith(r1["instruction"]) and r1["output"].startswith("A full answer")
    assert r1["instruction"].startswith(("Explain why the sky is blue.", "Name a", "Describe", "Give", "Write"))
    for rec in records:
        assert not re.search(r"Sure|Certainly|I hope|#|\*\*|\"|Prompt:", rec["instruction"] + rec["output"])
    # the four failure cases, each with its reason, in both rounds (failed parents are retried)
    reasons = {(r["lineage"]["parents"][0], r["lineage"]["round"]): r["reason"] for r in rejects}
    for rnd in (1, 2):
        assert "copies '" in reasons[("copy", rnd)] and "rewritten prompt" in reasons[("copy", rnd)]
        assert "could not answer" in reasons[("sorry", rnd)]
        assert "only punctuation and stop words" in reasons[("stop", rnd)]
        assert "no information gain" in reasons[("equal", rnd)]
    assert all(r["filter"] == "elimination" for r in rejects) and len(rejects) == 8
    assert stats["prompts"] == {"evolve": 10, "respond": 8, "judge_equal": 4} and stats["unparseable"] == {}
    # completion: the lecture's template to be continued; chat: the same text asking for the prompt alone
    depth = [r for r in sent if r["prompt_text"].startswith("I want you act as a Prompt Rewriter")]
    assert depth and all("#Given Prompt#:" in r["prompt_text"] for r in depth)
    if mode == "completion":
        assert all(r["prompt_text"].endswith("#Rewritten Prompt#:\n") and "messages" not in r for r in depth)
    else:
        assert all(r["prompt_text"].endswith("no answer to it and no comments.") and "messages" in r for r in depth)
        assert all("Please add one more constraints/requirements into #Given Prompt#" in r["prompt_text"]
                   for r in depth if "constraints" in r["prompt_text"])
    assert not any(r.get("stop") for r in sent)


def test_chat_rewrites_cut_or_unreadable_are_rejected_as_unparseable(run_generate, tmp_path):
    src = write_source(tmp_path, [("cut", "Explain tides to a child."), ("empty", "Name an empty reply."),
                                  ("ok", "List three uses of salt.")])

    def reply(req):
        p = req["prompt"]
        if p.startswith(REWRITER):
            if "tides" in p:  # runs past max_tokens: the server cuts it (finish_reason length)
                return "Explain tides to a child using " + "very " * 50 + "simple words."
            if "empty reply" in p:
                return "Sure! Here's the rewritten prompt:\n\n**Rewritten Prompt:**"
            return S.rewrite("preamble_quoted", given(p) + " Give one example for each use.")
        if p.startswith("Here are two Instructions"):
            return '```json\n{"equal": false}\n```'
        return "Salt seasons food, preserves fish and melts ice on roads."

    with OpenAITestServer(reply=reply) as server:
        stats, records, rejects = run_generate(server, [
            "llm.mode=chat", "pipeline=evol_instruct", "pipeline.rounds=1", f"pipeline.source={src}",
            "evolution=[add_constraints]", "pipeline.evolve_max_tokens=40"])
    assert [r["instruction"] for r in records] == ["List three uses of salt. Give one example for each use."]
    by_parent = {r["lineage"]["parents"][0]: r for r in rejects}
    assert by_parent["cut"]["reason"] == "unparseable (cut by the token limit)"
    assert by_parent["empty"]["reason"] == "unparseable" and by_parent["empty"]["reply"].startswith("Sure!")
    assert {r["filter"] for r in rejects} == {"parse"} and stats["unparseable"] == {"evolve": 2}
    assert stats["dropped"] == {"parse": 2}


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
