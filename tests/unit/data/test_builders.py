"""Builders: alpaca (with input and extra fields), dialogue (OpenAI messages, ShareGPT, system prompts),
nlp_task (several templates, option lists, few-shot exemplars, label names), pretrain_text."""
from __future__ import annotations

import json

import pytest

from tuneforge.errors import ConfigError
from tuneforge.binding import build


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def make(name, path, **kw):
    return build("data_builder", {"name": name, "path": str(path), "val_fraction": 0.0, **kw}, "data")


def test_alpaca_input_and_generated_records(tmp_path):
    rows = [{"instruction": "Add.", "input": "1+1", "output": "2", "id": "g1", "parents": ["s3"]},
            {"instruction": "Greet.", "output": "hi"}]
    splits = make("alpaca", write_jsonl(tmp_path / "generated.jsonl", rows),
                  input_format="{instruction}\n\n### Input:\n{input}", system="Be brief.").build()
    first, second = splits["train"]
    assert first.messages == [{"role": "system", "content": "Be brief."},
                              {"role": "user", "content": "Add.\n\n### Input:\n1+1"},
                              {"role": "assistant", "content": "2"}]
    assert second.messages[1]["content"] == "Greet." and second.reference == "hi"


def test_dialogue_messages_and_sharegpt(tmp_path):
    rows = [
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                      {"role": "user", "content": "bye"}, {"role": "assistant", "content": "ciao"}]},
        {"conversations": [{"from": "system", "value": "sys"}, {"from": "human", "value": "q"},
                           {"from": "gpt", "value": "a"}]},
        {"system": "own prompt", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]},
        {"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]},  # tool: kept
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}]},
        {"messages": [{"role": "user", "content": "q"}]},
        {"messages": [{"role": "user", "content": ["parts"]}, {"role": "assistant", "content": "a"}]},
        {"text": "no conversation"},
    ]
    builder = make("dialogue", write_jsonl(tmp_path / "d.jsonl", rows), system="default prompt")
    train = builder.build()["train"]
    assert [m["role"] for m in train[0].messages] == ["system", "user", "assistant", "user", "assistant"]
    assert train[0].messages[0]["content"] == "default prompt"
    assert train[1].messages[0] == {"role": "system", "content": "sys"}
    assert train[2].messages[0] == {"role": "system", "content": "own prompt"}
    assert [(r["line"], r["kind"]) for r in builder.report.rejects] == [
        (4, "unknown_role"), (5, "empty_response"), (6, "no_assistant_turn"), (7, "wrong_type"),
        (8, "missing_field")]


def test_nlp_task_templates_options_few_shot_and_label_names(tmp_path):
    rows = [{"sentence": f"movie {i} was {'great' if i % 2 else 'awful'}", "label": i % 2} for i in range(40)]
    path = write_jsonl(tmp_path / "sst.jsonl", rows + [{"sentence": "x", "label": 7}, {"label": 1}])
    builder = make("nlp_task", path, task="sentiment", fields={"text": "sentence", "label": "label"},
                   label_names=["negative", "positive"], options=True, few_shot=2, val_fraction=0.25)
    splits = builder.build()
    train, val = splits["train"], splits["val"]
    assert len(train) == 30 and len(val) == 10
    assert {e.reference for e in train} == {"negative", "positive"}
    prompts = [e.messages[0]["content"] for e in train]
    assert all(p.count("OPTIONS:\n- negative\n- positive") == 3 for p in prompts)  # 2 shots + the question
    used = {t for t in ("What is the sentiment", "Is this review positive", "Did the reviewer like it")
            if any(t in p for p in prompts)}
    assert len(used) == 3  # several templates per task
    import re

    def sentences(example):
        return re.findall(r"movie \d+ was \w+", example.messages[0]["content"])

    train_set = {sentences(e)[-1] for e in train}
    for e in val:  # exemplars come from the training split only, never the question itself
        *shots, own = sentences(e)
        assert len(shots) == 2 and set(shots) <= train_set and own not in train_set
    assert [(r["line"], r["kind"]) for r in builder.report.rejects] == [(41, "unknown_label"), (42, "missing_field")]
    assert builder.build()["train"][0].messages == train[0].messages  # seeded


def test_nlp_task_csv_labels_are_mapped_to_names(tmp_path):
    path = tmp_path / "sst.csv"
    path.write_text("sentence,label\na lovely film,1\na dull mess,0\nodd,2\nnamed,positive\n")
    builder = make("nlp_task", path, task="sentiment", fields={"text": "sentence", "label": "label"},
                   label_names=["negative", "positive"])
    assert [e.reference for e in builder.build()["train"]] == ["positive", "negative", "positive"]
    assert [(r["line"], r["kind"]) for r in builder.report.rejects] == [(4, "unknown_label")]


def test_nlp_task_qa_and_nli_presets(tmp_path):
    qa = make("nlp_task", write_jsonl(tmp_path / "qa.jsonl", [
        {"context": "Paris is in France.", "question": "Where is Paris?", "answer": {"text": ["France"]}}]),
        task="qa").build()["train"][0]
    assert qa.reference == "France" and "Where is Paris?" in qa.messages[0]["content"]
    nli = make("nlp_task", write_jsonl(tmp_path / "nli.jsonl", [
        {"premise": "A dog runs.", "hypothesis": "An animal moves.", "label": "entailment"}]),
        task="nli", options=["entailment", "neutral", "contradiction"]).build()["train"][0]
    assert nli.reference == "entailment" and "- contradiction" in nli.messages[0]["content"]
    with pytest.raises(ConfigError, match="data.templates"):
        make("nlp_task", tmp_path / "x.jsonl", templates=["{nope}"])
    with pytest.raises(ConfigError, match="data.task"):
        make("nlp_task", tmp_path / "x.jsonl", task="unknown")


def test_pretrain_text_from_records(tmp_path):
    builder = make("pretrain_text", write_jsonl(tmp_path / "p.jsonl", [{"text": "doc one"}, {"text": ""},
                                                                       {"body": "x"}]))
    train = builder.build()["train"]
    assert [e.text for e in train] == ["doc one"] and train[0].is_text and not train[0].evaluable
    assert [r["kind"] for r in builder.report.rejects] == ["too_short", "missing_field"]
