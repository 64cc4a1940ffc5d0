"""Generation against teachers and servers that misbehave, and users who slip: a key pasted where its
variable's name goes is refused without being shown; a key echoed back in a server's error text is stored
nowhere; replies and reject records are capped (and the cuts counted); failing requests are visible while
they happen; ids never repeat after a line is deleted by hand; the counts survive each batch."""
from __future__ import annotations

import json
import logging

import pytest

from tests.servers.openai_server import OpenAITestServer
from tests.servers.scripts import SyntheticLLM
from tuneforge.errors import ConfigError
from tuneforge.pipeline.base import MAX_FIELD_CHARS, Stalled

KEY = "sk-proj-" + "Zq9XwV3t" * 5


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_key_pasted_as_the_variable_name_is_refused_unseen(compose):
    from tuneforge.commands.validate import validate

    with pytest.raises(ConfigError) as err:
        validate([f"llm.api_key_env={KEY}"], "generate")
    assert [i.path for i in err.value.issues] == ["llm.api_key_env"] and KEY not in str(err.value)


def test_a_key_echoed_by_the_server_is_stored_nowhere(run_generate, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server = OpenAITestServer(reply=SyntheticLLM(seed=1), faults=lambda i: ("500",) if i < 40 else None)
    import tests.servers.openai_server as srv

    original = srv.json.dumps

    def leaky(obj, *a, **k):  # the server puts the caller's key into its error text, as some proxies do
        if isinstance(obj, dict) and "error" in obj:
            obj = {"error": {"message": f"upstream refused key {KEY}"}}
        return original(obj, *a, **k)

    monkeypatch.setattr(srv.json, "dumps", leaky)
    with caplog.at_level(logging.WARNING, logger="tuneforge"), server:
        with pytest.raises(Stalled):
            run_generate(server, ["pipeline.num_instructions=4", "pipeline.batch_size=2", "llm.max_retries=1",
                                  "llm.concurrency=1", "pipeline.max_stall_batches=1"], run_dir=tmp_path)
    for name in ("generate_stats.json", "rejects.jsonl", "generated.jsonl", "config.yaml"):
        path = tmp_path / name
        assert not path.exists() or KEY not in path.read_text(), name
    assert KEY not in caplog.text
    retries = [r.getMessage() for r in caplog.records if "retry 1 of 1" in r.getMessage()]
    assert retries and all(server.base_url in m for m in retries)  # visible while it happens, with the endpoint


def test_huge_replies_and_rejects_are_capped_and_counted(run_generate, tmp_path):
    llm = SyntheticLLM(seed=3)

    def reply(req):  # a teacher that ignores max_tokens on instance generation
        text = llm(req)
        return text + " pad" * 200_000 if req["prompt"].startswith(("Come up with examples", "Given the")) else text

    with OpenAITestServer(reply=reply, apply_params=False) as server:
        stats, _, rejects = run_generate(server, ["pipeline.num_instructions=4", "pipeline.batch_size=2"],
                                         run_dir=tmp_path)
    assert stats["cut"].get("reply", 0) > 0
    longest = max(len(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()) if rejects else 0
    assert longest < 4 * MAX_FIELD_CHARS


def test_ids_never_repeat_after_a_line_is_deleted(run_generate, tmp_path):
    with OpenAITestServer(reply=SyntheticLLM(seed=1)) as server:
        run_generate(server, ["pipeline.num_instructions=6", "pipeline.batch_size=3"], run_dir=tmp_path)
        path = tmp_path / "generated.jsonl"
        lines = path.read_text().splitlines()
        path.write_text("\n".join(lines[:2] + lines[3:]) + "\n")  # the user removes a bad record by hand
        run_generate(server, ["pipeline.num_instructions=8", "pipeline.batch_size=3"], run_dir=tmp_path)
    ids = [r["id"] for r in read_jsonl(path)]
    assert len(ids) == 8 and len(set(ids)) == 8


def test_counts_are_flushed_after_every_batch(run_generate, tmp_path, monkeypatch):
    from tuneforge.pipeline import base

    seen = []
    commit = base.RunContext.commit

    def spy(self, accepted, rejects):
        commit(self, accepted, rejects)
        seen.append(json.loads((self.run_dir / "generate_stats.json").read_text())["llm"]["requests"])

    monkeypatch.setattr(base.RunContext, "commit", spy)
    with OpenAITestServer(reply=SyntheticLLM(seed=1)) as server:
        stats, _, _ = run_generate(server, ["pipeline.num_instructions=6", "pipeline.batch_size=2"], run_dir=tmp_path)
    assert len(seen) >= 2 and seen == sorted(set(seen)) and seen[0] > 0 and seen[-1] <= stats["llm"]["requests"]
