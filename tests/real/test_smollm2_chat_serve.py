"""SmolLM2-135M-Instruct behind `transformers serve` as the teacher of `llm=openai llm.mode=chat`
(the server fixture of test_smollm2_serve.py: offline, 127.0.0.1): Self-Instruct toward 10
instructions and one Evol-Instruct round end with their target or a stated reason, keep nothing of the
chat wrapping and record every drop (tests/real/chat_round.py). The server answers one request at a
time (about 11 tokens/s here), so each round is one small batch: under about 3 minutes each."""
from __future__ import annotations

from tests.real.chat_round import EVOL, SELF_INSTRUCT, check_evol_round, check_self_instruct, run_round
from tests.real.test_smollm2_serve import pytestmark as serve_marks
from tests.real.test_smollm2_serve import server  # noqa: F401 (the module-scoped fixture)

pytestmark = serve_marks


def openai(server) -> list[str]:  # noqa: F811
    url, model_dir = server
    return ["llm=openai", f"llm.base_url={url}/v1", f"llm.model={model_dir}", "llm.mode=chat",
            "llm.concurrency=4", "llm.timeout=120", "llm.max_retries=1"]


def test_self_instruct_round_through_transformers_serve(server, compose, tmp_path):  # noqa: F811
    figures = run_round(compose, tmp_path, [*openai(server), *SELF_INSTRUCT, "pipeline.batch_size=4",
                                            "pipeline.instruction_max_tokens=128", "pipeline.max_batches=1"])
    check_self_instruct(figures)


def test_evol_instruct_round_through_transformers_serve(server, compose, tmp_path):  # noqa: F811
    figures = run_round(compose, tmp_path, [*openai(server), *EVOL, "pipeline.num_instructions=3"])
    check_evol_round(figures, tmp_path, sources=3)


def test_structured_output_falls_back_on_transformers_serve(server):  # noqa: F811
    """`transformers serve` ignores `response_format` (with a warning) and answers 422 to vLLM's
    `guided_json`: the backend then sends no schema for the rest of the run, and the reply is text."""
    from tuneforge.llm.openai import OpenAIBackend
    from tuneforge.pipeline._modes import SCHEMAS

    url, model_dir = server
    for via, errors in (("response_format", {}), ("guided_json", {"structured_unsupported": 1})):
        llm = OpenAIBackend(base_url=f"{url}/v1", model=model_dir, timeout=120, max_retries=0, structured=True,
                            structured_via=via)
        try:
            out = llm.generate(["Is sorting a list a classification task? Answer Yes or No."], max_tokens=8,
                               temperature=0.0, schema=SCHEMAS["classification"])
        finally:
            llm.close()
        assert out[0].ok and dict(llm.stats.errors) == errors and llm.structured == (via == "response_format")
