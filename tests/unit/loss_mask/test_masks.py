"""Loss masks on real tokenizers: agreement with transformers' `return_assistant_tokens_mask` (what TRL's
assistant_only_loss trains), every loss_mask on single- and multi-turn data, named templates, EOS when
pad == EOS, prefix-derived spans and their failure."""
from __future__ import annotations

import pytest

from tests.unit.text._bpe import CHATML_GEN, bpe_tokenizer
from tuneforge.errors import TuneforgeError
from tuneforge.loss_mask.full import Full
from tuneforge.loss_mask.last_turn import LastTurn
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.loss_mask.output_only import OutputOnly
from tuneforge.text.chat_template import ChatTemplate
from tuneforge.text.encode import IGNORE_INDEX, encode
from tuneforge.text.example import Example
from tuneforge.text.templates import TEMPLATES, get_template

U, A, S = "user", "assistant", "system"


def conv(*turns: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": r, "content": c} for r, c in turns]


CONVERSATIONS = {
    "single": conv((U, "reverse abc"), (A, "cba")),
    "system_multi": conv((S, "You are terse."), (U, "hello there"), (A, "hi"), (U, "how are you today?"),
                         (A, "fine, thanks")),
    "repeats_user": conv((U, "hello there"), (A, "hello there"), (U, "hello"), (A, "hello there")),
    "reply_in_system": conv((S, "answer: the quick brown fox"), (U, "answer"), (A, "the quick brown fox")),
    "empty_turns": conv((U, ""), (A, ""), (U, "say something"), (A, "something")),
    "unicode": conv((U, "naïve café über"), (A, "東京 😀 straße"), (U, "😀"), (A, "é")),
    "newlines": conv((U, "two\nlines"), (A, "\n leading space and\ntrailing \n")),
}


def tokenizers():
    from tuneforge.model.byte_tokenizer import byte_tokenizer

    return {"byte": byte_tokenizer(), "bpe": bpe_tokenizer()}


def hf_assistant_mask(tok, messages):
    out = tok.apply_chat_template(messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    return list(out["input_ids"]), list(out["assistant_masks"])


@pytest.mark.parametrize("tok_name", ["byte", "bpe"])
@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_multi_turn_equals_return_assistant_tokens_mask(tok_name, name):
    tok = tokenizers()[tok_name]
    messages = CONVERSATIONS[name]
    enc = encode(Example(messages), tok, get_template("chat_template", tok), MultiTurn(), max_length=10_000)
    ids, mask = hf_assistant_mask(tok, messages)
    assert enc.input_ids == ids
    assert [int(label != IGNORE_INDEX) for label in enc.labels] == mask
    assert all(label in (IGNORE_INDEX, t) for label, t in zip(enc.labels, enc.input_ids))


def test_bpe_fixture_has_tokens_straddling_a_reply_start():
    """The agreement test above is not vacuous: the trained BPE merges across the header/reply boundary."""
    from transformers.utils.chat_template_utils import render_jinja_template

    tok = bpe_tokenizer()
    straddles = 0
    for messages in CONVERSATIONS.values():
        text, blocks = render_jinja_template(conversations=[messages], chat_template=CHATML_GEN,
                                             return_assistant_tokens_mask=True, **tok.special_tokens_map)
        offsets = tok(text[0], add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        straddles += sum(1 for s, _ in blocks[0] for a, b in offsets if a < s < b)
    assert straddles > 0


def trained_text(tok, enc) -> str:
    return tok.decode([t for t, label in zip(enc.input_ids, enc.labels) if label != IGNORE_INDEX])


@pytest.fixture
def byte_tok():
    return tokenizers()["byte"]


def test_each_mask_on_multi_turn(byte_tok):
    messages = CONVERSATIONS["system_multi"]
    template = get_template("chat_template", byte_tok)
    enc = {name: encode(Example(messages), byte_tok, template, masker, 10_000)
           for name, masker in {"multi": MultiTurn(), "last": LastTurn(), "full": Full(),
                                "output_only": OutputOnly()}.items()}
    assert trained_text(byte_tok, enc["multi"]) == "hi<|im_end|>fine, thanks<|im_end|>"
    assert trained_text(byte_tok, enc["last"]) == "fine, thanks<|im_end|>"
    assert enc["full"].labels == enc["full"].input_ids
    assert enc["output_only"].labels == enc["multi"].labels  # the documented alias


def test_each_mask_on_single_turn(byte_tok):
    messages = CONVERSATIONS["single"]
    template = get_template("chat_template", byte_tok)
    multi, last = (encode(Example(messages), byte_tok, template, m, 10_000) for m in (MultiTurn(), LastTurn()))
    assert multi.labels == last.labels
    assert trained_text(byte_tok, multi) == "cba<|im_end|>"


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_named_templates_train_each_reply_with_its_end_marker(byte_tok, name):
    template = TEMPLATES[name]
    messages = CONVERSATIONS["repeats_user"]
    enc = encode(Example(messages), byte_tok, template, MultiTurn(), 10_000)
    eos = byte_tok.eos_token
    suffix = template.roles["assistant"][1].replace("{eos}", eos)
    assert trained_text(byte_tok, enc) == "hello there" + suffix + "hello there" + suffix
    last = encode(Example(messages), byte_tok, template, LastTurn(), 10_000)
    assert trained_text(byte_tok, last) == "hello there" + suffix


def test_eos_is_trained_when_pad_equals_eos(byte_tok):
    assert byte_tok.pad_token_id == byte_tok.eos_token_id
    enc = encode(Example(CONVERSATIONS["single"]), byte_tok, TEMPLATES["plain"], MultiTurn(), 10_000)
    assert enc.input_ids[-1] == byte_tok.eos_token_id and enc.labels[-1] == byte_tok.eos_token_id


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
