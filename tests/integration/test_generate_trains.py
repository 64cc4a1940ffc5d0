"""What `generate` writes is what `train data=alpaca` reads: every record becomes a training example."""
from __future__ import annotations

from tests.servers.openai_server import OpenAITestServer
from tests.servers.scripts import SyntheticLLM


def test_generated_file_loads_with_the_alpaca_builder(compose, tmp_path):
    from tuneforge.config.assemble import assemble
    from tuneforge.config.app import with_run_dir
    from tuneforge.commands.generate import generate

    with OpenAITestServer(reply=SyntheticLLM(seed=5)) as server:
        generate(compose("generate", [f"llm.base_url={server.base_url}", "pipeline.num_instructions=20",
                                      f"run_dir={tmp_path}"]))
    cfg = compose("train", ["data=alpaca", f"data.path={tmp_path / 'generated.jsonl'}", "data.val_fraction=0.1"])
    splits = assemble("train", with_run_dir(cfg)).stages[0].data.build()
    examples = splits["train"] + splits.get("val", [])
    assert len(examples) == 20
    assert all(ex.messages[-1]["role"] == "assistant" and ex.reference for ex in examples)
