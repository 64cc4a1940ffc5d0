"""A record the template cannot render (UnrenderableMessage, whatever its wording) is a counted reject; any
other template failure stops the run. The cyclic collector is off while encoding only, never while building."""
from __future__ import annotations

import gc
import pickle

import pytest

from tuneforge.data.base import LoaderSettings
from tuneforge.data.example import Example
from tuneforge.errors import TuneforgeError
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.render.prepare import encode_split, prepare_data
from tuneforge.template.base import UnrenderableMessage, UnsupportedRole
from tuneforge.template.chat_template import ChatTemplate
from tuneforge.template.named import TEMPLATES

#: Refuses tool messages with its own words (as chat templates do: "roles must alternate", ...).
NO_TOOLS = ("{%- for m in messages %}{%- if m['role'] == 'tool' %}{{ raise_exception('tools are not welcome') }}"
            "{%- endif %}{{- m['role'] ~ ': ' ~ m['content'] ~ eos_token ~ '\\n' }}{%- endfor %}"
            "{%- if add_generation_prompt %}{{- 'assistant: ' }}{%- endif %}")
#: Renders the number of messages first: no prefix of the conversation renders as a prefix of the whole.
NO_PREFIX = "{{- messages | length }}{%- for m in messages %}{{- m['content'] }}{%- endfor %}"
#: Skips an assistant message without content: fewer generation blocks than assistant turns.
SKIPS_EMPTY = ("{%- for m in messages %}{%- if m['role'] == 'assistant' %}{%- if m['content'] %}{% generation %}"
               "{{- m['content'] }}{% endgeneration %}{%- endif %}{%- else %}{{- m['content'] }}{%- endif %}"
               "{%- endfor %}")


def chat(*extra):
    return [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, *extra]


def test_a_chat_templates_refusal_is_a_counted_reject_and_other_failures_stop(byte_tokenizer):
    examples = [Example(chat()), Example(chat({"role": "tool", "content": "r"}), {"file": "d.jsonl", "line": 2}),
                Example(chat())]
    settings = LoaderSettings(max_length=256)
    kept, stats = encode_split(examples, byte_tokenizer, ChatTemplate(byte_tokenizer, NO_TOOLS), MultiTurn(),
                               settings)
    assert (len(kept), stats.kept_index, dict(stats.dropped)) == (2, [0, 2], {"unrenderable": 1})
    (reject,) = stats.rejects
    assert (reject["file"], reject["line"], reject["kind"]) == ("d.jsonl", 2, "unrenderable")
    assert "tools are not welcome" in reject["reason"]
    with pytest.raises(TuneforgeError, match="d.jsonl:2: .*tools are not welcome"):
        encode_split(examples, byte_tokenizer, ChatTemplate(byte_tokenizer, NO_TOOLS), MultiTurn(), settings,
                     strict=True)
    with pytest.raises(TuneforgeError, match="prefix property") as err:  # the template's fault: the run stops
        encode_split(examples, byte_tokenizer, ChatTemplate(byte_tokenizer, NO_PREFIX), MultiTurn(), settings)
    assert not isinstance(err.value, UnrenderableMessage)


def test_templates_raise_unrenderable_errors_that_keep_their_kind_across_processes(byte_tokenizer):
    for error in (UnrenderableMessage("x"), UnsupportedRole("y")):
        again = pickle.loads(pickle.dumps(error))  # how encoding workers return a record's failure
        assert (type(again), again.kind, str(again)) == (type(error), error.kind, str(error))
    with pytest.raises(UnsupportedRole, match="has no role 'tool'"):
        TEMPLATES["alpaca"].render(chat({"role": "tool", "content": "r"}), eos="</s>")
    with pytest.raises(UnrenderableMessage, match="1 generation block.* for 2 assistant turn"):
        ChatTemplate(byte_tokenizer, SKIPS_EMPTY).render(chat({"role": "user", "content": "q2"},
                                                              {"role": "assistant", "content": ""}))


class _Recorder:
    """A builder and a template that note whether the cyclic collector is on when they run."""

    def __init__(self):
        self.seen = {}

    def build(self):
        self.seen["build"] = gc.isenabled()
        return {"train": [Example(chat()) for _ in range(3)], "val": []}

    def render(self, messages, **kw):
        self.seen["encode"] = gc.isenabled()
        return TEMPLATES["plain"].render(messages, **kw)


def test_the_collector_is_off_while_encoding_only(byte_tokenizer):
    recorder = _Recorder()
    assert gc.isenabled()
    data = prepare_data(recorder, byte_tokenizer, recorder, MultiTurn(), LoaderSettings(cache=False))
    assert data.metrics["data/kept"] == 3
    assert recorder.seen == {"build": True, "encode": False} and gc.isenabled()


class _ToolChats:
    def build(self):
        return {"train": [Example(chat({"role": "tool", "content": "r"})) for _ in range(2)], "val": []}


def test_when_no_record_renders_the_error_names_the_first_reason(byte_tokenizer):
    with pytest.raises(TuneforgeError, match=r"no training examples left \(read 2, rejected 2; first: <train>:1: "
                                             r"the chat_template template failed .*tools are not welcome"):
        prepare_data(_ToolChats(), byte_tokenizer, ChatTemplate(byte_tokenizer, NO_TOOLS), MultiTurn(),
                     LoaderSettings(cache=False))
