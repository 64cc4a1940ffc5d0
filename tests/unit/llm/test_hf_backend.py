"""The hf backend on a tiny model: batched generation equals one prompt at a time; stop strings."""
from __future__ import annotations

from tuneforge.llm.hf import HFBackend

TINY = dict(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64)


def test_batched_greedy_equals_single_stops_and_seeds():
    llm = HFBackend(tiny=TINY, batch_size=4, max_new_tokens=12, temperature=0.0)
    prompts = ["Hello there, how are you?", "Task 9:", "a", "Come up with a series of tasks:\n\nTask 1: x"]
    batched = llm.generate(prompts)
    single = [llm.generate([p])[0] for p in prompts]
    assert [c.text for c in batched] == [c.text for c in single]
    assert all(c.ok and c.finish_reason in ("stop", "length") for c in batched)
    assert llm.stats.requests == 8 and llm.model_name == "tiny"
    # a stop string cuts the text and reports finish_reason=stop
    text = batched[0].text
    if len(text) > 2:
        cut = llm.generate([prompts[0]], stop=[text[2:4]])[0]
        assert cut.text == text[: text.find(text[2:4])] and cut.finish_reason == "stop"
    llm.close()
    # sampling is seeded: the same seed gives the same samples
    a = HFBackend(tiny=TINY, max_new_tokens=6, temperature=1.0, seed=3).generate(["x", "y"])
    b = HFBackend(tiny=TINY, max_new_tokens=6, temperature=1.0, seed=3).generate(["x", "y"])
    assert [c.text for c in a] == [c.text for c in b]


def test_mode_is_chat_when_the_tokenizer_has_a_chat_template():
    assert HFBackend(tiny=TINY).mode == "chat"  # the byte tokenizer carries a ChatML template
    assert HFBackend(tiny=TINY, chat_template=False).mode == "completion"
