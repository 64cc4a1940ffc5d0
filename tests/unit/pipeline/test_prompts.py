"""Self-Instruct's prompt templates and parsers: 8 in-context tasks (6 + 2), 12 + 19 shots,
output-first for classification and input-first otherwise; in chat mode the same content with a
machine-readable ask, no stop sequences, and JSON schemas when the backend is structured."""
from __future__ import annotations

import random
import re

from tuneforge.evolution.add_constraints import METHOD as ADD_CONSTRAINTS
from tuneforge.evolution.complicate_input import ComplicateInput
from tuneforge.evolution.in_breadth import InBreadth
from tuneforge.pipeline import _parse as X
from tuneforge.pipeline import _prompts as P
from tuneforge.pipeline._modes import SCHEMAS, Chat, Completion, for_backend
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
    assert X.input_first(reply, False) == [("List: [3, 1]", "[1, 3]"), ("[2, 0]", "[0, 2]")]
    assert X.input_first(reply, True) == [("List: [3, 1]", "[1, 3]")]
    assert X.input_first("Output: Paris", False) == [("", "Paris")]
    assert X.input_first("no structure at all", False) == []
    # the paper's "Input 2 - List:" label
    assert X.input_first("Example 2\nInput 2 - List: [9, 1]\nOutput: [1, 9]") == [("List: [9, 1]", "[1, 9]")]


def test_parse_output_first():
    reply = "Class label: Positive\nSentence: Great!\nClass label: Negative\nSentence: Awful.\nClass label: (e)"
    assert X.output_first(reply, False) == [("Sentence: Great!", "Positive"), ("Sentence: Awful.", "Negative"),
                                            ("", "(e)")]
    assert len(X.output_first(reply, True)) == 2 and X.output_first("Positive", False) == []


def test_completion_mode_keeps_the_papers_prompts_and_stops():
    comp = Completion()
    examples = [f"instruction {i}" for i in range(1, 9)]
    prompt, params = comp.instructions(examples, 8)
    assert prompt == P.instruction_prompt(examples) and params == {"stop": ["\n\n", "Task 17"]}
    clf = P.classification_examples(load_seed_tasks())
    assert comp.classification(clf, "Is it spam?") == (P.classification_prompt(clf, "Is it spam?"),
                                                       {"stop": ["\n", "Task:"]})
    assert comp.instances("Write a poem.", False, 5) == (P.instance_prompt("Write a poem.", False),
                                                         {"stop": P.INSTANCE_STOP})
    assert comp.classification_max_tokens == 3 and comp.judge_max_tokens == 5


def test_chat_prompts_keep_the_content_and_ask_for_a_readable_reply():
    chat = Chat()
    examples = [f"instruction {i}" for i in range(1, 9)]
    prompt, params = chat.instructions(examples, 8)
    assert params == {}  # no stop: "\n\n" would cut a chat reply down to its preamble
    assert prompt.startswith("Come up with a series of tasks:\n\nTask 1: instruction 1\n")
    assert re.findall(r"^Task (\d+):", prompt, re.M) == [str(i) for i in range(1, 9)]
    assert prompt.endswith('Reply with the new tasks only, one per line, starting with "Task 9:".')
    assert "Continue the series with 8 new tasks, Task 9 to Task 16" in prompt
    clf = P.classification_examples(load_seed_tasks())
    prompt, params = chat.classification(clf, "Is this email spam?")
    assert prompt.count("Is it classification? Yes") == 12 and prompt.count("Is it classification? No") == 19
    assert prompt.endswith("Task: Is this email spam?\nIs it classification? Answer Yes or No.") and params == {}
    gen, _ = chat.instances("Write a poem.", False, 5)
    out, _ = chat.instances("Classify the fruit.", True, 5)
    assert gen.startswith(P.INPUT_FIRST.format(instruction="Write a poem.")) and "up to 5 examples" in gen
    assert out.startswith(P.OUTPUT_FIRST.format(instruction="Classify the fruit.")) and '"Class label:" line' in out
    assert chat.classification_max_tokens > 3  # room for "Yes, because ..." / JSON


def test_chat_evolution_prompts_keep_the_operators_method():
    chat = Chat()
    depth = ComplicateInput().prompt("Sort the list.", random.Random(3))
    prompt, params = chat.evolve(depth)
    method = re.search(r"following method:\n(.*)\n", depth).group(1)
    assert method in prompt and "#Given Prompt#:\nSort the list." in prompt and params == {}
    assert "#Rewritten Prompt#:\n" not in prompt[-40:] and prompt.endswith("no answer to it and no comments.")
    assert "Reply with the rewritten prompt only" in prompt
    breadth, _ = chat.evolve(InBreadth().prompt("Sort the list.", random.Random(0)))
    assert "I want you act as a Prompt Creator" in breadth and "Reply with the created prompt only" in breadth
    judge, _ = chat.judge("A", "B")
    assert "The First Prompt: A\nThe Second Prompt: B\n" in judge and judge.endswith('"Equal" or "Not Equal" only.')
    assert ADD_CONSTRAINTS in chat.evolve(f"x\n{ADD_CONSTRAINTS}\n#Rewritten Prompt#:\n")[0]


def test_structured_chat_asks_for_json_and_sends_the_schema():
    chat = Chat(structured=True)
    prompt, params = chat.instructions(["a", "b"], 4)
    assert params == {"schema": SCHEMAS["tasks"]} and prompt.endswith('{"tasks": ["<instruction>", ...]}.')
    assert chat.classification([], "x")[1] == {"schema": SCHEMAS["classification"]}
    assert chat.instances("x", True, 3)[1] == {"schema": SCHEMAS["output_first"]}
    # output-first: the label comes before its input in every instance object
    assert list(SCHEMAS["output_first"]["properties"]["instances"]["items"]["properties"]) == ["class_label", "input"]
    assert chat.evolve("p\n#Rewritten Prompt#:\n")[1] == {"schema": SCHEMAS["prompt"]}
    assert chat.judge("a", "b")[1] == {"schema": SCHEMAS["equal"]}


def test_the_mode_follows_the_backend():
    class Backend:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    assert isinstance(for_backend(Backend(mode="completion")), Completion)
    assert not isinstance(for_backend(Backend(mode="completion")), Chat)
    assert for_backend(Backend(mode="chat")).name == "chat" and not for_backend(Backend(mode="chat")).structured
    assert for_backend(Backend(mode="chat", structured=True)).structured
    assert for_backend(Backend(chat_template=False)).name == "completion"
    assert for_backend(Backend()).name == "chat"  # a backend that says nothing: a chat model
