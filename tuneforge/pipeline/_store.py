"""Append-only JSONL with a durable batch append and repair of a torn last line on open."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from tuneforge.errors import TuneforgeError


class JsonlLog:
    """`records` holds every complete record on disk; `append` writes a batch, flushes and fsyncs.

    A crash (even kill -9) can leave the last line without its newline: it is cut off on open (and
    counted in `repaired_bytes`), never parsed as a record."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.repaired_bytes = 0
        self.records: list[dict[str, Any]] = []
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1  # 0 when there is no complete line at all
        if end < len(data):
            self.repaired_bytes = len(data) - end
            with open(self.path, "r+b") as f:
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())
        for lineno, line in enumerate(data[:end].splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise TuneforgeError(f"{self.path}:{lineno} is not a JSON record ({err.msg}); "
                                     "the file was edited or corrupted: fix or remove that line") from None
            if not isinstance(record, dict):
                raise TuneforgeError(f"{self.path}:{lineno} is not a JSON object")
            self.records.append(record)

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        records = list(records)
        if not records:
            return
        data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        self.records += records
