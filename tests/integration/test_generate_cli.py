"""`tuneforge generate` as a subprocess against the local test server: kill -9 midway and resume
with nothing lost or repeated (faults injected throughout), the API key never on disk, a clear stop."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.servers.openai_server import OpenAITestServer
from tests.servers.scripts import SyntheticLLM

KEY = "sk-canary-7f3c9e1d"
FAULTS = {1: ("429", 0), 3: ("500",), 4: ("broken_json",), 6: ("drop",), 8: ("wrong_shape",), 11: ("503",)}


def cli(run_dir: Path, server: OpenAITestServer, *extra: str) -> list[str]:
    exe = Path(sys.executable).with_name("tuneforge")
    return [str(exe), "generate", f"llm.base_url={server.base_url}", "llm.model=scripted", "llm.concurrency=4",
            "llm.backoff_base=0.01", "llm.timeout=5", "pipeline.batch_size=2", f"hydra.run.dir={run_dir}", *extra]


def env() -> dict[str, str]:
    return {**os.environ, "OPENAI_API_KEY": KEY}


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_kill_9_midway_then_resume(tmp_path):
    run_dir, target = tmp_path / "run", 24
    faults = lambda i: FAULTS.get(i % 13)  # noqa: E731 (faults keep coming, in both runs)
    with OpenAITestServer(reply=SyntheticLLM(seed=3), faults=faults, delay=0.03) as server:
        cmd = cli(run_dir, server, f"pipeline.num_instructions={target}")
        proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while len(lines(run_dir / "generated.jsonl")) < 6 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = lines(run_dir / "generated.jsonl")
        assert 6 <= len(before) < target, "the kill must land midway"
        with open(run_dir / "generated.jsonl", "a") as f:  # what a write cut by the kill leaves behind
            f.write('{"id": "si-torn", "instruction": "half a rec')
        done = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    after = lines(run_dir / "generated.jsonl")
    records = [json.loads(line) for line in after]
    assert len(records) == target and after[:len(before)] == before  # nothing lost, nothing rewritten
    assert [r["id"] for r in records] == [f"si-{i:06d}" for i in range(target)]  # no duplicate, no gap
    assert len({r["instruction"].lower() for r in records}) == target
    stats = json.loads((run_dir / "generate_stats.json").read_text())
    assert stats["resumed_from"] == len(before) and stats["repaired_bytes"] > 0
    assert stats["llm"]["retries"] > 0 and {"429", "invalid_reply", "connection"} <= set(stats["llm"]["errors"])
    assert "LLM retries" in done.stdout and "dropped: keywords" in done.stdout
    # the key was sent to the server but is written nowhere in the run directory
    assert server.requests[-1]["headers"]["authorization"] == f"Bearer {KEY}"
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert {"generated.jsonl", "rejects.jsonl", "config.yaml", "generate_stats.json"} <= {p.name for p in files}
    assert not [p for p in files if KEY.encode() in p.read_bytes()]


def test_dead_server_stops_with_a_clear_reason(tmp_path):
    with OpenAITestServer(reply=SyntheticLLM(), faults=lambda i: ("500",)) as server:
        start = time.time()
        done = subprocess.run(cli(tmp_path / "run", server, "llm.max_retries=2", "pipeline.max_failed_batches=2"),
                              env=env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and time.time() - start < 30
    assert "tuneforge: error: stopped: every LLM request failed in 2 batches in a row (last error: 500" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_config_is_one_clear_error(tmp_path):
    exe = Path(sys.executable).with_name("tuneforge")
    done = subprocess.run([str(exe), "generate", "llm.concurrency=many", "filters.rouge_l.threshold=high",
                           f"hydra.run.dir={tmp_path}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "llm.concurrency: expected int" in done.stderr
    assert "filters.rouge_l.threshold: expected float" in done.stderr and "Traceback" not in done.stderr


def test_chat_mode_end_table_shows_parse_and_chatter_drops(tmp_path):
    """A chat-style teacher (preambles, lists, bold, sign-offs; some wrapping no parser can strip; some
    replies with nothing to read): the run reaches its target, and the end table and stats say how many
    replies were unparseable and how many records the chat filter dropped."""
    llm = SyntheticLLM(seed=7, dirty=2)
    count = iter(range(10**6))

    def reply(req):
        if req["prompt"].startswith("Come up with examples") and next(count) % 4 == 3:
            return "Let me think about this one for a while."
        return llm(req)

    run_dir = tmp_path / "run"
    with OpenAITestServer(reply=reply) as server:
        done = subprocess.run(cli(run_dir, server, "llm.mode=chat", "pipeline.num_instructions=12",
                                  "filters=[chat_wrapping,rouge_l,keywords,length,format,output_format,"
                                  "dedup_exact,conflicting_outputs]"),
                              env={**env(), "COLUMNS": "200"}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    stats = json.loads((run_dir / "generate_stats.json").read_text())
    assert stats["records"] == 12 and stats["dropped"]["chat_wrapping"] > 0 and stats["dropped"]["parse"] > 0
    unreadable = [json.loads(line) for line in lines(run_dir / "rejects.jsonl") if '"unparseable"' in line]
    assert stats["unparseable"]["instance_generation"] == len(unreadable) > 0
    assert all(r["reply"] == "Let me think about this one for a while." for r in unreadable)
    for row in ("dropped: chat_wrapping (chat wrapping left)", "dropped: parse (unparseable, or copies the prompt)",
                "unparseable replies: instance_generation"):
        assert row in done.stdout
    records = [json.loads(line) for line in lines(run_dir / "generated.jsonl")]
    assert not [r for r in records if "Certainly" in json.dumps(r) or "**" in json.dumps(r)]
