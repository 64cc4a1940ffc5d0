"""The openai backend against a real HTTP server on 127.0.0.1 with injected faults."""
from __future__ import annotations

import time

import pytest

from tests.servers.openai_server import OpenAITestServer
from tuneforge.llm.base import LLMFatalError
from tuneforge.llm.openai import OpenAIBackend


def echo(req):
    return "re: " + req["prompt"]


def backend(server, **kw):
    opts = dict(base_url=server.base_url, model="test-model", concurrency=4, backoff_base=0.01,
                backoff_max=0.05, timeout=5.0, api_key_env="TF_TEST_KEY")
    return OpenAIBackend(**(opts | kw))


@pytest.mark.parametrize("fault,kind", [
    (("429", 0), "429"), (("500",), "500"), (("503",), "503"), (("broken_json",), "invalid_reply"),
    (("wrong_shape",), "invalid_reply"), (("text",), "invalid_reply"), (("drop",), "connection"),
    (("slow", 1.0), "timeout")])
def test_fault_is_retried_then_recovers(fault, kind):
    with OpenAITestServer(reply=echo, faults={0: fault}) as server:
        llm = backend(server, concurrency=1, timeout=0.4)
        try:
            out = llm.generate(["first", "second"])
        finally:
            llm.close()
    assert [c.text for c in out] == ["re: first", "re: second"]
    assert llm.stats.retries == 1 and llm.stats.failures == 0 and llm.stats.requests == 3
    assert dict(llm.stats.errors) == {kind: 1}


def test_retry_after_is_honoured():
    with OpenAITestServer(reply=echo, faults={0: ("429", 1)}) as server:
        llm = backend(server)
        start = time.perf_counter()
        out = llm.generate(["x"])
        elapsed = time.perf_counter() - start
        llm.close()
    assert out[0].text == "re: x" and 1.0 <= elapsed < 2.5


def test_retry_after_is_capped():
    with OpenAITestServer(reply=echo, faults={0: ("429", 3600)}) as server:
        llm = backend(server, max_retry_after=0.2)
        start = time.perf_counter()
        out = llm.generate(["x"])
        llm.close()
    assert out[0].ok and time.perf_counter() - start < 2.0


def test_gives_up_after_bounded_retries():
    with OpenAITestServer(reply=echo, faults=lambda i: ("500",)) as server:
        llm = backend(server, max_retries=3)
        start = time.perf_counter()
        out = llm.generate(["a", "b"])
        llm.close()
    assert all(not c.ok and c.error.startswith("500") for c in out)
    assert llm.stats.requests == 8 and llm.stats.retries == 6 and llm.stats.failures == 2
    assert time.perf_counter() - start < 3


def test_bad_request_is_not_retried():
    with OpenAITestServer(reply=echo, faults={0: ("400",)}) as server:
        llm = backend(server, concurrency=1)
        out = llm.generate(["bad", "good"])
        llm.close()
    assert not out[0].ok and out[1].text == "re: good" and llm.stats.requests == 2


def test_unauthorised_stops_the_run_without_leaking_the_key(monkeypatch):
    monkeypatch.setenv("TF_TEST_KEY", "sk-test-SECRET-123")
    with OpenAITestServer(reply=echo, faults=lambda i: ("401",)) as server:
        llm = backend(server)
        with pytest.raises(LLMFatalError) as err:
            llm.generate(["a", "b", "c"])
        llm.close()
        assert server.requests[0]["headers"]["authorization"] == "Bearer sk-test-SECRET-123"
    assert "401" in str(err.value) and "SECRET" not in str(err.value)
    assert "SECRET" not in repr(vars(llm))  # the key lives only inside the client


def test_concurrency_overlaps_requests_up_to_the_limit():
    with OpenAITestServer(reply=echo, delay=0.3) as server:
        llm = backend(server, concurrency=8)
        start = time.perf_counter()
        out = llm.generate([f"p{i}" for i in range(16)])
        elapsed = time.perf_counter() - start
        llm.close()
        peak = server.max_in_flight
    assert [c.text for c in out] == [f"re: p{i}" for i in range(16)]  # order kept
    assert elapsed < 2.0 and peak == 8  # one at a time would take 4.8 s


def test_completion_mode_and_params_sent():
    with OpenAITestServer(reply=echo) as server:
        llm = backend(server, mode="completion")
        out = llm.generate(["Task 9:"], max_tokens=7, temperature=0.0, stop=["\n\n"])
        llm.close()
        req = server.requests[0]
    assert out[0].text == "re: Task 9:" and req["path"] == "/v1/completions"
    assert req["max_tokens"] == 7 and req["temperature"] == 0.0 and req["stop"] == ["\n\n"]
    assert req["model"] == "test-model"


@pytest.mark.parametrize("mode", ["chat", "completion"])
def test_server_applies_stop_and_max_tokens_like_real_ones(mode):
    """vLLM and OpenAI cut the text before the first stop string (finish_reason "stop") and at the
    token limit (finish_reason "length"); the test server does the same, in both endpoints."""
    chat_reply = "Sure! Here are some more tasks:\n\nTask 9: Name a river.\nTask 10: Name a lake."
    with OpenAITestServer(reply=lambda req: chat_reply) as server:
        llm = backend(server, mode=mode, concurrency=1)
        stopped, = llm.generate(["x"], stop=["\n\n"])
        cut, = llm.generate(["x"], max_tokens=9)
        whole, = llm.generate(["x"], max_tokens=100, stop=["Task 17"])
        llm.close()
    assert (stopped.text, stopped.finish_reason) == ("Sure! Here are some more tasks:", "stop")
    assert (cut.text, cut.finish_reason) == ("Sure! Here are some more tasks:\n\nTask 9: Name", "length")
    assert (whole.text, whole.finish_reason) == (chat_reply, "stop")


SCHEMA = {"type": "object", "properties": {"tasks": {"type": "array", "items": {"type": "string"}}},
          "required": ["tasks"], "additionalProperties": False}


@pytest.mark.parametrize("via,field", [("response_format", "response_format"), ("guided_json", "guided_json")])
def test_structured_sends_the_schema(via, field):
    with OpenAITestServer(reply=lambda req: '{"tasks": ["a"]}') as server:
        llm = backend(server, structured=True, structured_via=via)
        out = llm.generate(["x"], schema=SCHEMA)
        plain = backend(server)  # not structured: the schema is not sent
        plain.generate(["x"], schema=SCHEMA)
        llm.close()
        plain.close()
        sent, unsent = server.requests
    assert out[0].text == '{"tasks": ["a"]}'
    if via == "response_format":
        assert sent["response_format"] == {"type": "json_schema",
                                           "json_schema": {"name": "reply", "schema": SCHEMA, "strict": True}}
    else:
        assert sent["guided_json"] == SCHEMA
    assert field not in unsent and "guided_json" not in unsent and "response_format" not in unsent


def test_a_server_rejecting_the_schema_gets_the_request_without_it(caplog):
    with OpenAITestServer(reply=lambda req: "Task 9: Name a river.", reject_fields=("guided_json",)) as server:
        llm = backend(server, structured=True, structured_via="guided_json", concurrency=1)
        out = llm.generate(["a", "b"], schema=SCHEMA)
        llm.close()
        bodies = server.requests
    assert [c.text for c in out] == ["Task 9: Name a river."] * 2 and llm.stats.failures == 0
    assert ["guided_json" in b for b in bodies] == [True, False, False]  # once rejected, never sent again
    assert llm.stats.errors == {"structured_unsupported": 1} and not llm.structured and llm.stats.retries == 0
    assert "sending no schema from now on" in caplog.text
