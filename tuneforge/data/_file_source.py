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
from tuneforge.data._records import (FORMATS, RecordError, RejectLog, check_readable, detect_format, hf_rows,
                                     hf_source, read_records)
from tuneforge.data.base import Splits


@dataclass
class FileSource:
    """Common keys: `path` (the data file, a dataset directory or a hub dataset id; `data.path=FILE`),
    `val_path` / `test_path` (splits in their own files), else `val_fraction` / `test_fraction` of the
    records are held out (seeded); `format` (auto by extension), `max_records` (keep at most this many
    usable records per file), `streaming` (hf datasets), `strict` (stop at the first malformed record with
    `file:line: reason`); for datasets, `subset` (the config name) and `split` (the one split read, as the
    training data); `columns` (field the builder reads -> column of the data, e.g. {messages: dialog})."""

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
    subset: str | None = None
    split: str | None = None
    columns: dict[str, str] | None = None
    report: RejectLog = field(init=False, repr=False, default_factory=RejectLog)
    _fields_seen: list[str] = field(init=False, repr=False, default_factory=list)  # of a record missing one

    def __post_init__(self) -> None:
        issues = []
        for key in ("val_fraction", "test_fraction"):
            if not 0.0 <= getattr(self, key) < 1.0:
                issues.append(ConfigIssue(f"data.{key}", f"expected 0 <= {key} < 1, got {getattr(self, key)}"))
        if self.val_fraction + self.test_fraction >= 1.0:
            issues.append(ConfigIssue("data.val_fraction", "val_fraction + test_fraction must be < 1"))
        if self.format not in FORMATS:
            issues.append(ConfigIssue("data.format", f"expected one of {FORMATS}, got {self.format!r}"))
        for field_name, column in (self.columns or {}).items():
            if not isinstance(column, str) or not column:
                issues.append(ConfigIssue(f"data.columns.{field_name}", f"expected a column name, got {column!r}"))
        if issues:
            raise ConfigError(issues)
        self.report = RejectLog(strict=self.strict)

    # ------------------------------------------------------------------ hooks for builders
    def parse(self, record: Any) -> Any:
        raise NotImplementedError

    def finish(self, items: list[Any], split: str, train_items: list[Any], rng: random.Random) -> list[Example]:
        return items

    # ------------------------------------------------------------------ building
    def _parse(self, record: Any) -> Any:
        """`parse` after renaming the mapped columns (`columns`: field -> column)."""
        if self.columns and isinstance(record, dict):
            record = dict(record)
            for name, column in self.columns.items():
                if column in record:
                    record[name] = record.pop(column)
            try:
                return self.parse(record)
            except RecordError as err:
                raise RecordError(err.kind, f"{err} (data.columns: {dict(self.columns)})") from None
        return self.parse(record)

    def _keep(self, file: str, rows: Any) -> list[tuple[str, int, Any]]:
        kept = []
        for line, record in rows:
            try:
                kept.append((file, line, self._parse(record)))
            except RecordError as err:
                self.report.reject(file, line, err)
                if err.kind == "missing_field" and isinstance(record, dict) and not self._fields_seen:
                    self._fields_seen = [str(k) for k in record][:12]
            if self.max_records is not None and len(kept) >= self.max_records:
                break
        return kept

    def _read(self, path: str, fmt: str | None = None) -> list[tuple[str, int, Any]]:
        """The records of one file; `fmt`: its format, when `build` has checked the file already."""
        file, read_before = Path(path).expanduser(), self.report.read
        if fmt is None:
            check_readable(file)
        kept = self._keep(str(file), read_records(file, fmt or self.format, self.report, streaming=self.streaming,
                                                  subset=self.subset))
        if self.report.read == read_before:
            raise TuneforgeError(f"data file {file} is empty (no records)")
        return kept

    def _read_dataset(self, source: Path) -> dict[str, list[tuple[str, int, Any]]]:
        """Each split of a dataset (a hub id, a dataset directory); row numbers count within a split."""
        splits = hf_source(source, self.subset, self.split, self.streaming)
        if "train" not in splits:
            found = ", ".join(splits) or "none that tuneforge reads (train, validation, test)"
            raise TuneforgeError(f"data.path={self.path} has no train split (it has {found}); name the one to "
                                 "train on with data.split=NAME")
        raw = {}
        for name, dataset in splits.items():
            label = str(source) if len(splits) == 1 else f"{source}[{name}]"
            raw[name] = self._keep(label, hf_rows(dataset, self.report))
        if self.report.read == 0:
            raise TuneforgeError(f"data file {source} is empty (no records)")
        return raw

    def build(self) -> Splits:
        if not self.path or self.path == "???":
            raise TuneforgeError("data.path is not set: give the data file, e.g. data.path=train.jsonl")
        self.report, self._fields_seen = RejectLog(strict=self.strict), []
        source = Path(self.path).expanduser()
        check_readable(source)
        fmt = detect_format(source, self.format)
        if fmt == "hf":
            raw = self._read_dataset(source)
        else:
            if self.subset or self.split:
                key = "subset" if self.subset else "split"
                raise ConfigError(ConfigIssue(f"data.{key}", f"{self.path} is a single file: data.{key} applies "
                                                            "to datasets (a hub id or a dataset directory)"))
            raw = {"train": self._read(self.path, fmt)}
        for split, extra in (("val", self.val_path), ("test", self.test_path)):
            if extra:
                raw[split] = self._read(extra)
        if not raw["train"]:
            first = self.report.rejects[0] if self.report.rejects else None
            why = f"; first: {first['file']}:{first['line']}: {first['reason']}" if first else ""
            if self._fields_seen:
                why += (f"; its fields: {', '.join(self._fields_seen)}: map one with data.columns="
                        "{FIELD: COLUMN}")
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
