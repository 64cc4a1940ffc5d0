"""The per-turn rules on top of every loss mask, on real tokenizers: a message's `train` flag overrides the
masker for its turn (labels checked position by position against transformers' own generation blocks), tool
output is never trained, and a template without the tool role rejects such records with a counted reason."""
from __future__ import annotations

import pytest

from tests.unit.template._bpe import CHATML_GEN, bpe_tokenizer
from tests.unit.template._chats import CONVERSATIONS, trained_text
from tuneforge.data.example import Example
from tuneforge.loss_mask.full import Full
from tuneforge.loss_mask.last_turn import LastTurn
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.render.encode import IGNORE_INDEX, encode
from tuneforge.template.named import get_template

CALL = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Oslo\"}"}}
TOOL_CHAT = [{"role": "user", "content": "Weather?"},
             {"role": "assistant", "content": "", "tool_calls": [CALL]},
             {"role": "tool", "tool_call_id": "c1", "content": "12C"},
             {"role": "assistant", "content": "It is 12C.", "train": False},
             {"role": "user", "content": "Thanks"},
             {"role": "assistant", "content": "Welcome."}]


def expected_labels(tok, messages, trained_blocks):
    """Labels from transformers' own generation blocks: a token is trained iff it overlaps a chosen block."""
    from transformers.utils.chat_template_utils import render_jinja_template

    text, blocks = render_jinja_template(conversations=[messages], chat_template=CHATML_GEN,
                                         return_assistant_tokens_mask=True, **tok.special_tokens_map)
    chosen = [blocks[0][i] for i in trained_blocks]
    enc = tok(text[0], add_special_tokens=False, return_offsets_mapping=True)
    return [t if any(a < e and s < max(b, a + 1) for s, e in chosen) else IGNORE_INDEX
            for t, (a, b) in zip(enc["input_ids"], enc["offset_mapping"])]


@pytest.mark.parametrize("masker,flags,blocks", [
    (MultiTurn(), {2: False}, [1]),  # the first reply masked: only the second trained
    (LastTurn(), {2: True}, [0, 1]),  # the first reply forced: both trained
    (LastTurn(), {4: False}, []),  # the only trained turn masked: nothing left
    (MultiTurn(), {2: True, 4: True}, [0, 1]),  # a flag equal to the mask changes nothing
])
def test_train_flag_overrides_the_mask_per_turn(masker, flags, blocks):
    tok = bpe_tokenizer()
    messages = [dict(m, **({"train": flags[i]} if i in flags else {}))
                for i, m in enumerate(CONVERSATIONS["system_multi"])]
    enc = encode(Example(messages), tok, get_template("chat_template", tok), masker, max_length=10_000)
    assert enc.labels == expected_labels(tok, CONVERSATIONS["system_multi"], blocks)


def test_tool_output_is_never_trained_and_flags_hold_under_every_mask(byte_tokenizer):
    template = get_template("chatml", byte_tokenizer)
    trained = {}
    for name, masker in {"multi": MultiTurn(), "last": LastTurn(), "full": Full()}.items():
        enc = encode(Example(TOOL_CHAT), byte_tokenizer, template, masker, 10_000)
        assert all(label in (IGNORE_INDEX, t) for label, t in zip(enc.labels, enc.input_ids))
        trained[name] = trained_text(byte_tokenizer, enc)
    call = '<tool_call>\n{"name": "weather", "arguments": {"city": "Oslo"}}\n</tool_call><|im_end|>'
    assert trained["multi"] == call + "Welcome.<|im_end|>"
    assert trained["last"] == "Welcome.<|im_end|>"
    assert "12C" not in trained["full"] and "It is" not in trained["full"]
    assert trained["full"].startswith("<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n" + call)
    assert "<|im_start|>tool\n<|im_start|>assistant\n" in trained["full"]  # headers trained, tool text not


def test_a_template_without_the_tool_role_rejects_the_record_with_a_counted_reason(tmp_path, byte_tokenizer):
    import json

    from tuneforge.binding import build
    from tuneforge.data.base import LoaderSettings
    from tuneforge.render.prepare import prepare_data

    plain = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"messages": m}) + "\n" for m in (plain, TOOL_CHAT, plain)))
    builder = build("data_builder", {"name": "dialogue", "path": str(path), "val_fraction": 0.0}, "data")
    data = prepare_data(builder, byte_tokenizer, get_template("alpaca", byte_tokenizer), MultiTurn(),
                        LoaderSettings(max_length=512), tmp_path / "run")
    m = data.metrics
    assert (m["data/read"], m["data/kept"], m["data/rejected/unsupported_role"]) == (3, 2, 1)
    reject = json.loads((tmp_path / "run" / "rejects.jsonl").read_text())
    assert (reject["line"], reject["kind"]) == (2, "unsupported_role") and "has no role" in reject["reason"]
    kept = prepare_data(builder, byte_tokenizer, get_template("chatml", byte_tokenizer), MultiTurn(),
                        LoaderSettings(max_length=512), tmp_path / "run2")
    assert kept.metrics["data/kept"] == 3 and kept.metrics["data/rejected"] == 0
