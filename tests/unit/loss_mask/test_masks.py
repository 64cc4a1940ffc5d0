"""Loss masks on real tokenizers: agreement with transformers' `return_assistant_tokens_mask` (what TRL's
assistant_only_loss trains), every loss_mask on single- and multi-turn data, named templates, EOS when
pad == EOS, prefix-derived spans and their failure."""
from __future__ import annotations

import pytest

from tests.unit.template._bpe import CHATML_GEN, bpe_tokenizer
from tests.unit.template._chats import CONVERSATIONS, trained_text
from tuneforge.data.example import Example
from tuneforge.loss_mask.full import Full
from tuneforge.loss_mask.last_turn import LastTurn
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.render.encode import IGNORE_INDEX, encode
from tuneforge.template.named import TEMPLATES, get_template


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


@pytest.fixture
def byte_tok():
    return tokenizers()["byte"]


def test_each_mask_on_multi_turn(byte_tok):
    messages = CONVERSATIONS["system_multi"]
    template = get_template("chat_template", byte_tok)
    enc = {name: encode(Example(messages), byte_tok, template, masker, 10_000)
           for name, masker in {"multi": MultiTurn(), "last": LastTurn(), "full": Full()}.items()}
    assert trained_text(byte_tok, enc["multi"]) == "hi<|im_end|>fine, thanks<|im_end|>"
    assert trained_text(byte_tok, enc["last"]) == "fine, thanks<|im_end|>"
    assert enc["full"].labels == enc["full"].input_ids


def test_output_only_is_multi_turn_under_the_seeds_name(compose):
    """`loss_mask=output_only` (the default) is a config alias: the option selects multi_turn."""
    from tuneforge import binding, registry

    masker = binding.build("loss_masker", compose("train", ["loss_mask=output_only"]).loss_mask, "loss_mask")
    assert type(masker) is MultiTurn
    assert "output_only" not in {e.name for e in registry.entries("loss_masker")}  # no second module


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


def test_eos_label_survives_padding_when_pad_equals_eos(byte_tok):
    """Padding positions get -100 from the collator, the real EOS keeps its label."""
    from tuneforge.render.collate import Collator

    short, long = (encode(Example(CONVERSATIONS[n]), byte_tok, get_template("chat_template", byte_tok),
                          MultiTurn(), 10_000) for n in ("single", "system_multi"))
    batch = Collator(byte_tok.pad_token_id)([short, long])
    eos, n = byte_tok.eos_token_id, len(short.input_ids)
    row_ids, row_labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    assert row_ids[n:] == [eos] * (len(row_ids) - n) and row_labels[n:] == [IGNORE_INDEX] * (len(row_ids) - n)
    assert row_labels[:n] == short.labels and eos in short.labels
