"""Scripted replies that play the LLM's part in Self-Instruct and Evol-Instruct, for the test server.

`SyntheticLLM()` is a reply function: it recognises each pipeline prompt and answers in the expected
format, with fresh, varied instructions (and, on purpose, some that the filters must drop).
"""
from __future__ import annotations

import itertools
import random
import re
import threading

WORDS = ("river budget violin orbit pepper ladder glacier pixel harvest lantern tunnel comet saddle "
         "quartz meadow anchor bamboo cipher dune ember falcon garnet harbor igloo jasmine kernel "
         "lagoon marble nectar oyster prism quiver raven summit timber umbra velvet walnut yarrow "
         "zephyr acorn beacon canyon dynamo estuary fjord geyser hemlock island jetty kiln lichen "
         "mosaic nebula oasis pylon quarry reef sonnet tundra utensil vortex willow").split()
TEMPLATES = ["Explain how {0} and {1} differ when planning a {2} trip.",
             "List three practical uses of {0} for a {1} workshop.",
             "Write a short story opening about a {0} found near the {1}.",
             "Suggest a name for a {0} shop that also sells {1}.",
             "Give step-by-step advice for cleaning a {0} {1}.",
             "Classify the {0} review as positive or negative.",
             "Summarize why {0} matters to {1} farmers in two sentences."]
VERBS = ["Describe", "Compare", "Rank", "Outline", "Critique", "Translate", "Classify", "Estimate"]
BAD = ["Draw a picture of a {0}.", "Plot a graph of {0} prices.", "Hi {0}."]  # keywords / length drops


class SyntheticLLM:
    def __init__(self, seed: int = 0, bad_every: int = 5):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counter = itertools.count()
        self.bad_every = bad_every

    def _instruction(self) -> str:
        with self.lock:
            n = next(self.counter)
            words = self.rng.sample(WORDS, 3)
            if self.bad_every and n % self.bad_every == self.bad_every - 1:
                return BAD[n % len(BAD)].format(*words)
            if n % 3 == 0:
                return self.rng.choice(TEMPLATES).format(*words)
            verb = self.rng.choice(VERBS)
            return f"{verb} the {' '.join(self.rng.sample(WORDS, self.rng.randint(4, 7)))} case number {n}."

    def __call__(self, req: dict) -> str:
        prompt = req["prompt"]
        if prompt.startswith("Come up with a series of tasks"):
            return f" {self._instruction()}\nTask 10: {self._instruction()}"
        if prompt.startswith("Can the following task be regarded"):
            target = prompt.rsplit("Task:", 1)[1]
            return " Yes" if "Classify" in target else " No"
        if prompt.startswith("Come up with examples"):
            task = prompt.rsplit("Task:", 1)[1].strip()
            w = task.split()[-2] if len(task.split()) > 1 else "thing"
            return (f"Example 1\nInput: about {w}\nOutput: An answer about {w}.\n"
                    f"Example 2\nInput: more on {w}\nOutput: A second answer on {w}.\n"
                    f"Example 3\nInput: about {w}\nOutput: A conflicting answer about {w}.")
        if prompt.startswith("Given the classification task definition"):
            return "Class label: Positive\nReview: I loved it.\nClass label: Negative\nReview: It broke in a day."
        if prompt.startswith("I want you act as a Prompt Rewriter"):
            given = re.search(r"#Given Prompt#:\n(.*)\n#Rewritten Prompt#:", prompt, re.S).group(1).strip()
            return given + f" Answer in exactly {len(given) % 5 + 3} numbered steps and justify each step."
        if prompt.startswith("I want you act as a Prompt Creator"):
            return f"{self._instruction()} Use a {self.rng.choice(WORDS)} as the example."
        if prompt.startswith("Here are two Instructions"):
            return "Not Equal"
        return f"Here is a careful answer: {prompt[:60]} ... done, with {len(prompt)} characters considered."
