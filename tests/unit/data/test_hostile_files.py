"""Data files as users and strangers really hand them over: UTF-8 with a byte-order mark in every text format
(Excel's "CSV UTF-8"), a file whose every record is bad (rejects.jsonl still written, every reason kept), a link
to /dev/zero and an endless line (refused with their position, never read until memory runs out)."""
from __future__ import annotations

import json
import os
import time

import pytest

from tuneforge.binding import build
from tuneforge.data import _records
from tuneforge.data.base import LoaderSettings
from tuneforge.errors import TuneforgeError
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.render.prepare import prepare_data
from tuneforge.template.named import TEMPLATES

ROWS = [{"instruction": f"reverse w{i}", "input": "", "output": f"{i}w"} for i in range(12)]
BOM = "\ufeff"


def alpaca(path, **kw):
    return build("data_builder", {"name": "alpaca", "path": str(path), "val_fraction": 0.0, **kw}, "data")


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix,text", [
    (".jsonl", BOM + "".join(json.dumps(r) + "\n" for r in ROWS)),
    (".json", BOM + json.dumps(ROWS)),
    (".csv", BOM + "instruction,input,output\r\n" + "".join(f"{r['instruction']},,{r['output']}\r\n" for r in ROWS)),
])
def test_a_byte_order_mark_loses_no_record(tmp_path, suffix, text):
    splits = alpaca(write(tmp_path / f"d{suffix}", text)).build()
    assert [ex.messages[0]["content"] for ex in splits["train"]] == [r["instruction"] for r in ROWS]


def test_every_record_bad_still_writes_every_reason(tmp_path, byte_tokenizer):
    rows = ["{broken", json.dumps({"instruction": "x"}), json.dumps({"output": "y"}), json.dumps([1])] * 5
    path = write(tmp_path / "bad.jsonl", "\n".join(rows) + "\n")
    run = tmp_path / "run"
    with pytest.raises(TuneforgeError) as err:
        prepare_data(alpaca(path), byte_tokenizer, TEMPLATES["plain"], MultiTurn(), LoaderSettings(), run)
    assert "rejects.jsonl" in str(err.value)
    rejects = [json.loads(line) for line in (run / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 20 and [r["line"] for r in rejects] == list(range(1, 21))
    assert {r["kind"] for r in rejects} == {"invalid_json", "missing_field", "not_an_object"}


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_link_to_dev_zero_is_refused_at_once(tmp_path):
    link = tmp_path / "train.jsonl"
    link.symlink_to("/dev/zero")
    start = time.perf_counter()
    with pytest.raises(TuneforgeError, match="not a regular file"):
        alpaca(link).build()
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".txt", ".json"])
def test_an_endless_line_is_refused_with_its_position(tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(_records, "MAX_LINE_CHARS", 1000)
    monkeypatch.setattr(_records, "MAX_JSON_CHARS", 1000)
    header = {".csv": "instruction,input,output\n", ".txt": "", ".jsonl": json.dumps(ROWS[0]) + "\n", ".json": ""}
    path = write(tmp_path / f"d{suffix}", header[suffix] + "x" * 5000 + "\n")
    builder = alpaca(path) if suffix != ".txt" else build("data_builder", {"name": "pretrain_text", "path": str(path)},
                                                          "data")
    with pytest.raises(TuneforgeError) as err:
        builder.build()
    assert str(path) in str(err.value)
    assert (":2:" in str(err.value) if suffix in (".jsonl", ".csv") else True)
