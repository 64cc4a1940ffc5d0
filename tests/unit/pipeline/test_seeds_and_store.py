"""Seed tasks (built-in 175, original format accepted) and the append-only JSONL with torn-line repair."""
from __future__ import annotations

import json

import pytest

from tuneforge.errors import TuneforgeError
from tuneforge.filters.rouge_l import dedup
from tuneforge.pipeline._seeds import BUILTIN, load_seed_tasks
from tuneforge.pipeline._store import JsonlLog


def test_builtin_seed_pool():
    seeds = load_seed_tasks()
    assert len(seeds) == 175 and len({s.id for s in seeds}) == 175
    assert sum(s.is_classification for s in seeds) >= 12 and sum(not s.is_classification for s in seeds) >= 19
    assert all(s.instances and s.instances[0][1].strip() for s in seeds)
    assert all(dedup([s.instruction for s in seeds]))  # diverse: no pair above ROUGE-L 0.7
    assert BUILTIN.name == "seed_tasks.jsonl"


def test_seed_file_in_original_format(tmp_path):
    path = tmp_path / "seeds.jsonl"
    row = {"id": "seed_task_0", "name": "x", "instruction": "Do it.", "instances": [{"input": "", "output": "Done."}],
           "is_classification": False}
    path.write_text(json.dumps(row) + "\n\n")
    assert load_seed_tasks(path)[0].instances == (("", "Done."),)
    path.write_text(json.dumps(row) + "\n{\"instruction\": \n")
    with pytest.raises(TuneforgeError, match=r"seeds.jsonl:2"):
        load_seed_tasks(path)
    with pytest.raises(TuneforgeError, match="no file"):
        load_seed_tasks(tmp_path / "missing.jsonl")


def test_torn_last_line_is_repaired_not_parsed(tmp_path):
    path = tmp_path / "generated.jsonl"
    log = JsonlLog(path)
    log.append([{"id": 1}, {"id": 2}])
    torn = b'{"id": 3, "instruction": "half wri'
    with open(path, "ab") as f:
        f.write(torn)
    again = JsonlLog(path)
    assert [r["id"] for r in again.records] == [1, 2] and again.repaired_bytes == len(torn)
    assert path.read_bytes().endswith(b"}\n")
    again.append([{"id": 3}])
    assert [r["id"] for r in JsonlLog(path).records] == [1, 2, 3]


def test_corrupt_middle_line_is_an_error(tmp_path):
    path = tmp_path / "generated.jsonl"
    path.write_text('{"id": 1}\nnot json\n{"id": 2}\n')
    with pytest.raises(TuneforgeError, match="generated.jsonl:2"):
        JsonlLog(path)
