"""Labelled NLP data (classification, NLI, QA, ...) formatted as instructions (existing datasets
reformatted, as in FLAN): each row gets a task description from one of several templates, an
optional option list and optional few-shot exemplars from the training split."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register
from tuneforge.data.example import Example
from tuneforge.data._file_source import FileSource
from tuneforge.data._records import RecordError

#: task -> (record fields by placeholder, instruction templates, whether answers are labels)
PRESETS: dict[str, dict[str, Any]] = {
    "classification": {
        "fields": {"text": "text", "label": "label"},
        "templates": [
            "Classify the following text.\n\n{text}",
            "{text}\n\nWhich category best describes the text above?",
            "Text: {text}\n\nWhat is the label of this text?",
        ],
        "labels": True,
    },
    "sentiment": {
        "fields": {"text": "text", "label": "label"},
        "templates": [
            "What is the sentiment of the following review?\n\n{text}",
            "{text}\n\nIs this review positive or negative?",
            "Review: {text}\nDid the reviewer like it?",
        ],
        "labels": True,
    },
    "nli": {
        "fields": {"premise": "premise", "hypothesis": "hypothesis", "label": "label"},
        "templates": [
            "Premise: {premise}\nHypothesis: {hypothesis}\n\nDoes the premise entail the hypothesis?",
            "{premise}\n\nBased on the paragraph above, can we conclude that \"{hypothesis}\"?",
            "Read the text and decide whether the hypothesis follows from it.\n\nText: {premise}\n"
            "Hypothesis: {hypothesis}",
        ],
        "labels": True,
    },
    "qa": {
        "fields": {"context": "context", "question": "question", "label": "answer"},
        "templates": [
            "{context}\n\nAnswer the question based on the text above: {question}",
            "Read this and answer the question.\n\n{context}\n\n{question}",
            "Context: {context}\nQuestion: {question}\nAnswer:",
        ],
        "labels": False,
    },
}


@register("data_builder", "nlp_task")
@dataclass
class NLPTask(FileSource):
    """Rows -> instructions. `task` picks a preset (classification, sentiment, nli, qa) giving the
    record `fields` (placeholder -> record field; `label` is the answer) and `templates` (one drawn per
    row, seeded), either of which config may replace. `label_names` maps integer labels to words;
    `options` (true: the label names / labels seen in training; or a list) appends an option list;
    `few_shot` exemplars from the training split are put before the question."""

    task: str = "classification"
    fields: dict[str, str] | None = None
    templates: list[str] | None = None
    label_names: list[str] | None = None
    options: bool | list[str] = False
    few_shot: int = 0
    exemplar_separator: str = "\n\n"
    system: str | None = None
    _preset: dict[str, Any] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.task not in PRESETS and (self.fields is None or self.templates is None):
            raise ConfigError(ConfigIssue("data.task", f"unknown task {self.task!r} (presets: "
                                                       f"{', '.join(PRESETS)}); or give fields and templates"))
        preset = PRESETS.get(self.task, {"labels": True})
        self._preset = {"fields": self.fields or preset["fields"], "templates": self.templates or preset["templates"]}
        if "label" not in self._preset["fields"]:
            raise ConfigError(ConfigIssue("data.fields", "needs a `label` entry: the field with the answer"))
        for template in self._preset["templates"]:
            unknown = [n for n in _placeholders(template) if n not in self._preset["fields"]]
            if unknown:
                raise ConfigError(ConfigIssue("data.templates", f"template {template!r} uses {unknown}, "
                                                                f"not in fields {sorted(self._preset['fields'])}"))
        if self.few_shot < 0:
            raise ConfigError(ConfigIssue("data.few_shot", f"expected >= 0, got {self.few_shot}"))

    def parse(self, record: Any) -> dict[str, str]:
        if not isinstance(record, dict):
            raise RecordError("not_an_object", f"expected an object, got {type(record).__name__}")
        row = {}
        for placeholder, key in self._preset["fields"].items():
            if key not in record or record[key] is None:
                raise RecordError("missing_field", f"missing field {key!r}")
            row[placeholder] = self._value(key, record[key], placeholder == "label")
        if not row["label"].strip():
            raise RecordError("empty_response", f"empty answer (field {self._preset['fields']['label']!r})")
        if isinstance(self.options, list) and row["label"] not in self.options:
            raise RecordError("unknown_label", f"label {row['label']!r} is not one of the options {self.options}")
        return row

    def _value(self, key: str, value: Any, is_label: bool) -> str:
        if is_label and self.label_names:  # integer labels (also "1" from CSV) -> names
            if isinstance(value, str) and value in self.label_names:
                return value
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(self.label_names):
                raise RecordError("unknown_label", f"label {value!r} is not an index into label_names "
                                                   f"({len(self.label_names)} names) nor one of them")
            return self.label_names[value]
        if is_label and isinstance(value, list) and value and isinstance(value[0], str):
            return value[0]  # e.g. SQuAD's list of acceptable answers: train on the first
        if is_label and isinstance(value, dict) and isinstance(value.get("text"), list) and value["text"]:
            return str(value["text"][0])
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise RecordError("wrong_type", f"field {key!r} must be a string or number, got {type(value).__name__}")

    def finish(self, items: list[dict[str, str]], split: str, train_items: list[dict[str, str]],
               rng: random.Random) -> list[Example]:
        options = self.options
        if options is True:
            options = list(self.label_names or sorted({row["label"] for row in train_items}))
        split_rng = random.Random(f"{self.seed}:{split}")
        examples = []
        for row in items:
            prompt = self._prompt(row, split_rng, options or None)
            if self.few_shot:
                picked = split_rng.sample(range(len(train_items)), min(self.few_shot + 1, len(train_items)))
                shots = [train_items[i] for i in picked if train_items[i] is not row][: self.few_shot]
                demos = [f"{self._prompt(s, split_rng, options or None)}\n{s['label']}" for s in shots]
                prompt = self.exemplar_separator.join([*demos, prompt])
            examples.append(Example.single_turn(prompt, row["label"], system=self.system, task=self.task))
        return examples

    def _prompt(self, row: dict[str, str], rng: random.Random, options: list[str] | None) -> str:
        text = rng.choice(self._preset["templates"]).format_map(row)
        if options:
            text += "\n\nOPTIONS:\n" + "\n".join(f"- {o}" for o in options)
        return text


def _placeholders(template: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(template) if name]
