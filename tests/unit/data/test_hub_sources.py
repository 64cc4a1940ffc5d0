"""Datasets by id: a local dataset repository (parquet shards + README.md `configs:`, the layout of a hub
dataset, read through the same datasets.load_dataset call as a hub id) with data.subset, data.split and
data.columns; rejects keep their row numbers; a hub id that cannot be reached fails at once with one line."""
from __future__ import annotations

import socket
import time

import pytest

from tuneforge.binding import build
from tuneforge.errors import TuneforgeError

README = """---
configs:
- config_name: chat
  data_files:
  - split: train
    path: chat/train-*
  - split: test
    path: chat/test-*
- config_name: qa
  data_files:
  - split: train
    path: qa/train-*
---
# a dataset card
"""


def turn(role, content):
    return {"role": role, "content": content}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("dataset_repo")
    for folder in ("chat", "qa"):
        (root / folder).mkdir()
    dialogs = [[turn("user", f"q{i}"), turn("assistant", f"a{i}")] for i in range(6)]
    dialogs[3] = [turn("user", "q3"), turn("assistant", "  ")]  # row 4 of the first shard: empty reply
    pq.write_table(pa.table({"dialog": dialogs[:4]}), root / "chat" / "train-00000-of-00002.parquet")
    pq.write_table(pa.table({"dialog": dialogs[4:]}), root / "chat" / "train-00001-of-00002.parquet")
    pq.write_table(pa.table({"dialog": [[turn("user", "t"), turn("assistant", "u")]]}),
                   root / "chat" / "test-00000-of-00001.parquet")
    pq.write_table(pa.table({"prompt": ["p0", "p1", "p2"], "answer": ["x0", "", "x2"]}),
                   root / "qa" / "train-00000-of-00001.parquet")
    (root / "README.md").write_text(README)
    return root


def data(name, **kw):
    return build("data_builder", {"name": name, "val_fraction": 0.0, **kw}, "data")


def test_subset_columns_and_the_repositorys_own_splits(repo):
    builder = data("dialogue", path=str(repo), subset="chat", columns={"messages": "dialog"})
    splits = builder.build()
    assert [len(splits[s]) for s in ("train", "val", "test")] == [5, 0, 1]
    assert splits["train"][0].messages == [turn("user", "q0"), turn("assistant", "a0")]
    assert splits["test"][0].meta == {"file": f"{repo}[test]", "line": 1}
    assert [(r["file"], r["line"], r["kind"]) for r in builder.report.rejects] == [
        (f"{repo}[train]", 4, "empty_response")]  # row numbers run on across the shards of a split
    assert [e.meta["line"] for e in splits["train"]] == [1, 2, 3, 5, 6]
    qa = data("alpaca", path=str(repo), subset="qa", columns={"instruction": "prompt", "output": "answer"})
    assert [e.reference for e in qa.build()["train"]] == ["x0", "x2"]
    assert [(r["line"], r["kind"]) for r in qa.report.rejects] == [(2, "empty_response")]


def test_split_selects_the_training_split_and_the_rest_is_held_out(repo):
    only = data("dialogue", path=str(repo), subset="chat", split="test", columns={"messages": "dialog"})
    assert [e.reference for e in only.build()["train"]] == ["u"]
    sliced = build("data_builder", {"name": "dialogue", "path": str(repo), "subset": "chat", "split": "train[:4]",
                                    "columns": {"messages": "dialog"}, "val_fraction": 0.25}, "data").build()
    assert (len(sliced["train"]), len(sliced["val"]), "test" in sliced) == (2, 1, False)


@pytest.mark.parametrize("kw,message", [
    ({}, r"data.path=.*: it has several subsets \('chat', 'qa'\); choose one with data.subset=NAME"),
    ({"subset": "nope"}, r"data.subset=nope is not one of its subsets \('chat', 'qa'\)"),
    ({"subset": "chat", "split": "dev"}, r"data.split=dev: Unknown split"),
    ({"subset": "chat"}, r"missing field 'messages'.*its fields: dialog: map one with data.columns"),
])
def test_dataset_mistakes_are_one_line_naming_the_key(repo, kw, message):
    with pytest.raises(TuneforgeError, match=message) as err:
        data("dialogue", path=str(repo), **kw).build()
    assert "\n" not in str(err.value)


def test_subset_on_a_single_file_is_a_config_error(tmp_path):
    from tuneforge.errors import ConfigError

    (tmp_path / "d.jsonl").write_text('{"instruction": "a", "output": "b"}\n')
    with pytest.raises(ConfigError, match="data.subset: .* is a single file"):
        data("alpaca", path=str(tmp_path / "d.jsonl"), subset="x").build()


def test_hub_id_offline_fails_at_once_naming_the_fix():
    """HF_HUB_OFFLINE=1 (set for the tests) and not cached: one line at once, not datasets' retries."""
    start = time.perf_counter()
    with pytest.raises(TuneforgeError) as err:
        data("alpaca", path="nobody-h2/no-such-dataset", subset="x").build()
    text = str(err.value)
    assert time.perf_counter() - start < 10 and "\n" not in text
    assert "HF_HUB_OFFLINE=1" in text and "hf download nobody-h2/no-such-dataset --repo-type dataset" in text


def test_hub_unreachable_without_offline_flag_fails_at_once(monkeypatch):
    """No network and no HF_HUB_OFFLINE: a TCP probe of the endpoint (here a closed local port) instead of
    ~25 s of retries; the model loader says the same for a hub model id."""
    from tuneforge import hub as _hub
    from tuneforge.model.hf import HFModel

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: connections are refused
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_hub, "offline_flag", lambda: None)
    monkeypatch.setattr(_hub, "endpoint", lambda: f"http://127.0.0.1:{port}")
    monkeypatch.setattr(_hub, "_reachable", {})
    start = time.perf_counter()
    with pytest.raises(TuneforgeError, match=rf"data.path=nobody-h2/nothing: no such local path, and the hub "
                                             rf"cannot be reached .*no connection to http://127.0.0.1:{port}"):
        data("dialogue", path="nobody-h2/nothing").build()
    with pytest.raises(TuneforgeError, match=r"model.name_or_path=nobody-h2/no-model: .*hf download "
                                             r"nobody-h2/no-model"):
        HFModel("nobody-h2/no-model").check_hub()  # what build / build_tokenizer / model_config call first
    assert time.perf_counter() - start < 10


def test_the_model_loader_checks_the_hub_once_per_build(tmp_path, monkeypatch):
    from tests.conftest import make_tiny
    from tuneforge.model.hf import HFModel

    model, tok = make_tiny(hidden_size=16, num_layers=1)
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    calls = []
    real = HFModel.check_hub
    monkeypatch.setattr(HFModel, "check_hub", lambda self: calls.append("check") or real(self))
    loader = HFModel(str(tmp_path), dtype="float32")
    built, tokenizer = loader.build()
    assert len(calls) == 1 and tokenizer.pad_token is not None
    assert loader.build_tokenizer().get_vocab() == tokenizer.get_vocab() and len(calls) == 2
