"""The evolution operators: the lecture's in-depth / in-breadth templates with each method."""
from __future__ import annotations

import random

from tuneforge import binding, registry

DEPTH = {"add_constraints": "add one more constraints/requirements",
         "deepening": "the depth and breadth of the inquiry can be increased",
         "concretizing": "replace general concepts with more specific concepts",
         "increase_reasoning": "explicitly request multiple-step reasoning",
         "complicate_input": "format data as input data"}


def build(name, **kw):
    return binding.build("evolution_op", {"name": name, **kw}, f"evolution.{name}")


def test_the_six_operators_and_their_prompts():
    assert set(DEPTH) | {"in_breadth"} <= {e.name for e in registry.entries("evolution_op")}
    rng = random.Random(0)
    for name, method in DEPTH.items():
        op = build(name)
        prompt = op.prompt("  Sort a list.  ", rng)
        assert op.direction == "depth" and op.name == name
        assert prompt.startswith("I want you act as a Prompt Rewriter.") and method in prompt
        assert prompt.endswith("#Given Prompt#:\nSort a list.\n#Rewritten Prompt#:\n")
        assert "can only add 10 to 20 words" in prompt
    breadth = build("in_breadth")
    prompt = breadth.prompt("Sort a list.", rng)
    assert breadth.direction == "breadth" and prompt.startswith("I want you act as a Prompt Creator.")
    assert "even more rare" in prompt and prompt.endswith("#Given Prompt#:\nSort a list.\n#Created Prompt#:\n")


def test_complicate_input_draws_its_format():
    op = build("complicate_input", formats=["JSON data"])
    assert "You must add JSON data format data as input data" in op.prompt("x", random.Random(1))
    custom = build("add_constraints", method="Please require the answer in French.")
    assert "Please require the answer in French." in custom.prompt("x", random.Random(0))


def test_elimination_rules():
    from tuneforge.pipeline import _elimination as E

    assert E.copied_words("As the rewritten prompt says") and E.copied_words("Fine prompt") is None
    assert E.cannot_answer("Sorry, I can't.") and E.cannot_answer("sorry " + "word " * 80) is None
    assert E.only_stop_words("The, and... of!") and E.only_stop_words("The answer is 42") is None
    assert E.judged_equal("Equal") and not E.judged_equal("Not Equal") and not E.judged_equal("not equal.")
