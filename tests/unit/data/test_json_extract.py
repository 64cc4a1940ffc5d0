"""data=json_extract (the smollm2_lora recipe's task): deterministic splits, answers that are the
sentence's facts as one-line JSON in a fixed key order, held-out first names and cities."""
from __future__ import annotations

import json

import pytest

from tuneforge.errors import ConfigError
from tuneforge.binding import build


def make(**kw):
    return build("data_builder", {"name": "json_extract", **kw}, "data")


def test_splits_are_deterministic_and_sized():
    a, b = make(num_train=50, num_val=5, num_test=20).build(), make(num_train=50, num_val=5, num_test=20).build()
    assert {k: len(v) for k, v in a.items()} == {"train": 50, "val": 5, "test": 20}
    assert all([e.messages for e in a[k]] == [e.messages for e in b[k]] for k in a)
    assert [e.messages for e in make(num_train=50, seed=1).build()["train"]] != [e.messages for e in a["train"]]


def test_answer_is_one_line_json_of_the_sentence():
    for ex in make(num_train=200, num_val=0, num_test=0).build()["train"]:
        prompt, reply = ex.messages[0]["content"], ex.reference
        assert [m["role"] for m in ex.messages] == ["user", "assistant"] and ex.evaluable
        record = json.loads(reply)
        assert list(record) == ["first_name", "last_name", "age", "city"] and "\n" not in reply
        assert reply == json.dumps(record)
        assert f"{record['first_name']} {record['last_name']}" in prompt
        assert str(record["age"]) in prompt and record["city"] in prompt and isinstance(record["age"], int)


def test_test_names_and_cities_never_occur_in_training():
    splits = make(num_train=1200, num_val=32, num_test=100).build()
    facts = {k: [json.loads(e.reference) for e in v] for k, v in splits.items()}
    train_first = {r["first_name"] for r in facts["train"] + facts["val"]}
    train_cities = {r["city"] for r in facts["train"] + facts["val"]}
    assert not {r["first_name"] for r in facts["test"]} & train_first
    assert not {r["city"] for r in facts["test"]} & train_cities
    prompts = [e.messages[0]["content"] for v in splits.values() for e in v]
    assert len(set(prompts)) == len(prompts)


def test_bad_sizes_are_config_errors():
    with pytest.raises(ConfigError, match="data.num_train"):
        make(num_train=0)
    with pytest.raises(ConfigError, match="data.held_out_names"):
        make(held_out_names=1000)
