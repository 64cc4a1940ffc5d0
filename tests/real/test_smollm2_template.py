"""SmolLM2's own chat template under the multi_turn / output_only masks: pad == EOS,
the default system prompt is injected, the trained tokens are exactly each reply + `<|im_end|>` (+ the
newline the template writes after it, docs/data.md), and with `{% generation %}` tags added to the same
template the masks equal transformers' assistant-token mask. Generation prompts are the training text
up to the reply, token for token."""
from __future__ import annotations

import pytest

from tests.real.conftest import requires_smollm2
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.render.encode import IGNORE_INDEX, encode, encode_prompt
from tuneforge.data.example import Example
from tuneforge.template.named import get_template

pytestmark = [pytest.mark.slow, requires_smollm2]

DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
CONVERSATIONS = [
    [{"role": "user", "content": "Reverse the word: stone"}, {"role": "assistant", "content": "enots"}],
    [{"role": "system", "content": "Answer in one word."},
     {"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris"},
     {"role": "user", "content": "And of Italy?"}, {"role": "assistant", "content": " Rome, of course.\n"}],
    [{"role": "user", "content": "JSON please: Ana, 30, Lima"},
     {"role": "assistant", "content": '{"first_name": "Ana", "age": 30, "city": "Lima"}'},
     {"role": "user", "content": "Now YAML."}, {"role": "assistant", "content": "name: Ana\nage: 30"}],
]


@pytest.fixture(scope="module")
def tok(smollm2_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_dir)


def by_hand(tok, messages):
    """input_ids and labels built piece by piece from the ChatML layout SmolLM2's template writes."""
    if messages[0]["role"] != "system":
        messages = [{"role": "system", "content": DEFAULT_SYSTEM}, *messages]
    ids, labels = [], []

    def add(text, trained):
        piece = tok(text, add_special_tokens=False)["input_ids"]
        ids.extend(piece)
        labels.extend(piece if trained else [IGNORE_INDEX] * len(piece))

    for m in messages:
        add(f"<|im_start|>{m['role']}\n", False)
        assistant = m["role"] == "assistant"
        add(m["content"], assistant)
        add("<|im_end|>", assistant)
        add("\n", assistant)  # the template's newline after <|im_end|> (no generation tags: trained)
    return ids, labels


def test_pad_is_eos_and_default_system_prompt(tok):
    assert tok.pad_token == tok.eos_token == "<|im_end|>" and tok.pad_token_id == tok.eos_token_id
    template = get_template("auto", tok)
    assert type(template).__name__ == "ChatTemplate" and not template.has_generation_tags
    text, _ = template.render(CONVERSATIONS[0], eos=tok.eos_token)
    assert text.startswith(f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\n")
    text, _ = template.render(CONVERSATIONS[1], eos=tok.eos_token)
    assert DEFAULT_SYSTEM not in text and text.startswith("<|im_start|>system\nAnswer in one word.<|im_end|>")


@pytest.mark.parametrize("masker", [MultiTurn()], ids=["multi_turn"])  # loss_mask=output_only selects it too
def test_trained_tokens_are_each_reply_and_its_end_marker(tok, masker):
    template = get_template("auto", tok)
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    for messages in CONVERSATIONS:
        enc = encode(Example(messages), tok, template, masker, 10_000)
        assert enc.input_ids == tok.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
        ids, labels = by_hand(tok, messages)
        assert enc.input_ids == ids
        assert enc.labels == labels, [tok.decode([t]) for t, lab in zip(enc.input_ids, enc.labels) if lab != -100]
        trained = [t for t in enc.labels if t != IGNORE_INDEX]
        assert trained.count(eos) == sum(m["role"] == "assistant" for m in messages)  # EOS trained though pad == EOS
        assert "user" not in tok.decode(trained) and "system" not in tok.decode(trained)


def test_with_generation_tags_masks_equal_transformers_assistant_mask(tok):
    """The same template with tags around each reply + <|im_end|>: our trained positions equal
    transformers' `return_assistant_tokens_mask`; the untagged template trains only the newline more."""
    untagged = get_template("auto", tok)
    tagged_tok = type(tok).from_pretrained(tok.name_or_path)
    source = tok.chat_template
    plain = "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    assert plain in source
    tagged_tok.chat_template = source.replace(plain, (
        "{% if message['role'] == 'assistant' %}{{'<|im_start|>assistant\n'}}{% generation %}"
        "{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{'\n'}}{% else %}" + plain + "{% endif %}"))
    tagged = get_template("auto", tagged_tok)
    assert tagged.has_generation_tags
    newline = tok("\n", add_special_tokens=False)["input_ids"]
    for messages in CONVERSATIONS:
        ours = encode(Example(messages), tagged_tok, tagged, MultiTurn(), 10_000)
        ref = tagged_tok.apply_chat_template(messages, tokenize=True, return_dict=True,
                                             return_assistant_tokens_mask=True)
        assert ours.input_ids == ref["input_ids"]
        assert [lab != IGNORE_INDEX for lab in ours.labels] == [bool(x) for x in ref["assistant_masks"]]
        plain_enc = encode(Example(messages), tok, untagged, MultiTurn(), 10_000)
        assert plain_enc.input_ids == ours.input_ids
        extra = [i for i, (a, b) in enumerate(zip(plain_enc.labels, ours.labels)) if a != b]
        assert len(extra) == sum(m["role"] == "assistant" for m in messages)
        assert all(ours.labels[i] == IGNORE_INDEX and [plain_enc.input_ids[i]] == newline for i in extra)


def test_generation_prompt_is_the_training_text_up_to_the_reply(tok):
    """Evaluation prompts: the default system prompt, the assistant header and its newline, and the
    same tokens as the training sequence before the first trained token."""
    from tuneforge.data.json_extract import JsonExtract

    template = get_template("auto", tok)
    for ex in [*JsonExtract(num_train=4, num_val=0, num_test=4).build()["test"], Example(CONVERSATIONS[1])]:
        prompt = encode_prompt(ex, tok, template)
        assert prompt == tok.apply_chat_template(ex.prompt_messages, tokenize=False, add_generation_prompt=True)
        assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")
        assert (DEFAULT_SYSTEM in prompt) == (ex.messages[0]["role"] != "system")
        prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        enc = encode(ex, tok, template, MultiTurn(), 10_000)
        assert enc.input_ids[:len(prompt_ids)] == prompt_ids
        last_reply = [i for i, lab in enumerate(enc.labels) if lab != IGNORE_INDEX]
        first_of_last = next(i for i in last_reply if i >= len(prompt_ids))
        assert first_of_last == len(prompt_ids)  # the reply starts right after the prompt
        assert tok.decode(enc.input_ids[len(prompt_ids):]).startswith(ex.reference)
