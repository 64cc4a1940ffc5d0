"""Self-Instruct's prompt templates and parsers: 8 in-context tasks (6 + 2), 12 + 19 shots,
output-first for classification and input-first otherwise."""
from __future__ import annotations

import random
import re

from tuneforge.pipeline import _prompts as P
from tuneforge.pipeline._seeds import load_seed_tasks
from tuneforge.pipeline.self_instruct import SelfInstruct


def test_instruction_prompt_has_8_tasks_and_ends_with_task_9():
    prompt = P.instruction_prompt([f"instruction {i}" for i in range(1, 9)])
    assert prompt.startswith("Come up with a series of tasks:\n\nTask 1: instruction 1\n")
    assert re.findall(r"^Task (\d+):", prompt, re.M) == [str(i) for i in range(1, 10)]
    assert prompt.endswith("Task 8: instruction 8\nTask 9:")


def test_in_context_split_six_human_two_machine():
    seeds = load_seed_tasks()
    pipe = SelfInstruct()
    rng = random.Random(0)
    machine = [{"id": f"si-{i:06d}", "instruction": f"machine {i}"} for i in range(10)]
    for _ in range(20):
        picked = pipe.in_context(rng, seeds, machine)
        ids = [i for i, _ in picked]
        assert len(ids) == 8 and len(set(ids)) == 8
        assert sum(i.startswith("si-") for i in ids) == 2 and sum(i.startswith("seed_task_") for i in ids) == 6
    # before two generated tasks exist, the seeds fill the 8 places (the original code's behaviour)
    assert sum(i.startswith("si-") for i, _ in pipe.in_context(rng, seeds, machine[:1])) == 1
    assert all(i.startswith("seed_task_") for i, _ in pipe.in_context(rng, seeds, []))


def test_parse_instructions():
    reply = " Name three rivers in Asia.\nTask 10: Write a limerick about tea.\nTask 11: Trunc"
    assert P.parse_instructions(reply, truncated=False) == [
        "Name three rivers in Asia.", "Write a limerick about tea.", "Trunc"]
    assert P.parse_instructions(reply, truncated=True)[-1] == "Write a limerick about tea."
    assert P.parse_instructions("  \n", truncated=False) == []


def test_classification_prompt_has_12_yes_and_19_no():
    examples = P.classification_examples(load_seed_tasks())
    prompt = P.classification_prompt(examples, "Is this email spam?")
    assert prompt.startswith("Can the following task be regarded as a classification task with finite output labels?")
    assert prompt.count("Is it classification? Yes") == 12 and prompt.count("Is it classification? No") == 19
    assert prompt.endswith("Task: Is this email spam?\nIs it classification?")
    assert P.parse_classification(" Yes") is True and P.parse_classification("no.") is False
    assert P.parse_classification("maybe") is None and P.parse_classification("") is None


def test_instance_order_output_first_for_classification():
    clf = P.instance_prompt("Classify the fruit.", is_classification=True)
    gen = P.instance_prompt("Write a poem.", is_classification=False)
    assert clf.startswith("Given the classification task definition and the class labels")
    assert gen.startswith("Come up with examples for the following tasks.")
    # output-first: each example gives the class label before its input
    assert clf.index("Class label: Mixed") < clf.index("Sentence: I enjoy")
    assert clf.endswith("Task: Classify the fruit.\n") and gen.endswith("Task: Write a poem.\n")


def test_parse_input_first():
    reply = "Example 1\nList: [3, 1]\nOutput: [1, 3]\nExample 2\nInput: [2, 0]\nOutput: [0, 2]\nInput: extra"
    assert P.parse_input_first(reply, False) == [("List: [3, 1]", "[1, 3]"), ("[2, 0]", "[0, 2]")]
    assert P.parse_input_first(reply, True) == [("List: [3, 1]", "[1, 3]")]
    assert P.parse_input_first("Output: Paris", False) == [("", "Paris")]
    assert P.parse_input_first("no structure at all", False) == []


def test_parse_output_first():
    reply = "Class label: Positive\nSentence: Great!\nClass label: Negative\nSentence: Awful.\nClass label: (e)"
    assert P.parse_output_first(reply, False) == [("Sentence: Great!", "Positive"), ("Sentence: Awful.", "Negative"),
                                                  ("", "(e)")]
    assert len(P.parse_output_first(reply, True)) == 2 and P.parse_output_first("Positive", False) == []
