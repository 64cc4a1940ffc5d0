"""Each filter drops what it should, keeps the rest, and says why."""
from __future__ import annotations

from tuneforge import registry
from tuneforge.filters.base import apply_filters
from tuneforge.filters.conflicting_outputs import ConflictingOutputs
from tuneforge.filters.dedup_exact import DedupExact
from tuneforge.filters.format import Format
from tuneforge.filters.keywords import Keywords
from tuneforge.filters.length import Length
from tuneforge.filters.output_format import OutputFormat
from tuneforge.filters.rouge_l import RougeL


def ins(*texts):
    return [{"instruction": t} for t in texts]


def test_all_filters_registered():
    names = {e.name for e in registry.entries("filter")}
    assert {"rouge_l", "keywords", "length", "format", "output_format", "dedup_exact",
            "conflicting_outputs"} <= names


def test_keywords_whole_words_case_insensitive():
    r = Keywords().check(ins("Draw a cat", "Describe the IMAGE below", "Explain mapping functions",
                             "Go to the store", "Summarize the text"), [])
    assert [x is None for x in r] == [False, False, True, False, True]
    assert "'image'" in r[1]


def test_length_bounds():
    r = Length(min_words=4, max_words=6).check(ins("Too short", "Four words are enough", "one two three four five six seven"), [])
    assert r[0].startswith("instruction has 2 words") and r[1] is None and "max_words" in r[2]


def test_format_heuristics():
    r = Format().check(ins("- list things", "Éclair recipe please now", "Write a program that sorts",
                           "Bad \ufffd bytes here", "Ctrl\x07char here", "A fine instruction"), [])
    assert "punctuation" in r[0] and "non-ASCII" in r[1] and "banned prefix" in r[2]
    assert "replacement" in r[3] and "control" in r[4] and r[5] is None
    assert Format(ascii_start=False).check(ins("Éclair recipe please now"), []) == [None]


def test_output_format():
    rows = [{"instruction": "i", "input": "", "output": " "},
            {"instruction": "i", "input": "abc", "output": "ABC"},
            {"instruction": "i", "input": "", "output": "x" * 50},
            {"instruction": "i", "input": "", "output": "fine\nTask: next one"},
            {"instruction": "i", "input": "q", "output": "a"}]
    r = OutputFormat(max_output_chars=20).check(rows, [])
    assert "empty" in r[0] and "equals the input" in r[1] and "max_output_chars" in r[2]
    assert "Task" in r[3] and r[4] is None


def test_dedup_exact_against_pool_and_batch():
    pool = [{"instruction": "A", "input": "x", "output": "y"}]
    rows = [{"instruction": "a ", "input": "X", "output": "y"}, {"instruction": "B", "input": "", "output": "z"},
            {"instruction": "b", "input": "", "output": "Z"}]
    r = DedupExact().check(rows, pool)
    assert "the pool" in r[0] and r[1] is None and "this batch" in r[2]
    assert DedupExact(fields=["instruction"]).stage == "instruction"


def test_conflicting_outputs_drops_the_whole_group():
    rows = [{"instruction": "Sum", "input": "1 2", "output": "3"}, {"instruction": "Sum", "input": "1 2", "output": "4"},
            {"instruction": "Sum", "input": "2 2", "output": "4"}, {"instruction": "Sum", "input": "2 2", "output": "4"}]
    r = ConflictingOutputs().check(rows, [])
    assert r[0] and r[1] and r[2] is None and r[3] is None  # identical duplicates are dedup's job


def test_apply_filters_in_order_with_stages():
    filters = [Keywords(), RougeL(), DedupExact()]
    rows = [{"instruction": "Draw a map", "input": "", "output": "o"},
            {"instruction": "Explain gravity to a child", "input": "", "output": "o"},
            {"instruction": "Explain gravity to a child please", "input": "", "output": "o"}]
    kept, rejects = apply_filters(rows, filters, stage="instruction")
    assert [k["instruction"] for k in kept] == ["Explain gravity to a child"]
    assert [(r.filter, r.record["instruction"]) for r in rejects] == [
        ("keywords", "Draw a map"), ("rouge_l", "Explain gravity to a child please")]
    kept, rejects = apply_filters(rows, filters)  # no stage: every filter
    assert len(kept) == 1
