"""`transformers serve` serves a `tuneforge export` directory as it is: the chat endpoint prompts the model
with the saved (training) template and stops at the saved stop token, so its greedy reply equals
`tuneforge chat`'s in-process reply. A tiny exported model keeps it quick; the server is real (127.0.0.1)."""
from __future__ import annotations

import json
import urllib.request

import pytest

from tests.real.serving import HAVE_SERVING, serving

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not HAVE_SERVING, reason="needs `pip install "
                                                   "'transformers[serving]'` (fastapi, uvicorn)")]


def test_transformers_serve_serves_an_export(compose, tmp_path):
    from tests.integration.test_export import saved_run
    from tuneforge.commands.chat import load, reply
    from tuneforge.commands.export import export

    saved_run(compose, tmp_path, "lora")
    out = export(tmp_path).out
    messages = [{"role": "user", "content": "reverse kqzt"}]
    model, tokenizer, generation = load({"model": str(out)})
    expected = reply(model, tokenizer, generation, messages, max_new_tokens=8, temperature=0)
    with serving(out, tmp_path / "serve") as url:
        body = json.dumps({"model": str(out), "messages": messages, "max_tokens": 8, "temperature": 0.0,
                           "stream": False}).encode()
        request = urllib.request.Request(f"{url}/v1/chat/completions", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as resp:
            answer = json.loads(resp.read().decode())
    assert answer["choices"][0]["message"]["content"] == expected
    # the prompt the server built is the training (alpaca) one, not the tokenizer's original ChatML
    alpaca = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=False)
    assert len(alpaca) > 100 and answer["usage"]["prompt_tokens"] == len(alpaca)
