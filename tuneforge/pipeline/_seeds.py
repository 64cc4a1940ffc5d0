"""Seed tasks in the original Self-Instruct format (one JSON object a line):

    {"id": "seed_task_0", "name": "...", "instruction": "...",
     "instances": [{"input": "...", "output": "..."}], "is_classification": false}

The built-in pool (tuneforge/assets/seed_tasks.jsonl) holds 175 tasks written for tuneforge.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tuneforge.errors import TuneforgeError

BUILTIN = Path(__file__).resolve().parent.parent / "assets" / "seed_tasks.jsonl"


@dataclass(frozen=True)
class SeedTask:
    id: str
    instruction: str
    instances: tuple[tuple[str, str], ...]
    is_classification: bool


def load_seed_tasks(path: str | Path | None = None) -> list[SeedTask]:
    """Read a seed-task JSONL (None: the built-in pool); bad lines are an error naming the line."""
    source = Path(path).expanduser() if path else BUILTIN
    if not source.is_file():
        raise TuneforgeError(f"seed tasks: no file at {source}")
    tasks, seen = [], set()
    for lineno, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            instruction = str(row["instruction"]).strip()
            instances = tuple((str(i.get("input") or ""), str(i["output"])) for i in row.get("instances") or [])
            task = SeedTask(str(row.get("id") or f"seed_task_{lineno - 1}"), instruction, instances,
                            bool(row.get("is_classification", False)))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
            raise TuneforgeError(f"{source}:{lineno}: not a seed task ({type(err).__name__}: {err}); "
                                 "expected {\"instruction\", \"instances\": [{\"input\", \"output\"}], "
                                 "\"is_classification\"}") from None
        if not instruction or task.id in seen:
            raise TuneforgeError(f"{source}:{lineno}: empty instruction or duplicate id {task.id!r}")
        seen.add(task.id)
        tasks.append(task)
    if not tasks:
        raise TuneforgeError(f"seed tasks: {source} holds no task")
    return tasks
