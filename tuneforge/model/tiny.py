"""A small Llama-style model built from a config (random init) with the byte-level tokenizer."""
from __future__ import annotations

from typing import Any

from tuneforge.model.base import finish
from tuneforge.registry import register


@register("model", "tiny")
class TinyModel:
    """Llama architecture built from config, byte-level tokenizer; nothing is downloaded. Built in
    memory, it ignores a quantisation request: QLoRA quantises it after building."""

    def __init__(self, hidden_size: int = 128, num_layers: int = 4, num_heads: int = 4,
                 num_kv_heads: int | None = None, intermediate_size: int = 512,
                 max_position_embeddings: int = 512, tie_word_embeddings: bool = True,
                 attn_implementation: str = "sdpa", gradient_checkpointing: bool = False):
        self.kw = dict(hidden_size=hidden_size, num_hidden_layers=num_layers,
                       num_attention_heads=num_heads, num_key_value_heads=num_kv_heads or num_heads,
                       intermediate_size=intermediate_size,
                       max_position_embeddings=max_position_embeddings,
                       tie_word_embeddings=tie_word_embeddings)
        self.attn_implementation, self.gradient_checkpointing = attn_implementation, gradient_checkpointing

    def build_tokenizer(self):  # noqa: ANN201 (transformers type)
        from tuneforge.model.byte_tokenizer import byte_tokenizer

        return byte_tokenizer()

    def model_config(self, tokenizer: Any = None) -> Any:
        from transformers import LlamaConfig

        tokenizer = tokenizer or self.build_tokenizer()
        config = LlamaConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                             eos_token_id=tokenizer.eos_token_id, bos_token_id=None, **self.kw)
        config._attn_implementation = self.attn_implementation
        return config

    def build(self, quantization: Any = None):  # noqa: ANN201 (transformers types)
        from transformers import LlamaForCausalLM

        tokenizer = self.build_tokenizer()
        model = LlamaForCausalLM(self.model_config(tokenizer))
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.generation_config.eos_token_id = tokenizer.eos_token_id
        return finish(model, self.gradient_checkpointing), tokenizer
