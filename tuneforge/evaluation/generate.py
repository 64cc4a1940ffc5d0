"""Batched greedy generation with left padding (8x faster than one prompt at a time, STACK-NOTES 18)."""
from __future__ import annotations

from typing import Any

from ..text.encode import encode_prompt
from ..text.example import Example
from ..text.templates import Template


def generate_responses(model: Any, tokenizer: Any, template: Template, examples: list[Example],
                       batch_size: int = 64, max_new_tokens: int = 64) -> list[str]:
    """Greedy responses to each example's prompt (everything before its final reply)."""
    import torch

    prompts = [encode_prompt(ex, tokenizer, template) for ex in examples]
    was_training, side = model.training, tokenizer.padding_side
    model.eval()
    tokenizer.padding_side = "left"
    device = next(model.parameters()).device
    outputs: list[str] = []
    try:
        with torch.no_grad():
            for i in range(0, len(prompts), batch_size):
                batch = tokenizer(prompts[i:i + batch_size], return_tensors="pt", padding=True,
                                  add_special_tokens=False).to(device)
                generated = model.generate(**batch, do_sample=False, max_new_tokens=max_new_tokens,
                                           pad_token_id=tokenizer.pad_token_id,
                                           eos_token_id=tokenizer.eos_token_id)
                new_tokens = generated[:, batch["input_ids"].shape[1]:]
                outputs += tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return outputs
