"""File sources: every format, 1-based lines of rejected records, strict mode, empty / unreadable files,
seeded held-out splits, and the accounting read = kept + rejected through prepare_data."""
from __future__ import annotations

import json
import os

import pytest

from tuneforge.data.base import LoaderSettings
from tuneforge.errors import ConfigError, TuneforgeError
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.binding import build
from tuneforge.render.prepare import prepare_data
from tuneforge.template.named import TEMPLATES

GOOD = [{"instruction": f"reverse w{i}", "input": "", "output": f"{i}w"} for i in range(20)]


def alpaca(path, **kw):
    return build("data_builder", {"name": "alpaca", "path": str(path), **kw}, "data")


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_broken_jsonl_lines_are_rejected_with_file_line_reason(tmp_path, byte_tokenizer):
    rows = [GOOD[0], "{not json", {"instruction": "x"}, {"instruction": 3, "output": "y"},
            {"instruction": "x", "output": "   "}, [1, 2], "", GOOD[1],
            {"instruction": "long", "output": "z" * 300}, GOOD[2]]
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    builder = alpaca(path, val_fraction=0.0)
    run = tmp_path / "run"
    data = prepare_data(builder, byte_tokenizer, TEMPLATES["plain"], MultiTurn(),
                        LoaderSettings(max_length=64, truncation="drop"), run)
    rejects = [json.loads(line) for line in (run / "rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["kind"]) for r in rejects] == [
        (2, "invalid_json"), (3, "missing_field"), (4, "wrong_type"), (5, "empty_response"),
        (6, "not_an_object"), (9, "too_long")]
    assert all(r["file"] == str(path) and r["reason"] for r in rejects)
    m = data.metrics
    assert m["data/read"] == 9 and m["data/kept"] == 3 and m["data/rejected"] == 6
    assert m["data/read"] == m["data/kept"] + m["data/rejected"]
    assert m["data/rejected/too_long"] == 1 and len(data.encoded["train"]) == 3


def test_strict_stops_at_first_bad_record(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [GOOD[0], GOOD[1], "{oops"])
    with pytest.raises(TuneforgeError, match=rf"^{path}:3: invalid JSON"):
        alpaca(path, strict=True).build()


def test_strict_too_long_names_file_and_line(tmp_path, byte_tokenizer):
    path = write_jsonl(tmp_path / "d.jsonl", [GOOD[0], {"instruction": "a", "output": "b" * 100}])
    with pytest.raises(TuneforgeError, match=rf"{path}:2: too long"):
        prepare_data(alpaca(path, strict=True, val_fraction=0.0), byte_tokenizer, TEMPLATES["plain"],
                     MultiTurn(), LoaderSettings(max_length=32, truncation="drop"))


def test_empty_missing_and_unreadable_files_are_clear_errors(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(TuneforgeError, match=f"{empty} is empty"):
        alpaca(empty).build()
    with pytest.raises(TuneforgeError, match="does not exist"):
        alpaca(tmp_path / "nope.jsonl").build()
    with pytest.raises(TuneforgeError, match="data.path is not set"):
        alpaca("???").build()  # conf/data/alpaca.yaml's mandatory value, not overridden
    mix = build("data_builder", {"name": "mix", "mixer": {"name": "concat"},
                                 "sources": {"a": {"name": "alpaca", "path": str(empty)}}}, "data")
    with pytest.raises(TuneforgeError, match=f"data.sources.a: data file {empty} is empty"):
        mix.build()
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes(b'{"instruction": "caf\xe9", "output": "x"}\n')
    with pytest.raises(TuneforgeError, match=f"{latin1} is not UTF-8"):
        alpaca(latin1).build()
    locked = write_jsonl(tmp_path / "locked.jsonl", GOOD)
    os.chmod(locked, 0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(TuneforgeError, match=f"{locked} is unreadable"):
            alpaca(locked).build()
    finally:
        os.chmod(locked, 0o644)
    bad = write_jsonl(tmp_path / "all_bad.jsonl", ["{x", "{y"])
    with pytest.raises(TuneforgeError, match="no usable records.*2 rejected.*:1: invalid JSON"):
        alpaca(bad).build()


def test_json_csv_parquet_hf_and_txt_sources(tmp_path):
    import datasets

    (tmp_path / "d.json").write_text(json.dumps(GOOD[:5], indent=1))
    with (tmp_path / "d.csv").open("w") as f:
        f.write("instruction,input,output\n")
        f.writelines(f'"{r["instruction"]}",,{r["output"]}\n' for r in GOOD[:5])
        f.write("only,two\n")
    datasets.Dataset.from_list(GOOD[:5]).to_parquet(str(tmp_path / "d.parquet"))
    hf_dir = tmp_path / "hf"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(GOOD[:6]),
                          "validation": datasets.Dataset.from_list(GOOD[6:8]),
                          "test": datasets.Dataset.from_list(GOOD[8:9])}).save_to_disk(str(hf_dir))
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    write_jsonl(raw_dir / "train.jsonl", GOOD[:4])
    write_jsonl(raw_dir / "test.jsonl", GOOD[4:6])
    for name in ("d.json", "d.csv", "d.parquet"):
        builder = alpaca(tmp_path / name, val_fraction=0.0)
        splits = builder.build()
        assert [e.reference for e in splits["train"]] == [r["output"] for r in GOOD[:5]], name
    csv_builder = alpaca(tmp_path / "d.csv", val_fraction=0.0)
    csv_builder.build()
    assert [(r["line"], r["kind"]) for r in csv_builder.report.rejects] == [(7, "invalid_csv")]
    json_lines = [e.meta["line"] for e in alpaca(tmp_path / "d.json", val_fraction=0.0).build()["train"]]
    assert json_lines == [2, 7, 12, 17, 22]  # the line each array element starts on
    datasets.Dataset.from_list(GOOD[:5]).save_to_disk(str(tmp_path / "single"))
    assert len(alpaca(tmp_path / "single", val_fraction=0.0).build()["train"]) == 5
    hf_builder = alpaca(hf_dir)
    splits = hf_builder.build()  # splits of a saved DatasetDict are kept, nothing held out
    assert [len(splits[s]) for s in ("train", "val", "test")] == [6, 2, 1] and hf_builder.report.read == 9
    streamed = alpaca(raw_dir, streaming=True, val_fraction=0.0).build()
    assert [len(streamed[s]) for s in ("train", "test")] == [4, 2]
    (tmp_path / "t.txt").write_text("first doc\nline two\n\n\nsecond doc\n")
    docs = build("data_builder", {"name": "pretrain_text", "path": str(tmp_path / "t.txt")}, "data").build()
    assert [(e.text, e.meta["line"]) for e in docs["train"]] == [("first doc\nline two", 1), ("second doc", 5)]


def test_held_out_fractions_are_seeded_and_disjoint(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", GOOD)
    a = alpaca(path, val_fraction=0.2, test_fraction=0.1, seed=3).build()
    b = alpaca(path, val_fraction=0.2, test_fraction=0.1, seed=3).build()
    c = alpaca(path, val_fraction=0.2, test_fraction=0.1, seed=4).build()
    refs = {s: [e.reference for e in a[s]] for s in a}
    assert [len(refs[s]) for s in ("train", "val", "test")] == [14, 4, 2]
    assert refs == {s: [e.reference for e in b[s]] for s in b}
    assert refs["val"] != [e.reference for e in c["val"]]
    assert not set(refs["train"]) & set(refs["val"]) and not set(refs["val"]) & set(refs["test"])
    explicit = alpaca(path, val_path=str(write_jsonl(tmp_path / "v.jsonl", GOOD[:3]))).build()
    assert len(explicit["train"]) == 20 and len(explicit["val"]) == 3


def test_bad_fraction_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="data.val_fraction"):
        alpaca(tmp_path / "x.jsonl", val_fraction=1.5)


def test_each_file_is_checked_once_and_a_split_file_too(tmp_path, monkeypatch):
    from tuneforge.data import _file_source, _records

    checked = []
    real = _records.check_readable
    for module in (_file_source, _records):
        monkeypatch.setattr(module, "check_readable", lambda p: checked.append(p.name) or real(p))
    train, val = write_jsonl(tmp_path / "t.jsonl", GOOD), write_jsonl(tmp_path / "v.jsonl", GOOD[:3])
    splits = alpaca(train, val_path=str(val)).build()
    assert (len(splits["train"]), len(splits["val"]), checked) == (20, 3, ["t.jsonl", "v.jsonl"])
    with pytest.raises(TuneforgeError, match="v2.jsonl does not exist"):
        alpaca(train, val_path=str(tmp_path / "v2.jsonl")).build()
