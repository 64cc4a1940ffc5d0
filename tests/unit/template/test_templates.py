"""Templates: every option of the `template` kind renders a two-turn conversation with a span over each
reply; spans from rendered prefixes (and their failure without the prefix property), generation blocks, the
role-based chatml against the tokenizer's own, `auto` / `chat_template` selection, a jinja template from
config (free-form P-tuning's placeholders in it), `tuneforge ls template`, raw text."""
from __future__ import annotations

import pytest

from tests.unit.template._bpe import CHATML_GEN, CHATML_PLAIN, bpe_tokenizer
from tests.unit.template._chats import CONVERSATIONS, trained_text
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


TWO_TURNS = [{"role": "user", "content": "reverse abc"}, {"role": "assistant", "content": "cba"},
             {"role": "user", "content": "and dog?"}, {"role": "assistant", "content": "god"}]
#: What each option needs beyond the tokenizer (jinja: a template written in config).
CONFIG = {"jinja": {"source": CHATML_PLAIN}}


def all_options() -> list[str]:
    from tuneforge.registry import entries

    return [e.name for e in entries("template")]


def test_every_option_is_a_registered_component_with_a_config_file():
    from tuneforge.config.paths import CONF_DIR

    names = all_options()
    assert {"plain", "alpaca", "chatml", "vicuna", "zephyr", "chat_template", "auto", "jinja"} <= set(names)
    assert set(names) <= {p.stem for p in (CONF_DIR / "template").glob("*.yaml")}


@pytest.mark.parametrize("name", all_options())
def test_every_option_spans_each_reply_of_two_turns(name, byte_tok):
    template = get_template(name, byte_tok, **CONFIG.get(name, {}))
    text, spans = template.render(TWO_TURNS, eos=byte_tok.eos_token, bos="")
    replies = [s for s in spans if s.role == "assistant"]
    assert [s.turn for s in replies] == [1, 3]
    for span in replies:
        covered = text[span.start:span.end]
        assert covered.startswith(TWO_TURNS[span.turn]["content"])  # the reply, then its end marker
        assert "user" not in covered and "reverse" not in covered and "dog?" not in covered
    ends = [(s.start, s.end) for s in spans]
    assert all(a[1] <= b[0] for a, b in zip(ends, ends[1:]))  # in order, never overlapping
    enc = encode(Example(TWO_TURNS), byte_tok, template, MultiTurn(), 10_000)
    assert trained_text(byte_tok, enc).startswith("cba") and "god" in trained_text(byte_tok, enc)


def test_jinja_from_config_renders_like_the_same_tokenizer_template(byte_tok):
    """`template=jinja` takes the span logic of the tokenizer's own template (tags or prefixes), not a copy."""
    tagged = bpe_tokenizer()
    for messages in CONVERSATIONS.values():
        own = encode(Example(messages), tagged, get_template("chat_template", tagged), MultiTurn(), 10_000)
        written = encode(Example(messages), tagged, get_template("jinja", tagged, source=CHATML_GEN), MultiTurn(),
                         10_000)
        assert (own.input_ids, own.labels) == (written.input_ids, written.labels)
    assert get_template("jinja", byte_tok, source=CHATML_GEN).name == "jinja"


@pytest.mark.parametrize("source,problem", [("", "empty"), ("{% for m in messages %}", "syntax error")])
def test_jinja_source_problems_are_reported_at_build(byte_tok, source, problem):
    from tuneforge.errors import ConfigError

    with pytest.raises(ConfigError, match=problem) as err:
        get_template("jinja", byte_tok, source=source)
    assert err.value.issues[0].path == "template.source"


def test_jinja_places_free_form_ptuning_placeholders_as_context(byte_tok):
    """A prompt template written in config may hold peft=ptuning_free's placeholder: each one a single
    (added) token of the prompt, never trained."""
    from tuneforge.peft.ptuning_free import FreeFormPTuning

    pid = FreeFormPTuning(num_virtual_tokens=3).placeholder_id(byte_tok)
    source = ("{% for m in messages %}{% if m['role'] == 'assistant' %}{{ m['content'] + eos_token }}"
              "{% else %}<|v|><|v|>Input: {{ m['content'] }}<|v|> Output: {% endif %}{% endfor %}")
    template = get_template("jinja", byte_tok, source=source)
    enc = encode(Example(CONVERSATIONS["single"]), byte_tok, template, MultiTurn(), 10_000)
    positions = [i for i, t in enumerate(enc.input_ids) if t == pid]
    assert len(positions) == 3 and all(enc.labels[i] == IGNORE_INDEX for i in positions)
    assert trained_text(byte_tok, enc) == "cba<|im_end|>"


def test_ls_lists_every_template(capsys):
    from tuneforge.commands.ls import main

    main(["template"])
    out = capsys.readouterr().out
    for name in all_options():
        assert f"│ {name} " in out
    assert "│ template " in out and "│ lora " not in out
