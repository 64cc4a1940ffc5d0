"""Self-Instruct end to end over HTTP, in completion and chat mode: every stage, the filters, lineage,
resume and bounds; against a chat-style server (preambles, lists, bold, sign-offs, JSON; `stop` and
`max_tokens` applied as real servers do) nothing of the wrapping reaches the data."""
from __future__ import annotations

import itertools
import json
import re

import pytest

from tests.servers import chat_styles as S
from tests.servers.openai_server import OpenAITestServer
from tests.servers.scripts import SyntheticLLM
from tuneforge.filters.chat_wrapping import ChatWrapping
from tuneforge.pipeline.base import Stalled

FILTERS = "filters=[chat_wrapping,rouge_l,keywords,length,format,output_format,dedup_exact,conflicting_outputs]"
WRAPPING = re.compile(r"\*\*|__|^\s*(?:[-*•]|\d+[.)])\s|\bTask \d|Sure|Certainly|Of course|Here (?:are|is|'s)|"
                      r"I hope|Hope this|Let me know|Feel free|```|^#|Class label|Input:|Output:|Example \d", re.I | re.M)


def assert_clean(records):
    """No wrapping left: by the chat filter and by an independent pattern of what chat models add."""
    flt = ChatWrapping()
    for rec in records:
        rows = [{"instruction": rec["instruction"], **x} for x in rec.get("instances") or [rec]]
        assert flt.check(rows, []) == [None] * len(rows), rows
        for row in rows:
            for field in ("instruction", "input", "output"):
                assert not WRAPPING.search(row.get(field) or ""), (field, row)


@pytest.mark.parametrize("mode", ["completion", "chat"])
def test_self_instruct_end_to_end(run_generate, mode):
    with OpenAITestServer(reply=SyntheticLLM(seed=1)) as server:
        stats, records, rejects = run_generate(server, [f"llm.mode={mode}", "pipeline.num_instructions=12",
                                                        "pipeline.batch_size=4"])
        sent = server.requests
    prompts = [r["prompt_text"] for r in sent]
    assert len(records) == 12 and stats["records"] == 12
    assert len({r["id"] for r in records}) == 12 and len({r["instruction"] for r in records}) == 12
    for rec in records:  # alpaca format + lineage
        assert {"instruction", "input", "output", "instances", "is_classification", "lineage"} <= rec.keys()
        lin = rec["lineage"]
        assert lin["pipeline"] == "self_instruct" and lin["model"] == "scripted" and len(lin["in_context"]) == 8
        assert re.fullmatch(r"[0-9a-f]{16}", lin["prompt_sha256"]) and lin["mode"] == mode
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
    # completion mode keeps the paper's stops; chat mode sends none (they would cut a chat reply)
    stops = {tuple(r.get("stop") or ()) for r in sent}
    assert stops == ({("\n\n", "Task 17"), ("\n", "Task:"), tuple(["Example 6", "\nTask:", "Task:"])}
                     if mode == "completion" else {()})
    assert all(("messages" in r) == (mode == "chat") for r in sent)


def test_chat_style_server_keeps_no_wrapping_and_reaches_the_target(run_generate):
    """Every reply dressed as chat models dress them (each style of every stage, in turn), some with
    wrapping no parser can strip: 100 % of kept instructions and instances are clean."""
    llm = SyntheticLLM(seed=2, dirty=3)
    with OpenAITestServer(reply=llm) as server:
        stats, records, rejects = run_generate(server, ["llm.mode=chat", "pipeline.num_instructions=30",
                                                        "pipeline.batch_size=4", FILTERS])
    assert len(records) == 30 and stats["stopped"] is None
    assert_clean(records)
    assert llm.calls["tasks"] >= len(S.TASK_STYLES) and llm.calls["instances"] >= len(S.INSTANCE_STYLES)
    assert llm.calls["label"] >= len(S.LABEL_STYLES)
    chatter = [r for r in rejects if r["filter"] == "chat_wrapping"]
    assert chatter and stats["dropped"]["chat_wrapping"] == len(chatter)
    assert any("opens with an assistant preamble" in r["reason"] for r in chatter)
    # classification labels in every style were read (none fell back)
    assert all(r["lineage"]["classification_parsed"] for r in records) and "classification" not in stats["unparseable"]


def test_completion_stops_cut_a_chat_reply_to_its_preamble(run_generate, tmp_path):
    """The bug the mode split fixes: a chat model prompted with the paper's "\\n\\n" stop answers
    "Sure! Here are some more tasks:\\n\\nTask 9: ..." and the server cuts it to its preamble, which the
    paper's parser takes for a task (the chat filter drops it); in chat mode no stop is sent."""
    chat_model = SyntheticLLM()

    def reply(req):  # a chat model behind the server, whatever the endpoint
        if req["prompt"].startswith("Come up with a series of tasks"):
            return S.tasks("task_lines", ["Name three rivers in Asia and their lengths."])
        return chat_model.chat(req)

    with OpenAITestServer(reply=reply) as server:
        with pytest.raises(Stalled):
            run_generate(server, ["llm.mode=completion", "pipeline.num_instructions=1", "pipeline.batch_size=1",
                                  "pipeline.max_stall_batches=1", FILTERS], run_dir=tmp_path / "completion")
    rejects = read_jsonl(tmp_path / "completion" / "rejects.jsonl")
    assert [(r["filter"], r["instruction"]) for r in rejects] == [("chat_wrapping", "Sure! Here are some more tasks:")]
    with OpenAITestServer(reply=reply) as server:
        stats, records, rejects = run_generate(server, ["llm.mode=chat", "pipeline.num_instructions=1",
                                                        "pipeline.batch_size=1", FILTERS], run_dir=tmp_path / "chat")
    assert [r["instruction"] for r in records] == ["Name three rivers in Asia and their lengths."]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_cut_replies_lose_only_their_last_item(run_generate):
    """max_tokens cuts the chat replies (the server applies it): the tasks and instances kept are whole."""
    with OpenAITestServer(reply=SyntheticLLM(seed=4, style=0)) as server:  # "Task N:" lines, plain examples
        stats, records, rejects = run_generate(server, ["llm.mode=chat", "pipeline.num_instructions=6",
                                                        "pipeline.instruction_max_tokens=30",
                                                        "pipeline.instance_max_tokens=16", "pipeline.batch_size=4",
                                                        FILTERS])
        cut = [r for r in server.requests if r["prompt_text"].startswith("Come up with a series")]
    assert len(records) == 6 and cut
    for rec in records:  # scripted tasks, outputs and inputs all end with a full stop; labels are whole words
        assert rec["instruction"].endswith(".")
        for x in rec["instances"]:
            assert x["input"].endswith(".") if rec["is_classification"] else x["output"].endswith(".")
    assert_clean(records)


def test_unparseable_replies_go_to_rejects_with_the_raw_reply(run_generate, tmp_path, capsys):
    calls = itertools.count()
    tasks = S.tasks("numbered", ["Describe a river festival in two short sentences.", "Suggest names for a "
                                 "lantern shop near the harbour.", "Explain how glaciers carve valleys over time."])

    def reply(req):
        p = req["prompt"]
        if p.startswith("Come up with a series of tasks"):
            return "I'm sorry, I can't help with that." if next(calls) % 2 else tasks
        if p.startswith("Can the following task"):
            return "Hmm, hard to say."
        return "I would rather talk about something else today."

    with OpenAITestServer(reply=reply) as server:
        with pytest.raises(Stalled, match="kept nothing"):
            run_generate(server, ["llm.mode=chat", "pipeline.num_instructions=2", "pipeline.batch_size=2",
                                  "llm.concurrency=1", "pipeline.max_stall_batches=1", FILTERS], run_dir=tmp_path)
    rejects = read_jsonl(tmp_path / "rejects.jsonl")
    parse = [r for r in rejects if r["filter"] == "parse"]
    assert {r["reason"] for r in parse} == {"unparseable"} and len(parse) == 4
    assert [r["reply"] for r in parse if r["stage"] == "instruction_generation"] == ["I'm sorry, I can't help with that."]
    inst = [r for r in parse if r["stage"] == "instance_generation"]
    assert len(inst) == 3 and all(r["reply"].startswith("I would rather") and r["instruction"] for r in inst)
    stats = json.loads((tmp_path / "generate_stats.json").read_text())
    assert stats["unparseable"] == {"instruction_generation": 1, "classification": 3, "instance_generation": 3}
    assert stats["dropped"] == {"parse": 4}
    table = capsys.readouterr().out
    assert "dropped: parse (unparseable, or copies the prompt)" in table and "unparseable replies: classification" in table


def test_structured_output_sends_the_schema_and_reads_json(run_generate, tmp_path):
    for via, field in (("response_format", "response_format"), ("guided_json", "guided_json")):
        with OpenAITestServer(reply=SyntheticLLM(seed=5)) as server:
            stats, records, rejects = run_generate(server, ["llm.mode=chat", "llm.structured=true",
                                                            f"llm.structured_via={via}", "pipeline.num_instructions=4",
                                                            "pipeline.batch_size=2", FILTERS], run_dir=tmp_path / via)
            sent = server.requests
        assert len(records) == 4 and all(field in r for r in sent)
        assert_clean(records)
    schema = sent[0]["guided_json"]
    assert schema["properties"]["tasks"]["type"] == "array"


def test_a_server_without_structured_output_falls_back_to_text(run_generate, caplog):
    with OpenAITestServer(reply=SyntheticLLM(seed=6), reject_fields=("response_format",)) as server:
        stats, records, _ = run_generate(server, ["llm.mode=chat", "llm.structured=true", "pipeline.num_instructions=4",
                                                  "pipeline.batch_size=2", FILTERS])
        sent = server.requests
    assert len(records) == 4 and stats["llm"]["errors"].get("structured_unsupported", 0) >= 1
    assert stats["llm"]["failures"] == 0 and "response_format" not in sent[-1]
    assert "sending no schema from now on" in caplog.text
    assert_clean(records)


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


@pytest.mark.parametrize("mode", ["completion", "chat"])
def test_stops_with_a_reason_when_filters_drop_everything(run_generate, mode):
    with OpenAITestServer(reply=lambda req: " Draw an image of a cat.") as server:
        with pytest.raises(Stalled, match="kept nothing.*keywords"):
            run_generate(server, [f"llm.mode={mode}", "pipeline.num_instructions=5", "pipeline.max_stall_batches=3",
                                  "pipeline.batch_size=2"])


def test_echoes_of_the_prompt_are_dropped_with_their_reason(run_generate, tmp_path):
    """Small chat models copy their prompt: an in-context task or the ask itself returned as a new task,
    an instance taken from the prompt's examples (verbatim or with a changed tense)."""
    def reply(req):
        p = req["prompt"]
        if p.startswith("Come up with a series of tasks"):
            echoed = re.search(r"^Task 1: (.*)$", p, re.M).group(1)
            return (f"Task 1: {echoed}\nTask 9: Reply with the new tasks only.\n"
                    "Task 10: Name three famous bridges and the rivers they cross.")
        if p.startswith("Can the following task"):
            return "No"
        return ("Example 1\nSentence: gonna be late, traffic is crazy\nOutput: I will be late.\n"
                "Example 2\nSentence: can't make it tomorrow, sorry!\nOutput: I apologised.\n"
                "Example 3\nInput: Tower Bridge\nOutput: The Thames.\nExample 4\nOutput: sunny")

    with OpenAITestServer(reply=reply) as server:
        stats, records, rejects = run_generate(server, ["llm.mode=chat", "pipeline.num_instructions=1",
                                                        "pipeline.batch_size=1", FILTERS])
    assert [(r["instruction"], r["instances"]) for r in records] == [
        ("Name three famous bridges and the rivers they cross.", [{"input": "Tower Bridge", "output": "The Thames."}])]
    reasons = sorted((r["reason"], r.get("input", r.get("instruction"))) for r in rejects)
    assert [r for r, _ in reasons] == ["copies an example of the prompt"] * 3 + ["copies the prompt"] * 2
    assert {x for _, x in reasons} >= {"Sentence: gonna be late, traffic is crazy", "Reply with the new tasks only.",
                                       "Sentence: can't make it tomorrow, sorry!"}
