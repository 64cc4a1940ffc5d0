"""A small byte-level BPE tokenizer trained in the test session (merges across letters and spaces, so
tokens straddle turn boundaries), with a ChatML template carrying `{% generation %}` tags and, as a
variant, the same template without the tags. Pad == EOS == `<|im_end|>`."""
from __future__ import annotations

from functools import lru_cache

CHATML_GEN = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}{% generation %}{{- message['content'] + '<|im_end|>' }}"
    "{% endgeneration %}{{- '\\n' }}"
    "{%- else %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
CHATML_PLAIN = CHATML_GEN.replace("{% generation %}", "").replace("{% endgeneration %}", "")

CORPUS = [
    "the quick brown fox jumps over the lazy dog", "hello there, how are you today?",
    "user assistant system answer question reply", "naïve café über straße 東京 😀 emoji",
    "reverse the word and sort the letters", "1 + 1 = 2, 2 + 2 = 4",
    # rendered turns, so that merges cross the header / reply boundary ("assistant\nhe", ...)
    "assistant\nhello there", "assistant\nhi", "assistant\nthe quick", "user\nhello", "assistant\nfine",
] * 20


@lru_cache(maxsize=1)
def _tokenizer_json() -> str:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    return tok.to_str()


def bpe_tokenizer(generation_tags: bool = True):  # noqa: ANN201
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(_tokenizer_json()),
                                  eos_token="<|im_end|>", pad_token="<|im_end|>",
                                  additional_special_tokens=["<|endoftext|>", "<|im_start|>"])
    tok.chat_template = CHATML_GEN if generation_tags else CHATML_PLAIN
    return tok
