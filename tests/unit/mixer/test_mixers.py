"""Mixers: realised proportions within sampling error of the targets (ratio, temperature), exact counts
(balanced, concat), and data=mix end to end with pretraining text mixed in by ratio."""
from __future__ import annotations

import json
import math
import random
from collections import Counter

import pytest

from tuneforge.data.base import LoaderSettings
from tuneforge.errors import ConfigError
from tuneforge.loss_mask.multi_turn import MultiTurn
from tuneforge.mixer.balanced import Balanced
from tuneforge.mixer.concat import Concat
from tuneforge.mixer.ratio import Ratio
from tuneforge.mixer.temperature import Temperature
from tuneforge.binding import build
from tuneforge.render.prepare import prepare_data
from tuneforge.template.named import TEMPLATES

SIZES = {"big": 9000, "mid": 900, "small": 90}
ONES = {n: 1.0 for n in SIZES}


def within_sampling_error(picks, target, n_sigma=4.0):
    counts, total = Counter(name for name, _ in picks), len(picks)
    for name, p in target.items():
        sigma = math.sqrt(total * p * (1 - p))
        assert abs(counts[name] - total * p) <= n_sigma * sigma + 1, (name, counts[name], total * p)


def test_temperature_rates_follow_size_power():
    mixer = Temperature(temperature=2.0, num_examples=20000)
    target = mixer.target(SIZES, ONES)
    norm = sum(s ** 0.5 for s in SIZES.values())
    assert target == pytest.approx({n: s ** 0.5 / norm for n, s in SIZES.items()})
    picks = mixer.select(SIZES, ONES, random.Random(0))
    assert len(picks) == 20000
    within_sampling_error(picks, target)
    assert Temperature(temperature=1.0).target(SIZES, ONES) == pytest.approx(Concat().target(SIZES, ONES))
    flat = Temperature(temperature=1000.0).target(SIZES, ONES)
    assert max(flat.values()) - min(flat.values()) < 0.01


def test_ratio_follows_weights_and_cycles_small_sources():
    weights = {"big": 1.0, "mid": 1.0, "small": 2.0}
    mixer = Ratio(num_examples=8000)
    target = mixer.target(SIZES, weights)
    assert target == pytest.approx({"big": 0.25, "mid": 0.25, "small": 0.5})
    picks = mixer.select(SIZES, weights, random.Random(1))
    within_sampling_error(picks, target)
    small = Counter(i for n, i in picks if n == "small")
    assert max(small.values()) - min(small.values()) <= 1  # whole passes before repeats
    assert Ratio().target(SIZES, {"big": 1.0, "mid": 0.0, "small": 0.0}) == {"big": 1.0, "mid": 0.0, "small": 0.0}
    with pytest.raises(ConfigError):
        Ratio().target(SIZES, {n: 0.0 for n in SIZES})


def test_balanced_equal_share_with_cap():
    picks = Balanced(cap=50).select(SIZES, ONES, random.Random(0))
    assert Counter(n for n, _ in picks) == {"big": 50, "mid": 50, "small": 50}
    assert len(set(picks)) == 150  # without repetition
    assert Counter(n for n, _ in Balanced().select(SIZES, ONES, random.Random(0))) == {n: 90 for n in SIZES}
    capped = Counter(n for n, _ in Balanced(cap=500).select(SIZES, ONES, random.Random(0)))
    assert capped == {"big": 500, "mid": 500, "small": 90}
    up = Counter(n for n, _ in Balanced(cap=500, upsample=True).select(SIZES, ONES, random.Random(0)))
    assert up == {n: 500 for n in SIZES}


def test_concat_takes_everything_once():
    picks = Concat().select(SIZES, ONES, random.Random(0))
    assert len(picks) == sum(SIZES.values()) == len(set(picks))


def test_mix_of_instructions_and_pretraining_text(tmp_path, byte_tokenizer):
    instr = tmp_path / "i.jsonl"
    instr.write_text("".join(json.dumps({"instruction": f"q{i}", "output": f"a{i}"}) + "\n" for i in range(300)))
    (tmp_path / "p.txt").write_text("\n\n".join(f"document number {i}" for i in range(100)) + "\n{bad\n")
    node = {"name": "mix", "seed": 0, "mixer": {"name": "ratio", "num_examples": 2000}, "sources": {
        "instructions": {"name": "alpaca", "path": str(instr), "weight": 0.8, "val_fraction": 0.1},
        "pretrain": {"name": "pretrain_text", "path": str(tmp_path / "p.txt"), "weight": 0.2}}}
    data = prepare_data(build("data_builder", node, "data"), byte_tokenizer, TEMPLATES["plain"], MultiTurn(),
                        LoaderSettings(max_length=64), tmp_path)
    m = data.metrics
    assert m["data/mix/total"] == 2000 == len(data.encoded["train"])
    assert m["data/mix/instructions/target"] == pytest.approx(0.8)
    sigma = math.sqrt(0.8 * 0.2 / 2000)
    assert abs(m["data/mix/instructions/share"] - 0.8) < 4 * sigma
    raw = sum(e.labels == e.input_ids for e in data.encoded["train"])  # pretraining text: all trained
    assert raw == m["data/mix/pretrain/count"]
    assert len(data.encoded["val"]) == 30 and all(e.evaluable for e in data.eval_examples)
    assert m["data/read"] == 400 == m["data/kept"] + m["data/rejected"]


def test_mix_reports_nested_config_errors():
    node = {"name": "mix", "mixer": {"name": "temperature", "temperature": -1.0},
            "sources": {"a": {"name": "alpaca", "path": "x", "bogus": 1}}}
    with pytest.raises(ConfigError) as err:
        build("data_builder", node, "data")
    paths = {i.path for i in err.value.issues}
    assert paths == {"data.sources.a.bogus", "data.mixer.temperature"}
