"""Self-Instruct with the local `hf` backend on a tiny random model: every stage runs, every drop
has a reason, and the run stops with a clear reason instead of looping (quality aside)."""
from __future__ import annotations

import json

import pytest

from tuneforge.llm.hf import HFBackend
from tuneforge.pipeline.base import Stalled


@pytest.fixture
def short_replies(monkeypatch):
    """A random model almost never emits EOS, so every reply would hit max_new_tokens and be dropped
    as truncated; raise the EOS logit (as training would) so that replies end on their own."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # OpenMP spin contention on a busy 2-core machine
    load = HFBackend.load

    def patched(self):
        model, tok = load(self)
        if not getattr(model, "_eos_hook", False):
            eos = tok.eos_token_id

            def hook(module, args, out):
                out[..., eos] += 1.5  # the EOS (= pad) row is zero: its logit is 0
                return out

            model.lm_head.register_forward_hook(hook)
            model._eos_hook = True
        return model, tok

    monkeypatch.setattr(HFBackend, "load", patched)
    yield
    torch.set_num_threads(threads)


def test_self_instruct_on_tiny_hf_model(compose, tmp_path, short_replies):
    from tuneforge.commands.generate import generate

    cfg = compose("generate", ["llm=hf", "llm.max_new_tokens=24", "llm.batch_size=8", "llm.temperature=1.0",
                               "filters=[dedup_exact,output_format]", "pipeline.num_instructions=3",
                               "pipeline.batch_size=4", "pipeline.max_stall_batches=2", f"run_dir={tmp_path}"])
    with pytest.raises(Stalled, match="kept nothing"):
        generate(cfg)
    stats = json.loads((tmp_path / "generate_stats.json").read_text())
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert stats["model"] == "tiny" and stats["llm"]["requests"] > 0 and stats["llm"]["failures"] == 0
    # instruction generation, classification and instance generation all ran on the model
    assert all(stats["prompts"].get(s, 0) > 0 for s in ("instruction_generation", "classification",
                                                         "instance_generation"))
    assert rejects and all(r["filter"] and r["reason"] for r in rejects)
    assert sum(stats["dropped"].values()) == len(rejects) and "stopped" in stats["stopped"]
