"""Greedy `generate()` (with its KV cache) must match step-by-step full forward passes (argmax of the
whole model on the growing sequence) for every PEFT method: on transformers 5.24 with peft 0.21 it does
not for prefix tuning, prompt tuning and P-tuning (peft passes `past_key_values`, renamed `cache`)."""
from __future__ import annotations


import pytest

from tests.conftest import make_tiny

SMALL = {"lora": {"r": 4}, "dora": {"r": 4}, "adalora": {"init_r": 4, "target_r": 2}, "qlora": {"r": 4},
         "adapter": {"r": 4}, "prefix": {"num_virtual_tokens": 4, "encoder_hidden_size": 16},
         "prompt": {"num_virtual_tokens": 4, "init_text": "Answer briefly."},
         "ptuning": {"num_virtual_tokens": 4, "encoder_hidden_size": 16}, "freeze": {"layers": [0]},
         "ptuning_free": {"num_virtual_tokens": 4, "encoder_hidden_size": 16}}
METHODS = ["full", "lora", "dora", "ia3", "adalora", "qlora", "freeze", "adapter", "prefix", "prompt",
           "ptuning", "ptuning_free"]
TEXTS = ["<|im_start|>user\nreverse: stone<|im_end|>\n", "sort the letters: kiwi ->"]
FREE_TEXTS = ["<|v|><|v|>reverse: stone<|v|>", "<|v|>sort: kiwi<|v|><|v|> ->"]


def build_method(name: str):
    from tuneforge import binding

    from tuneforge.config.app import compose_option

    node = compose_option("peft", name) | SMALL.get(name, {})  # the option as Hydra composes it
    return binding.build("peft", node, "peft")


def perturbed(name: str, tokenizer):
    """The method applied to a small model, its trainable tensors moved away from their (often
    identity) initialisation, in eval mode."""
    import torch

    model, _ = make_tiny(hidden_size=64, num_heads=4)
    method = build_method(name)
    model = method.apply(model, tokenizer)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=gen) * 0.2)
    return model.eval()


def step_by_step(model, ids, steps: int):
    import torch

    seq, logits = ids, []
    with torch.no_grad():
        for _ in range(steps):
            last = model(input_ids=seq, attention_mask=torch.ones_like(seq), use_cache=False).logits[:, -1]
            logits.append(last)
            seq = torch.cat([seq, last.argmax(-1, keepdim=True)], dim=1)
    return seq[:, ids.shape[1]:], torch.stack(logits, 1)


@pytest.mark.parametrize("method", METHODS)
def test_greedy_generate_matches_full_forward(method, byte_tokenizer):
    import torch

    model = perturbed(method, byte_tokenizer)
    base, _ = make_tiny(hidden_size=64, num_heads=4)
    base.resize_token_embeddings(len(byte_tokenizer), mean_resizing=False)  # ptuning_free adds a token
    for text in FREE_TEXTS if method == "ptuning_free" else TEXTS:
        ids = byte_tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8,
                                 do_sample=False, output_scores=True, return_dict_in_generate=True,
                                 eos_token_id=None, pad_token_id=byte_tokenizer.pad_token_id)
        generated = out.sequences[:, ids.shape[1]:]
        expected, expected_logits = step_by_step(model, ids, generated.shape[1])
        assert generated.shape[1] == 8
        with torch.no_grad():  # the method really changes the model (else the test proves nothing)
            assert (base(input_ids=ids).logits[:, -1] - expected_logits[:, 0]).abs().max() > 1e-3
        assert torch.equal(generated, expected), (method, generated, expected)
        scores = torch.stack(out.scores, 1)
        diff = (scores - expected_logits).abs().max().item()
        print(f"{method}: max |generate score - full forward logit| = {diff:.1e}")
        assert diff < 1e-4, (method, diff)
