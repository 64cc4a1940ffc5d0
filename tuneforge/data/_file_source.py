"""The shared part of the file-reading data builders: sources, splits, held-out fractions, rejects.

A builder subclasses `FileSource` (a dataclass: its fields are the config schema every file builder
shares) and implements `parse(record) -> item` (raising RecordError for a malformed record) and,
optionally, `finish(items, split, train_items, rng) -> list[Example]` (default: items are Examples).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue, TuneforgeError
from tuneforge.data.example import Example
from tuneforge.data._records import FORMATS, RecordError, RejectLog, hf_splits, read_records
from tuneforge.data.base import Splits


@dataclass
class FileSource:
    """Common keys: `path` (the data file; `data.path=FILE`), `val_path` / `test_path` (splits in their
    own files), else `val_fraction` / `test_fraction` of the records are held out (seeded); `format`
    (auto by extension), `max_records` (keep at most this many usable records per file), `streaming`
    (hf datasets), `strict` (stop at the first malformed record with `file:line: reason`)."""

    path: str
    val_path: str | None = None
    test_path: str | None = None
    val_fraction: float = 0.05
    test_fraction: float = 0.0
    format: str = "auto"
    max_records: int | None = None
    streaming: bool = False
    strict: bool = False
    seed: int = 0
    report: RejectLog = field(init=False, repr=False, default_factory=RejectLog)

    def __post_init__(self) -> None:
        issues = []
        for key in ("val_fraction", "test_fraction"):
            if not 0.0 <= getattr(self, key) < 1.0:
                issues.append(ConfigIssue(f"data.{key}", f"expected 0 <= {key} < 1, got {getattr(self, key)}"))
        if self.val_fraction + self.test_fraction >= 1.0:
            issues.append(ConfigIssue("data.val_fraction", "val_fraction + test_fraction must be < 1"))
        if self.format not in FORMATS:
            issues.append(ConfigIssue("data.format", f"expected one of {FORMATS}, got {self.format!r}"))
        if issues:
            raise ConfigError(issues)
        self.report = RejectLog(strict=self.strict)

    # ------------------------------------------------------------------ hooks for builders
    def parse(self, record: Any) -> Any:
        raise NotImplementedError

    def finish(self, items: list[Any], split: str, train_items: list[Any], rng: random.Random) -> list[Example]:
        return items

    # ------------------------------------------------------------------ building
    def _read(self, path: str, split: str | None = None) -> list[tuple[str, int, Any]]:
        file = Path(path).expanduser()
        kept, read_before = [], self.report.read
        for line, record in read_records(file, self.format, self.report, streaming=self.streaming,
                                         hf_split=split):
            try:
                kept.append((str(file), line, self.parse(record)))
            except RecordError as err:
                self.report.reject(str(file), line, err)
            if self.max_records is not None and len(kept) >= self.max_records:
                break
        if self.report.read == read_before and split in (None, "train"):
            raise TuneforgeError(f"data file {file} is empty (no records)")
        return kept

    def build(self) -> Splits:
        if not self.path or self.path == "???":
            raise TuneforgeError("data.path is not set: give the data file, e.g. data.path=train.jsonl")
        self.report = RejectLog(strict=self.strict)
        split_names = hf_splits(Path(self.path).expanduser(), self.format)
        if split_names:
            raw = {s: self._read(self.path, s) for s in split_names}
            raw.setdefault("train", [])
        else:
            raw = {"train": self._read(self.path)}
        for split, extra in (("val", self.val_path), ("test", self.test_path)):
            if extra:
                raw[split] = self._read(extra)
        if not raw["train"]:
            first = self.report.rejects[0] if self.report.rejects else None
            why = f"; first: {first['file']}:{first['line']}: {first['reason']}" if first else ""
            raise TuneforgeError(f"no usable records in {self.path} ({len(self.report.rejects)} "
                                 f"rejected{why})")
        rng = random.Random(self.seed)
        held = [(s, f) for s, f in (("val", self.val_fraction), ("test", self.test_fraction))
                if s not in raw and f > 0]
        if held:
            order = list(range(len(raw["train"])))
            rng.shuffle(order)
            for split, fraction in held:
                n = max(1, round(fraction * len(raw["train"]))) if len(order) > 1 else 0
                raw[split] = [raw["train"][i] for i in sorted(order[:n])]
                order = order[n:]
            raw["train"] = [raw["train"][i] for i in sorted(order)]
        train_items = [item for _, _, item in raw["train"]]
        splits: Splits = {}
        for split, rows in raw.items():
            examples = self.finish([item for _, _, item in rows], split, train_items, rng)
            for (file, line, _), example in zip(rows, examples):
                example.meta.setdefault("file", file)
                example.meta.setdefault("line", line)
            splits[split] = examples
        splits.setdefault("val", [])
        return splits
