"""The prepared-data cache: a second run loads what the first prepared (same data, rejects.jsonl written
again), any change of the inputs (data file, tokenizer, template, mask, settings, builder options, version,
code) is a new key, inputs it cannot describe turn it off, and entries are safe with runs at once."""
from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import random
import sys
from dataclasses import dataclass

import pytest

from tests.unit.template._bpe import bpe_tokenizer
from tuneforge.data.alpaca import Alpaca
from tuneforge.data.base import LoaderSettings
from tuneforge.loss_mask.last_turn import LastTurn
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.render import cache
from tuneforge.render.prepare import prepare_data
from tuneforge.template.named import TEMPLATES


def write_alpaca(path, n=40, seed=0):
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "naïve", "東京"]
    rows = [{"instruction": " ".join(rng.choices(words, k=rng.randint(1, 6))),
             "output": "" if i % 9 == 4 else " ".join(rng.choices(words, k=rng.randint(1, 9)))} for i in range(n)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "MIN_RECORDS", 0)  # the test data is small
    data = write_alpaca(tmp_path / "train.jsonl")
    settings = LoaderSettings(max_length=40, truncation="drop", cache_dir=str(tmp_path / "cache"))
    return data, settings, bpe_tokenizer()


def test_a_second_run_loads_the_prepared_data(tmp_path, monkeypatch, setup):
    data, settings, tok = setup
    first = prepare_data(Alpaca(path=str(data)), tok, TEMPLATES["plain"], MultiTurn(), settings, tmp_path / "run1")
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".pkl"]
    monkeypatch.setattr(Alpaca, "build", lambda self: pytest.fail("built again despite the cache"))
    second = prepare_data(Alpaca(path=str(data)), tok, TEMPLATES["plain"], MultiTurn(), settings, tmp_path / "run2")
    assert second == first and first.rejects and first.eval_examples
    assert (tmp_path / "run2" / "rejects.jsonl").read_text() == (tmp_path / "run1" / "rejects.jsonl").read_text()
    # settings that do not change the prepared data share the entry
    other = LoaderSettings(**{**vars(settings), "batch_size": 3, "num_proc": 2, "shuffle": False})
    assert prepare_data(Alpaca(path=str(data)), tok, TEMPLATES["plain"], MultiTurn(), other) == first


def test_below_min_records_nothing_is_stored(tmp_path, monkeypatch, setup):
    data, settings, tok = setup
    monkeypatch.setattr(cache, "MIN_RECORDS", 41)  # the file has 40
    prepare_data(Alpaca(path=str(data)), tok, TEMPLATES["plain"], MultiTurn(), settings)
    assert not (tmp_path / "cache").exists()


CODE = '''
from dataclasses import dataclass
from tuneforge.data.alpaca import Alpaca

@dataclass
class MyAlpaca(Alpaca):
    shout: bool = False
'''


def test_any_change_of_the_inputs_is_a_new_key(tmp_path, monkeypatch, setup):
    data, settings, tok = setup
    module_file = tmp_path / "my_builder.py"
    module_file.write_text(CODE)
    spec = importlib.util.spec_from_file_location("my_builder", module_file)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "my_builder", module)
    spec.loader.exec_module(module)

    def key(builder=None, tokenizer=tok, template=TEMPLATES["plain"], masker=None, s=settings):
        return cache.cache_key(builder or Alpaca(path=str(data)), tokenizer, template, masker or MultiTurn(), s)

    base = key()
    assert base == key() and base is not None
    changed = {"template": key(template=TEMPLATES["chatml"]), "mask": key(masker=LastTurn()),
               "max_length": key(s=LoaderSettings(**{**vars(settings), "max_length": 41})),
               "truncation": key(s=LoaderSettings(**{**vars(settings), "truncation": "truncate"})),
               "builder option": key(Alpaca(path=str(data), val_fraction=0.1)),
               "plugin builder": key(module.MyAlpaca(path=str(data)))}
    plugin = changed["plugin builder"]
    module_file.write_text(CODE + "# edited\n")  # the plugin's code changed: its entries are stale
    changed["plugin code"] = key(module.MyAlpaca(path=str(data)))
    assert changed["plugin code"] != plugin
    bigger = bpe_tokenizer()
    bigger.add_tokens(["alphabeta"])
    changed["tokenizer"] = key(tokenizer=bigger)
    other_eos = bpe_tokenizer()
    other_eos.eos_token = "<|endoftext|>"
    changed["eos token"] = key(tokenizer=other_eos)
    monkeypatch.setattr("tuneforge.__version__", "99.0")
    changed["version"] = key()
    monkeypatch.undo()
    monkeypatch.setattr(cache, "MIN_RECORDS", 0)
    st = data.stat()
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # touched: same bytes, newer
    changed["file mtime"] = key()
    write_alpaca(data, seed=1)
    changed["file content"] = key()
    assert len(set(changed.values()) | {base}) == len(changed) + 1, changed

    # end to end: the edited file is prepared again, never served from the old entry
    first = prepare_data(Alpaca(path=str(data)), tok, TEMPLATES["plain"], MultiTurn(), settings)
    write_alpaca(data, n=30, seed=2)
    again = prepare_data(Alpaca(path=str(data)), tok, TEMPLATES["plain"], MultiTurn(), settings)
    assert again.metrics["data/read"] == 30 and first.metrics["data/read"] == 40


@dataclass
class Seeded:
    rng: random.Random

    def build(self):
        return {"train": []}


def test_inputs_it_cannot_describe_turn_the_cache_off(setup):
    _, settings, tok = setup
    assert cache.cache_key(Alpaca(path="tatsu-lab/alpaca"), tok, TEMPLATES["plain"], MultiTurn(), settings) is None
    assert cache.cache_key(Seeded(random.Random(0)), tok, TEMPLATES["plain"], MultiTurn(), settings) is None
    assert cache.cache_key(Seeded(lambda: 1), tok, TEMPLATES["plain"], MultiTurn(), settings) is None


@dataclass
class Styled:
    path: str
    style: str
    columns: dict

    def build(self):
        return {"train": []}


def test_only_path_like_keys_are_looked_up(setup, tmp_path, monkeypatch):
    """A value such as "." under a key that names no file (a style, a column) is a value: never walked."""
    data, settings, tok = setup
    looked_up = []
    real_stat = cache._stat
    monkeypatch.setattr(cache, "_stat", lambda p: looked_up.append(p) or real_stat(p))
    builder = Styled(str(data), ".", {"text": str(tmp_path)})
    before = cache.cache_key(builder, tok, TEMPLATES["plain"], MultiTurn(), settings)
    assert before is not None and [p for p in looked_up if p.suffix != ".py"] == [data]  # code files aside
    data.write_text(data.read_text() + "\n")  # the file under `path` changed: a new key
    assert cache.cache_key(builder, tok, TEMPLATES["plain"], MultiTurn(), settings) != before


def test_an_entry_that_cannot_be_written_only_warns_and_leaves_no_file(tmp_path, caplog):
    assert cache.store(tmp_path, "k", {"f": lambda: 1}) is None  # a value pickle refuses
    assert "could not write" in caplog.text and os.listdir(tmp_path) == []
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cache.store(blocker, "k", {"f": 1}) is None  # a directory that cannot be made
    assert os.listdir(tmp_path) == ["file"]


def _writer(directory, key, value, rounds):
    for _ in range(rounds):
        assert cache.store(directory, key, value) is not None


def test_writes_are_atomic_with_runs_at_once(tmp_path):
    """Two processes replace an entry over and over while this one reads it: every read is the whole entry
    (never a partial or missing file), and no temporary file is left."""
    value = {"tokens": list(range(200_000))}
    cache.store(tmp_path, "k", value)
    ctx = multiprocessing.get_context("fork")
    writers = [ctx.Process(target=_writer, args=(tmp_path, "k", value, 20)) for _ in range(2)]
    for w in writers:
        w.start()
    reads = 0
    while any(w.is_alive() for w in writers):
        assert cache.load(tmp_path, "k") == value
        reads += 1
    assert all(w.exitcode == 0 for w in writers) and reads > 0
    assert cache.load(tmp_path, "k") == value
    assert [p.name for p in tmp_path.iterdir()] == ["k.pkl"]


def _prepare_in_child(data, settings, out):
    result = prepare_data(Alpaca(path=str(data)), bpe_tokenizer(), TEMPLATES["plain"], MultiTurn(), settings)
    out.write_text(json.dumps([e.input_ids for e in result.encoded["train"]]))


def test_two_runs_at_once_and_a_damaged_entry(tmp_path, setup, caplog):
    data, settings, tok = setup
    ctx = multiprocessing.get_context("fork")
    runs = [ctx.Process(target=_prepare_in_child, args=(data, settings, tmp_path / f"out{i}")) for i in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    assert [run.exitcode for run in runs] == [0, 0]
    assert (tmp_path / "out0").read_text() == (tmp_path / "out1").read_text()
    entries = list((tmp_path / "cache").iterdir())
    assert len(entries) == 1 and entries[0].suffix == ".pkl"
    entries[0].write_bytes(entries[0].read_bytes()[:100])  # damaged (a disk error, a killed copy)
    data_again = prepare_data(Alpaca(path=str(data)), tok, TEMPLATES["plain"], MultiTurn(), settings)
    assert "unreadable entry" in caplog.text
    assert json.dumps([e.input_ids for e in data_again.encoded["train"]]) == (tmp_path / "out0").read_text()
    assert cache.load(tmp_path / "cache", entries[0].stem) is not None  # replaced by a whole entry
