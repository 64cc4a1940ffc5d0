"""SmolLM2-135M-Instruct as the chat teacher through the local `hf` backend (its chat template: chat
mode): Self-Instruct toward 10 instructions (one batch) and one Evol-Instruct round run on the real model, end with
their target or a stated reason, keep nothing of the chat wrapping, and record every drop with its
filter and reason (tests/real/chat_round.py). Each test stays under about 3 minutes on 2 cores."""
from __future__ import annotations

import pytest

from tests.real.chat_round import EVOL, SELF_INSTRUCT, check_evol_round, check_self_instruct, run_round
from tests.real.conftest import requires_smollm2

pytestmark = [pytest.mark.slow, requires_smollm2]


def hf(model_dir) -> list[str]:
    return ["llm=hf", f"llm.model={model_dir}", "llm.threads=1", "llm.batch_size=8", "llm.max_new_tokens=160"]


def test_self_instruct_round_with_smollm2_teacher(smollm2_dir, compose, tmp_path):
    figures = run_round(compose, tmp_path, [*hf(smollm2_dir), *SELF_INSTRUCT, "pipeline.batch_size=8",
                                            "pipeline.instruction_max_tokens=160", "pipeline.max_batches=1"])
    check_self_instruct(figures)
    assert figures["prompts"].get("classification", 0) > 0 and figures["prompts"].get("instance_generation", 0) > 0


def test_evol_instruct_round_with_smollm2_teacher(smollm2_dir, compose, tmp_path):
    figures = run_round(compose, tmp_path, [*hf(smollm2_dir), *EVOL, "pipeline.num_instructions=3"])
    check_evol_round(figures, tmp_path, sources=3)
