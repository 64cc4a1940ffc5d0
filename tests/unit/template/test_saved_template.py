"""Train and serve with one template: every template's jinja form, saved with the tokenizer, renders through
`AutoTokenizer.from_pretrained(dir).apply_chat_template` to exactly the tokens training encodes (system
messages, several turns, the generation prompt, eos, tool messages where the template has them); the saved
generation config stops at the template's end-of-reply token."""
from __future__ import annotations

import json

import pytest

from tests.unit.template._bpe import bpe_tokenizer
from tests.unit.template._chats import CONVERSATIONS
from tuneforge.data.example import Example
from tuneforge.errors import TuneforgeError
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.peft._hf import save_tokenizer
from tuneforge.render.encode import encode, encode_prompt
from tuneforge.template.base import use_template
from tuneforge.template.named import get_template

#: A config-defined template (template=jinja) whose replies end with a special token that is not EOS.
JINJA = ("{%- for m in messages %}{%- if m['role'] == 'assistant' %}{{- '>> ' }}{% generation %}"
         "{{- m['content'] + '<|endoftext|>' }}{% endgeneration %}{{- '\\n' }}"
         "{%- else %}{{- '[' + m['role'] + '] ' + m['content'] + '\\n' }}{%- endif %}{%- endfor %}"
         "{%- if add_generation_prompt %}{{- '>> ' }}{%- endif %}")
TOOLS = [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Zürich?"},
         {"role": "assistant", "content": None, "tool_calls": [
             {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Zürich"}'}},
             {"id": "c2", "type": "function", "function": {"name": "time", "arguments": {"tz": "CET"}}}]},
         {"role": "tool", "tool_call_id": "c1", "content": "sunny, 21 °C"},
         {"role": "tool", "tool_call_id": "c2", "content": "14:00"},
         {"role": "assistant", "content": "Sunny and 21 °C at 14:00."}]


def _saved(tmp_path, tokenizer, name: str, **config):
    from transformers import AutoTokenizer

    template = get_template(name, tokenizer, **config)
    use_template(tokenizer, template)
    save_tokenizer(tokenizer, tmp_path / name)
    return template, AutoTokenizer.from_pretrained(tmp_path / name)


@pytest.mark.parametrize("name", ["plain", "alpaca", "chatml", "vicuna", "zephyr", "jinja"])
@pytest.mark.parametrize("tokenizer", ["byte", "bpe"])
def test_saved_template_renders_the_training_tokens(tmp_path, name, tokenizer):
    from tuneforge.model.byte_tokenizer import byte_tokenizer

    tok = byte_tokenizer() if tokenizer == "byte" else bpe_tokenizer()
    template, saved = _saved(tmp_path, tok, name, **({"source": JINJA} if name == "jinja" else {}))
    conversations = [*CONVERSATIONS.values(), *([TOOLS] if name == "chatml" else [])]
    for messages in conversations:
        trained = encode(Example(messages), tok, template, MultiTurn(), 10_000).input_ids
        served = saved.apply_chat_template(messages, tokenize=True, return_dict=False)
        assert served == trained, (name, messages)
        prompt = Example(messages).prompt_messages
        expected = tok(encode_prompt(Example(messages), tok, template), add_special_tokens=False)["input_ids"]
        assert saved.apply_chat_template(prompt, tokenize=True, add_generation_prompt=True,
                                         return_dict=False) == expected


def test_templates_without_tools_refuse_them_alike(tmp_path, byte_tokenizer):
    from jinja2.exceptions import TemplateError

    chatml, _ = _saved(tmp_path, byte_tokenizer, "chatml")
    text, spans = chatml.render(TOOLS, eos=byte_tokenizer.eos_token)
    assert "<|im_start|>tool\nsunny, 21 °C<|im_end|>\n" in text
    assert '<tool_call>\n{"name": "time", "arguments": {"tz": "CET"}}\n</tool_call><|im_end|>' in text
    assert [s.role for s in spans] == [m["role"] for m in TOOLS]
    for name in ("plain", "alpaca"):
        template, saved = _saved(tmp_path, byte_tokenizer, name)
        for messages in (TOOLS[3:], TOOLS[1:3]):  # a tool message; an assistant message with tool_calls
            with pytest.raises(TuneforgeError, match="has no role 'tool'"):
                template.render(messages, eos="</s>")
            with pytest.raises(TemplateError, match="has no role 'tool'"):
                saved.apply_chat_template(messages, tokenize=False)


@pytest.mark.parametrize(("name", "stops"), [("plain", ["<|im_end|>"]), ("chatml", ["<|im_end|>"]),
                                             ("jinja", ["<|endoftext|>", "<|im_end|>"])])
def test_generation_config_stops_at_the_template_end_of_reply(tmp_path, byte_tokenizer, name, stops):
    _saved(tmp_path, byte_tokenizer, name, **({"source": JINJA} if name == "jinja" else {}))
    config = json.loads((tmp_path / name / "generation_config.json").read_text())
    eos = config["eos_token_id"] if isinstance(config["eos_token_id"], list) else [config["eos_token_id"]]
    assert eos == byte_tokenizer.convert_tokens_to_ids(stops)
    assert config["pad_token_id"] == byte_tokenizer.pad_token_id
