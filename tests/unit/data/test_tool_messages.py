"""Dialogue records with OpenAI tool calls (`role: tool`, an assistant's `tool_calls`) and the per-message
`train` flag: kept as they are in Example.messages (a dataset's null fields dropped), ShareGPT's
function_call / observation mapped to them, malformed ones rejected with their reason."""
from __future__ import annotations

import json

from tuneforge.binding import build

CALL = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Oslo\"}"}}
TOOL_CHAT = [{"role": "user", "content": "Weather in Oslo?"},
             {"role": "assistant", "content": None, "tool_calls": [CALL]},
             {"role": "tool", "tool_call_id": "c1", "content": "12C"},
             {"role": "assistant", "content": "12C in Oslo.", "train": False},
             {"role": "user", "content": "Thanks"},
             {"role": "assistant", "content": "You're welcome."}]


def dialogue(tmp_path, rows, **kw):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    builder = build("data_builder", {"name": "dialogue", "path": str(path), "val_fraction": 0.0, **kw}, "data")
    return builder.build()["train"], [(r["line"], r["kind"]) for r in builder.report.rejects]


def test_tool_calls_tool_messages_and_train_flags_are_kept(tmp_path):
    sharegpt = {"conversations": [{"from": "human", "value": "Weather?"},
                                  {"from": "function_call", "value": "{\"name\": \"weather\", \"arguments\": {}}"},
                                  {"from": "observation", "value": "12C"},
                                  {"from": "gpt", "value": "12C.", "train": True}]}
    kept, rejects = dialogue(tmp_path, [{"messages": TOOL_CHAT}, sharegpt])
    assert rejects == []
    messages = kept[0].messages
    assert messages[1] == {"role": "assistant", "content": "", "tool_calls": [CALL]}
    assert messages[2] == {"role": "tool", "content": "12C", "tool_call_id": "c1"}
    assert messages[3] == {"role": "assistant", "content": "12C in Oslo.", "train": False}
    assert [m["role"] for m in kept[1].messages] == ["user", "assistant", "tool", "assistant"]
    assert kept[1].messages[1]["tool_calls"] == [{"type": "function", "function": {"name": "weather",
                                                                                   "arguments": {}}}]
    assert kept[1].messages[3]["train"] is True


def test_malformed_tool_records_and_flags_are_rejected_with_a_reason(tmp_path):
    rows = [{"messages": [{"role": "user", "content": "x", "train": True}, {"role": "assistant", "content": "y"}]},
            {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "train": "no"}]},
            {"messages": [{"role": "user", "content": "x"},
                          {"role": "assistant", "content": "", "tool_calls": [{"function": {"arguments": "{}"}}]}]},
            {"messages": [{"role": "user", "content": "x", "tool_calls": [CALL]},
                          {"role": "assistant", "content": "y"}]},
            {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": None}]},
            {"conversations": [{"from": "human", "value": "x"}, {"from": "function_call", "value": "{oops"}]},
            {"messages": [{"role": "user", "content": "x"}, {"role": "robot", "content": "y"}]},
            {"messages": TOOL_CHAT}]
    kept, rejects = dialogue(tmp_path, rows)
    assert rejects == [(1, "bad_train_flag"), (2, "wrong_type"), (3, "bad_tool_call"), (4, "wrong_type"),
                       (5, "wrong_type"), (6, "bad_tool_call"), (7, "unknown_role")]
    assert len(kept) == 1


def test_dataset_null_fields_count_as_absent(tmp_path):
    """Parquet gives every message every field of the column's struct (None where a message lacks it)."""
    import datasets

    rows = [{"messages": [{"role": "user", "content": "x", "tool_calls": None, "tool_call_id": None, "train": None},
                          {"role": "assistant", "content": "y", "tool_calls": None, "tool_call_id": None,
                           "train": None}]},
            {"messages": TOOL_CHAT}]
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "d.parquet"))
    builder = build("data_builder", {"name": "dialogue", "path": str(tmp_path / "d.parquet"), "val_fraction": 0.0},
                    "data")
    first, second = builder.build()["train"]
    assert first.messages == [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]
    assert second.messages[2] == {"role": "tool", "content": "12C", "tool_call_id": "c1"}
