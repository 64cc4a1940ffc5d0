"""Prompts, request settings and parsers per prompt mode, for every stage of both pipelines.

`completion` (a base model, or `llm.mode=completion`): the paper's exact templates, which the model
continues ("Task 9:" ...), with the paper's stops ("\\n\\n" after the instruction list).
`chat` (an instruction-tuned model): the same templates and in-context examples (8 tasks; 12 + 19
classification shots; the operators' method sentences), then a line asking for a machine-readable
answer: "Task N:" lines, Yes/No, "Example N / Output:" blocks, the prompt alone, Equal/Not Equal; or,
when the backend sends JSON schemas (`llm.structured=true`), a JSON object of that schema. No stop
sequences: a chat reply opens with a preamble and separates items with blank lines, so the
completion stops would cut it to its preamble. Every chat reply goes through the parsers of
`_parse.py` (JSON first, text as the fallback).
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from tuneforge.pipeline import _elimination as E
from tuneforge.pipeline import _parse as X
from tuneforge.pipeline import _prompts as P


def _obj(**props: Any) -> dict:
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


STR, BOOL = {"type": "string"}, {"type": "boolean"}
SCHEMAS = {  # property order matters: output-first instances give the label before the input
    "tasks": _obj(tasks={"type": "array", "items": STR}),
    "classification": _obj(classification=BOOL),
    "input_first": _obj(instances={"type": "array", "items": _obj(input=STR, output=STR)}),
    "output_first": _obj(instances={"type": "array", "items": _obj(class_label=STR, input=STR)}),
    "prompt": _obj(prompt=STR),
    "equal": _obj(equal=BOOL),
}
_PROMPT_END = re.compile(r"\n#(Rewritten|Created) Prompt#:\s*$")


class Completion:
    """The paper's templates for a model that continues text."""

    name = "completion"
    classification_max_tokens, judge_max_tokens = 3, 5

    def instructions(self, examples: Sequence[str], new: int) -> tuple[str, dict]:
        return P.instruction_prompt(examples), {"stop": ["\n\n", f"Task {len(examples) + new + 1}"]}

    def parse_instructions(self, text: str, truncated: bool) -> list[str]:
        return P.parse_instructions(text, truncated)

    def classification(self, examples: Sequence[tuple[str, bool]], instruction: str) -> tuple[str, dict]:
        return P.classification_prompt(examples, instruction), {"stop": ["\n", "Task:"]}

    def parse_classification(self, text: str) -> bool | None:
        return P.parse_classification(text)

    def instances(self, instruction: str, is_classification: bool, n: int) -> tuple[str, dict]:
        return P.instance_prompt(instruction, is_classification), {"stop": P.INSTANCE_STOP}

    def parse_instances(self, text: str, is_classification: bool, truncated: bool) -> list[tuple[str, str]]:
        return (X.output_first if is_classification else X.input_first)(text, truncated)

    def evolve(self, op_prompt: str) -> tuple[str, dict]:
        return op_prompt, {}

    def parse_evolved(self, text: str, truncated: bool) -> str | None:
        return text.strip() or None

    def respond(self, instruction: str) -> str:
        return instruction

    def parse_response(self, text: str) -> str:
        return text.strip()

    def judge(self, first: str, second: str) -> tuple[str, dict]:
        return E.EQUAL_PROMPT.format(first=first, second=second), {}

    def parse_judge(self, text: str) -> bool | None:
        return X.equal(text)


class Chat(Completion):
    """The same content for an instruction-tuned chat model, asking for a machine-readable reply."""

    name = "chat"
    classification_max_tokens, judge_max_tokens = 16, 16

    def __init__(self, structured: bool = False):
        self.structured = structured  # the backend forces JSON of the schema: ask for that JSON

    def _schema(self, name: str) -> dict:
        return {"schema": SCHEMAS[name]} if self.structured else {}

    def instructions(self, examples: Sequence[str], new: int) -> tuple[str, dict]:
        first, last = len(examples) + 1, len(examples) + new
        head = P.instruction_prompt(examples).rsplit("\n", 1)[0]  # without the trailing "Task 9:"
        ask = (f"Continue the series with {new} new tasks, Task {first} to Task {last}, each different from the tasks "
               "above: one instruction that a person could give an AI assistant, on any topic. ")
        ask += ('Reply with only a JSON object: {"tasks": ["<instruction>", ...]}.' if self.structured else
                f'Reply with the new tasks only, one per line, starting with "Task {first}:".')
        return f"{head}\n\n{ask}", self._schema("tasks")

    def parse_instructions(self, text: str, truncated: bool) -> list[str]:
        found = X.json_items(text, "tasks")
        if found is not None:
            return [X.clean(t) for t in found if isinstance(t, str) and X.clean(t)]
        return X.items(text, truncated)

    def classification(self, examples: Sequence[tuple[str, bool]], instruction: str) -> tuple[str, dict]:
        ask = (' Reply with only a JSON object: {"classification": true} or {"classification": false}.'
               if self.structured else " Answer Yes or No.")
        return P.classification_prompt(examples, instruction) + ask, self._schema("classification")

    def parse_classification(self, text: str) -> bool | None:
        return X.yes_no(text)

    def instances(self, instruction: str, is_classification: bool, n: int) -> tuple[str, dict]:
        prompt = P.instance_prompt(instruction, is_classification)
        if self.structured:
            shape = ('{"instances": [{"class_label": "...", "input": "..."}]}, one object per class label'
                     if is_classification else '{"instances": [{"input": "...", "output": "..."}]}, "input" '
                     'being "" when the task needs none')
            ask = f"Reply with only a JSON object for this last task, up to {n} examples: {shape}."
        elif is_classification:
            ask = ('Write the examples for this last task in the same form as above: a "Class label:" line, '
                   "then the input for that label. Reply with the examples only.")
        else:
            ask = (f'Write up to {n} examples for this last task in the same form as above: "Example 1", the '
                   'input, then "Output: ..."; when the task needs no input, only "Output: ...". '
                   "Reply with the examples only.")
        return prompt + "\n" + ask, self._schema("output_first" if is_classification else "input_first")

    def evolve(self, op_prompt: str) -> tuple[str, dict]:
        kind = _PROMPT_END.search(op_prompt)
        what = f"{kind.group(1).lower()} prompt" if kind else "new prompt"
        body = op_prompt[:kind.start()] if kind else op_prompt.rstrip()
        ask = (f'Reply with only a JSON object: {{"prompt": "<the {what}>"}}.' if self.structured else
               f"Reply with the {what} only: no heading, no quotes, no answer to it and no comments.")
        return f"{body}\n\n{ask}", self._schema("prompt")

    def parse_evolved(self, text: str, truncated: bool) -> str | None:
        return X.rewritten(text, truncated)

    def parse_response(self, text: str) -> str:
        return X.strip_chatter(text)

    def judge(self, first: str, second: str) -> tuple[str, dict]:
        head = E.EQUAL_PROMPT.format(first=first, second=second).rsplit("\n", 1)[0]
        ask = ('Reply with only a JSON object: {"equal": true} or {"equal": false}.' if self.structured else
               'Are they equal? Answer "Equal" or "Not Equal" only.')
        return f"{head}\n{ask}", self._schema("equal")


def for_backend(llm: Any) -> Completion:
    """The prompt mode of a backend: its `mode` ("chat" / "completion"); else chat when it applies a chat
    template; else chat (the teachers users run are chat models)."""
    from tuneforge.llm.base import prompt_mode

    if prompt_mode(llm) == "completion":
        return Completion()
    return Chat(structured=bool(getattr(llm, "structured", False)))
