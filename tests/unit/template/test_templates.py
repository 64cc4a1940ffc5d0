"""Templates: spans from rendered prefixes (and their failure without the prefix property), generation
blocks, the named chatml template against the tokenizer's own, template selection, raw text."""
from __future__ import annotations

import pytest

from tests.unit.template._bpe import bpe_tokenizer
from tests.unit.template._chats import CONVERSATIONS
from tuneforge.errors import TuneforgeError
from tuneforge.loss_mask.last_turn import LastTurn
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.template.chat_template import ChatTemplate
from tuneforge.render.encode import IGNORE_INDEX, encode
from tuneforge.data.example import Example
from tuneforge.template.named import TEMPLATES, get_template


@pytest.fixture
def byte_tok():
    from tuneforge.model.byte_tokenizer import byte_tokenizer

    return byte_tokenizer()


def test_named_chatml_equals_the_tokenizer_chat_template(byte_tok):
    for messages in CONVERSATIONS.values():
        a = encode(Example(messages), byte_tok, TEMPLATES["chatml"], MultiTurn(), 10_000)
        b = encode(Example(messages), byte_tok, get_template("chat_template", byte_tok), MultiTurn(), 10_000)
        assert (a.input_ids, a.labels) == (b.input_ids, b.labels)


def test_prefix_spans_without_generation_tags(byte_tok):
    """Without tags, spans come from rendering prefixes: the same tokens as the tags plus the newline
    the template writes after each reply's end marker."""
    plain = bpe_tokenizer(generation_tags=False)
    tagged = bpe_tokenizer()
    for messages in CONVERSATIONS.values():
        a = encode(Example(messages), plain, get_template("auto", plain), MultiTurn(), 10_000)
        b = encode(Example(messages), tagged, get_template("auto", tagged), MultiTurn(), 10_000)
        assert a.input_ids == b.input_ids
        extra = [i for i, (x, y) in enumerate(zip(a.labels, b.labels)) if x != y]
        assert all(b.labels[i] == IGNORE_INDEX and plain.decode([a.input_ids[i]]).startswith("\n")
                   for i in extra)
        assert len(extra) == sum(m["role"] == "assistant" for m in messages)


def test_template_without_prefix_property_fails_clearly(byte_tok):
    byte_tok.chat_template = ("{% for m in messages %}{% if loop.last %}LAST {% endif %}"
                              "{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}")
    with pytest.raises(TuneforgeError, match="prefix property"):
        ChatTemplate(byte_tok).render(CONVERSATIONS["system_multi"])


def test_generation_blocks_must_match_assistant_turns(byte_tok):
    byte_tok.chat_template = ("{% for m in messages %}{% if m['role'] == 'assistant' and loop.last %}"
                              "{% generation %}{{ m['content'] }}{% endgeneration %}{% else %}"
                              "{{ m['content'] }}{% endif %}{% endfor %}")
    with pytest.raises(TuneforgeError, match="generation block"):
        ChatTemplate(byte_tok).render(CONVERSATIONS["system_multi"])


def test_auto_falls_back_to_plain_and_chat_template_requires_one(byte_tok):
    byte_tok.chat_template = None
    assert get_template("auto", byte_tok) is TEMPLATES["plain"]
    with pytest.raises(TuneforgeError, match="no chat template"):
        get_template("chat_template", byte_tok)
    with pytest.raises(TuneforgeError, match="unknown template"):
        get_template("nope", byte_tok)


def test_raw_text_trains_every_token_whatever_the_mask(byte_tok):
    enc = encode(Example.raw("some pretraining text"), byte_tok, TEMPLATES["chatml"], LastTurn(), 10_000)
    assert enc.labels == enc.input_ids
    assert byte_tok.decode(enc.input_ids) == "some pretraining text<|im_end|>"


def test_truncation_flags_and_cuts(byte_tok):
    enc = encode(Example(CONVERSATIONS["single"]), byte_tok, TEMPLATES["plain"], MultiTurn(), 5)
    assert enc.truncated and len(enc.input_ids) == 5 and enc.length > 5
