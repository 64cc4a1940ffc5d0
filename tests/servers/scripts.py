"""Scripted replies that play the LLM's part in Self-Instruct and Evol-Instruct, for the test server.

`SyntheticLLM()` is a reply function: it recognises each pipeline prompt and answers in the expected
format, with fresh, varied instructions (and, on purpose, some that the filters must drop). A
completion request (/completions) gets a continuation in the paper's format; a chat request gets a
chat model's reply in one of the styles of chat_styles.py (rotating per stage, or the fixed `style`
index), JSON when the request carries a schema (`response_format` / `guided_json`). With `dirty`,
one chat reply in `dirty` also carries wrapping that no parser can strip (the chat filter must).
"""
from __future__ import annotations

import itertools
import random
import re
import threading
from collections import Counter

from tests.servers import chat_styles as S

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


# wrapping a parser cannot tell from content: the chat filter has to drop these
DIRTY_TASK = "Sure, here is one more: **{0}** tasks about {1} for a {2} fan."
DIRTY_OUTPUT = "Certainly! An answer about {0}."


class SyntheticLLM:
    def __init__(self, seed: int = 0, bad_every: int = 5, style: int | None = None, dirty: int = 0):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counter = itertools.count()
        self.bad_every = bad_every
        self.style, self.dirty = style, dirty
        self.calls: Counter = Counter()  # chat replies per stage

    def _style(self, stage: str, styles: list[str], req: dict) -> str:
        if req.get("response_format") or req.get("guided_json"):
            return "json"
        with self.lock:
            n = self.calls[stage]
            self.calls[stage] += 1
        return styles[(self.style if self.style is not None else n) % len(styles)]

    def _dirty(self, stage: str) -> bool:
        return bool(self.dirty) and self.calls[stage] % self.dirty == 1

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
        if "messages" in req:
            return self.chat(req)
        return self.completion(req)

    def completion(self, req: dict) -> str:
        prompt = req["prompt"]
        if prompt.startswith("Come up with a series of tasks"):
            return f" {self._instruction()}\nTask 10: {self._instruction()}"
        if prompt.startswith("Can the following task be regarded"):
            target = prompt.rsplit("Task:", 1)[1]
            return " Yes" if "Classify" in target else " No"
        if prompt.startswith("Come up with examples"):
            w = _topic(prompt)
            return (f"Example 1\nInput: about {w}\nOutput: An answer about {w}.\n"
                    f"Example 2\nInput: more on {w}\nOutput: A second answer on {w}.\n"
                    f"Example 3\nInput: about {w}\nOutput: A conflicting answer about {w}.")
        if prompt.startswith("Given the classification task definition"):
            return "Class label: Positive\nReview: I loved it.\nClass label: Negative\nReview: It broke in a day."
        if prompt.startswith("I want you act as a Prompt Rewriter"):
            return _rewrite(_given(prompt))
        if prompt.startswith("I want you act as a Prompt Creator"):
            return f"{self._instruction()} Use a {self.rng.choice(WORDS)} as the example."
        if prompt.startswith("Here are two Instructions"):
            return "Not Equal"
        return _answer(prompt)

    def chat(self, req: dict) -> str:
        prompt = req["prompt"]
        if prompt.startswith("Come up with a series of tasks"):
            style = self._style("tasks", S.TASK_STYLES, req)
            items = [self._instruction() for _ in range(3)]
            if self._dirty("tasks") and style != "json":
                words = self.rng.sample(WORDS, 3)
                items[1] = DIRTY_TASK.format(*words)
            return S.tasks(style, items, first=int(re.search(r"Task (\d+) to Task", prompt).group(1)))
        if prompt.startswith("Can the following task be regarded"):
            target = prompt.rsplit("Task:", 1)[1]
            return S.label(self._style("label", S.LABEL_STYLES, req), "Classify" in target)
        if prompt.startswith("Come up with examples"):
            w = _topic(prompt)
            style = self._style("instances", S.INSTANCE_STYLES, req)
            pairs = [(f"about {w}", f"An answer about {w}."), (f"Example text on {w}", f"A second answer on {w}."),
                     (f"about {w}", f"A conflicting answer about {w}.")]
            if self._dirty("instances") and style != "json":
                pairs[0] = (pairs[0][0], DIRTY_OUTPUT.format(w))
            return S.instances(style, pairs)
        if prompt.startswith("Given the classification task definition"):
            style = self._style("instances", S.INSTANCE_STYLES, req)
            return S.labelled(style, [("Positive", "Review: I loved it."), ("Negative", "Review: It broke in a day.")])
        if prompt.startswith(("I want you act as a Prompt Rewriter", "I want you act as a Prompt Creator")):
            style = self._style("rewrite", S.REWRITE_STYLES, req)
            if "Prompt Creator" in prompt:
                return S.rewrite(style, f"{self._instruction()} Use a {self.rng.choice(WORDS)} as the example.", True)
            return S.rewrite(style, _rewrite(_given(prompt)))
        if prompt.startswith("Here are two Instructions"):
            return S.verdict(self._style("verdict", S.VERDICT_STYLES, req), False)
        return S.answer(self._style("answer", S.ANSWER_STYLES, req), _answer(prompt))


def _topic(prompt: str) -> str:
    task = prompt.rsplit("Task:", 1)[1].split("\n", 1)[0].strip()
    return task.split()[-2] if len(task.split()) > 1 else "thing"


def _given(prompt: str) -> str:
    return re.search(r"#Given Prompt#:\n(.*?)\n(?:#Rewritten Prompt#:|\nReply with)", prompt, re.S).group(1).strip()


def _rewrite(given: str) -> str:
    return given + f" Answer in exactly {len(given) % 5 + 3} numbered steps and justify each step."


def _answer(prompt: str) -> str:
    return f"A careful answer: {prompt[:60]} ... done, with {len(prompt)} characters considered."
