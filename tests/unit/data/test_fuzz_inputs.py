"""Property-based bad input (hypothesis, bounded): every data builder, given random bytes, truncated
JSON, huge lines, wrong types, odd Unicode or empty files, ends in counted rejects with reasons or in
one clear TuneforgeError naming the file; never another exception, never a silent drop.
Config loading: random overrides end in a valid config or one clear error."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hydra.errors import HydraException

from tuneforge import binding
from tuneforge.errors import TuneforgeError

VALID = {
    "alpaca": {"instruction": "Say hi", "input": "", "output": "hi"},
    "dialogue": {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
    "pretrain_text": {"text": "Some raw text."},
    "nlp_task": {"text": "great film", "label": "positive"},
}
ODD = st.sampled_from(["", " ", "\u0000", "\ud7ff\ue000", "é" * 3, "🙂", "\u202e", "a" * 20_000, "\n\n"])
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
                       | ODD, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                          max_size=3), max_leaves=8)


def line_strategy(builder: str):
    valid = json.dumps(VALID[builder])
    mutated = st.builds(lambda k, v: json.dumps({**VALID[builder], k: v}),
                        st.sampled_from(sorted(VALID[builder]) + ["extra"]), JSONISH)
    return st.one_of(st.just(valid), mutated, st.text(max_size=40), ODD,
                     st.builds(lambda n: valid[:n], st.integers(0, len(valid) - 1)),
                     JSONISH.map(lambda v: json.dumps(v)))


def file_strategy(builder: str):
    lines = st.lists(line_strategy(builder), max_size=12).map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass"))
    return st.one_of(lines, st.binary(max_size=300), st.just(b""))


def build(builder: str, path, **kw):
    extra = {"task": "sentiment"} if builder == "nlp_task" else {}
    node = {"name": builder, "path": str(path), "val_fraction": 0.0, **extra, **kw}
    return binding.bind("data_builder", node, "data").build()


@pytest.mark.parametrize("builder", sorted(VALID))
def test_valid_record_is_kept(builder, tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(VALID[builder]) + "\n")
    splits = build(builder, path).build()
    assert sum(len(v) for v in splits.values()) == 1


@pytest.mark.parametrize("builder", sorted(VALID))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=st.data())
def test_bad_files_are_counted_or_one_clear_error(builder, tmp_path_factory, content):
    data = content.draw(file_strategy(builder))
    path = tmp_path_factory.mktemp("fuzz") / "data.jsonl"
    path.write_bytes(data)
    component = build(builder, path)
    try:
        splits = component.build()
    except TuneforgeError as err:
        assert str(path) in str(err) or "data file" in str(err) or "no usable records" in str(err)
        return
    kept = sum(len(v) for v in splits.values())
    report = component.report
    assert report.read == kept + len(report.rejects)  # nothing dropped silently
    for reject in report.rejects:
        assert reject["file"] == str(path) and reject["line"] >= 1 and reject["reason"]


KEYS = ["peft.r", "optimizer.lr", "data.batch_size", "trainer.max_steps", "model.hidden_size", "seed",
        "scheduler.warmup_steps", "template", "data.template", "loss_mask", "peft", "+peft.bogus", "eval.limit"]
VALUES = st.one_of(st.integers(-5, 10**6).map(str), st.floats(allow_nan=False, allow_infinity=False).map(str),
                   st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
                   st.sampled_from(["null", "[1,2]", "{a: 1}", "true", "lora", "full", "'x y'", "${seed}", "???"]))


@pytest.mark.parametrize("bad", ["loss_mask=0", "loss_mask=[0]", "peft=[1,2]"])
def test_non_name_values_for_a_group_are_one_clear_error(bad):
    from tuneforge.commands.validate import validate

    with pytest.raises(TuneforgeError, match="is a config group; give an option name"):
        validate([bad])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(overrides=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=3, unique_by=lambda kv: kv[0]))
def test_random_overrides_validate_or_fail_clearly(overrides):
    from tuneforge.commands.validate import validate

    try:
        validate([f"{k}={v}" for k, v in overrides])
    except TuneforgeError as err:
        assert str(err).strip()
    except HydraException:
        pass  # Hydra's own override errors are printed as one message by the CLI
