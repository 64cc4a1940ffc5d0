"""Self-Instruct's three prompt templates (the paper's structure, our own few-shot examples).

1. Instruction generation: "Come up with a series of tasks:" + 8 numbered in-context instructions,
   ending with "Task 9:" for the model to continue.
2. Classification identification: a few-shot prompt of 12 classification and 19 non-classification
   seed instructions, each with "Is it classification? Yes/No", then the target task.
3. Instance generation: input-first for non-classification tasks (the model writes the input, then
   the output) and output-first for classification tasks (the class label first, then an input for
   it), so that the labels are not all the same. This is the original paper's choice and the issue's;
   some summaries of the paper state it the other way round, but its two templates show the same
   pairing (the "Class label:" template is the classification one).
"""
from __future__ import annotations

import random
import re
from typing import Sequence

from tuneforge.pipeline._seeds import SeedTask

INSTRUCTION_HEADER = "Come up with a series of tasks:\n\n"


def instruction_prompt(instructions: Sequence[str]) -> str:
    lines = [f"Task {i}: {' '.join(text.split())}" for i, text in enumerate(instructions, 1)]
    return INSTRUCTION_HEADER + "\n".join(lines) + f"\nTask {len(instructions) + 1}:"


def parse_instructions(reply: str, truncated: bool) -> list[str]:
    """The continuation after "Task 9:" is one instruction; a reply may go on with "Task 10:" etc.
    When the reply was cut by the token limit, the last instruction is dropped (it may be partial)."""
    pieces = re.split(r"(?:^|\n)\s*Task\s*\d+\s*[:.]", reply)
    found = [" ".join(p.split()) for p in pieces]
    found = [p for p in found if p]
    if truncated and found:
        found = found[:-1]
    return [p[0].upper() + p[1:] for p in found]


CLF_HEADER = "Can the following task be regarded as a classification task with finite output labels?\n\n"


def classification_examples(seeds: Sequence[SeedTask], n_yes: int = 12, n_no: int = 19) -> list[tuple[str, bool]]:
    """The first `n_yes` classification and `n_no` other seed instructions, in a fixed mixed order."""
    yes = [(s.instruction, True) for s in seeds if s.is_classification][:n_yes]
    no = [(s.instruction, False) for s in seeds if not s.is_classification][:n_no]
    examples = yes + no
    random.Random(0).shuffle(examples)
    return examples


def classification_prompt(examples: Sequence[tuple[str, bool]], instruction: str) -> str:
    shots = "".join(f"Task: {text}\nIs it classification? {'Yes' if label else 'No'}\n\n"
                    for text, label in examples)
    return CLF_HEADER + shots + f"Task: {instruction}\nIs it classification?"


def parse_classification(reply: str) -> bool | None:
    word = re.match(r"\s*([A-Za-z]+)", reply or "")
    if not word:
        return None
    return {"yes": True, "no": False}.get(word.group(1).lower())


INPUT_FIRST = """Come up with examples for the following tasks. Try to generate multiple examples when possible. If the task doesn't require additional input, you can generate the output directly.

Task: Which exercises are best for reducing belly fat at home?
Output:
- Lying Leg Raises
- Leg In And Out
- Plank
- Side Plank
- Sit-ups

Task: Sort the given list ascendingly.
Example 1
List: [10, 92, 2, 5, -4, 92, 5, 101]
Output: [-4, 2, 5, 5, 10, 92, 92, 101]
Example 2
Input 2 - List: [9.99, 10, -5, -1000, 5e6, 999]
Output: [-1000, -5, 9.99, 10, 999, 5e6]

Task: Turn the informal sentence into a formal one.
Example 1
Sentence: gonna be late, traffic is crazy
Output: I will be late because of heavy traffic.
Example 2
Sentence: can't make it tomorrow, sorry
Output: I apologise, but I will not be able to attend tomorrow.

Task: Suggest a name for a cat that likes to sleep in the sun.
Output: Sunny

Task: Find the word that appears most often in the text.
Example 1
Text: the cat saw the dog and the dog saw the cat
Output: the
Example 2
Text: red blue red green blue red
Output: red

Task: {instruction}
"""

OUTPUT_FIRST = """Given the classification task definition and the class labels, generate an input that corresponds to each of the class labels. If the task doesn't require input, just generate the correct class label.

Task: Classify the sentiment of the sentence into positive, negative, or mixed.
Class label: Mixed
Sentence: I enjoy the flavor of the restaurant but their service is too slow.
Class label: Positive
Sentence: I had a great day today. The weather was beautiful and I spent time with friends.
Class label: Negative
Sentence: I was really disappointed by the latest superhero movie. I would not recommend it.

Task: Which of the following is not an input type? (a) number (b) date (c) phone number (d) email address (e) all of these are valid inputs.
Class label: (e)

Task: Tell whether the number is even or odd.
Class label: Even
Number: 1,024
Class label: Odd
Number: 77

Task: Decide whether the email is spam or not spam.
Class label: Spam
Email: You won a free cruise! Reply with your bank details to claim your prize.
Class label: Not spam
Email: Hi Jo, the slides for Monday's meeting are attached. See you then.

Task: {instruction}
"""


def instance_prompt(instruction: str, is_classification: bool) -> str:
    return (OUTPUT_FIRST if is_classification else INPUT_FIRST).format(instruction=instruction)


INSTANCE_STOP = ["Example 6", "\nTask:", "Task:"]
# The replies of both instance templates are read by tuneforge/pipeline/_parse.py (input_first,
# output_first), which also reads what chat models write.
