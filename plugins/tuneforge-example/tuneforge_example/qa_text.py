"""Data builder `qa_text`: question/answer pairs from a plain text file.

    Q: What is the capital of France?
    A: Paris.

    Q: Name two primes
    above ten.
    A: 11 and 13.

Blocks are separated by blank lines; a question or an answer may span several lines.
"""
from __future__ import annotations

import random
from pathlib import Path

from tuneforge.data.base import Splits
from tuneforge.errors import ConfigError, ConfigIssue, TuneforgeError
from tuneforge.registry import register
from tuneforge.data.example import Example


def parse(text: str, source: str = "<text>") -> list[tuple[int, str, str]]:
    """(line of the block, question, answer) for every block; a malformed block is an error naming
    its line."""
    pairs, block, start = [], [], 0
    for number, line in enumerate([*text.splitlines(), ""], 1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
            continue
        if not block:
            continue
        body = "\n".join(block)
        if not body.startswith("Q:") or "\nA:" not in body:
            raise TuneforgeError(f"{source}:{start}: expected a block 'Q: ...' then a line starting 'A: ...'")
        question, answer = body[2:].split("\nA:", 1)
        if not question.strip() or not answer.strip():
            raise TuneforgeError(f"{source}:{start}: empty question or answer")
        pairs.append((start, question.strip(), answer.strip()))
        block = []
    return pairs


@register("data_builder", "qa_text")
class QAText:
    """Question/answer pairs from a text file of "Q: ..." / "A: ..." blocks separated by blank lines;
    `val_fraction` / `test_fraction` of them held out (seeded)."""

    def __init__(self, path: str, val_fraction: float = 0.1, test_fraction: float = 0.0, seed: int = 0,
                 system: str | None = None):
        for key, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
            if not 0 <= value < 1:
                raise ConfigError(ConfigIssue(f"data.{key}", f"expected a fraction in [0, 1), got {value}"))
        self.path, self.val_fraction, self.test_fraction = path, val_fraction, test_fraction
        self.seed, self.system = seed, system

    def build(self) -> Splits:
        file = Path(self.path).expanduser()
        if self.path in ("", "???") or not file.is_file():
            raise TuneforgeError(f"data.path: no file at {self.path!r} (give data.path=FILE)")
        pairs = parse(file.read_text(encoding="utf-8"), str(file))
        if not pairs:
            raise TuneforgeError(f"{file}: no Q/A blocks")
        examples = [Example.single_turn(q, a, self.system, file=str(file), line=line) for line, q, a in pairs]
        order = list(range(len(examples)))
        random.Random(self.seed).shuffle(order)
        n_val = round(self.val_fraction * len(order)) if self.val_fraction else 0
        n_test = round(self.test_fraction * len(order)) if self.test_fraction else 0
        held = {"val": sorted(order[:n_val]), "test": sorted(order[n_val:n_val + n_test])}
        train = sorted(order[n_val + n_test:])
        splits: Splits = {"train": [examples[i] for i in train], "val": [examples[i] for i in held["val"]]}
        if n_test:
            splits["test"] = [examples[i] for i in held["test"]]
        return splits
