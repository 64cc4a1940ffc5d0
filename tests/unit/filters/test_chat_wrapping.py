"""The chat-data filter: every kind of chat wrapping is dropped with its reason; clean data (the 175 seed
tasks, markdown inside an answer, an email's own "let me know", a blank ___, a shell glob) is kept."""
from __future__ import annotations

import pytest

from tuneforge.binding import build
from tuneforge.filters.base import apply_filters
from tuneforge.filters.chat_wrapping import ChatWrapping
from tuneforge.pipeline._seeds import load_seed_tasks

F = ChatWrapping()


@pytest.mark.parametrize("record,reason", [
    ({"instruction": "Sure! Write a poem about rain."}, "instruction opens with an assistant preamble 'Sure!'"),
    ({"instruction": "Here are some more tasks: write a poem."}, "assistant preamble 'Here are some more tasks:'"),
    ({"instruction": "Certainly. More tasks in the same spirit: - Simplify a joke as a table. - Translate a poem "
                     "for a manager. - Rank fruits."}, "preamble 'Certainly.'"),
    ({"instruction": "More tasks: - Simplify a joke as a table. - Translate a poem for a manager."},
     "several tasks (a list of 2 items)"),
    ({"instruction": "Write a poem.\nTask 10: Name a river."}, "several tasks (a task label 'Task 10:')"),
    ({"instruction": "- Write a poem about rain in May."}, "starts with a list marker '-'"),
    ({"instruction": "3. Write a poem about rain in May."}, "starts with a list marker '3.'"),
    ({"instruction": "Write a **short** poem about rain."}, "instruction holds markdown emphasis '**'"),
    ({"instruction": "### Write a poem about rain"}, "instruction holds markdown emphasis"),
    ({"instruction": "Write a poem. I hope these help!"}, "instruction holds a sign-off 'I hope these help!'"),
    ({"instruction": "Instruction: write a poem about rain."}, "starts with a label 'Instruction:'"),
    ({"instruction": "```\nWrite a poem\n```"}, "holds a code fence"),
    ({"instruction": "Write a poem.", "input": "**Input:** a recipe number 52\n**"}, "input has markdown emphasis"),
    ({"instruction": "Write a poem.", "input": "Input: a recipe", "output": "x"}, "input starts with a label 'Input:'"),
    ({"instruction": "Rate it.", "input": "a recipe", "output": "positive\n\nLet me know if you need more examples!"},
     "output holds a sign-off 'Let me know if you need more examples!'"),
    ({"instruction": "Rate it.", "output": "**Positive**"}, "output has markdown emphasis around it"),
    ({"instruction": "Rate it.", "output": "Certainly! Positive."}, "output opens with an assistant preamble"),
    ({"instruction": "Rate it.", "output": "I'm sorry, but I can't rate that."}, "output opens with a refusal or self-talk"),
    ({"instruction": "Rate it.", "output": "Output: Positive"}, "output starts with a label 'Output:'"),
])
def test_wrapping_is_dropped_with_its_reason(record, reason):
    got = F.reason(record)
    assert got is not None and reason in got, got


@pytest.mark.parametrize("record", [
    {"instruction": "Explain why the sky is blue.", "input": "", "output": "Air scatters blue light most."},
    {"instruction": "Here is a list of numbers; sort it.", "input": "List: [3, 1]", "output": "[1, 3]"},
    {"instruction": "Which exercises reduce belly fat at home?", "input": "",
     "output": "- Lying Leg Raises\n- Plank\n- Side Plank"},
    {"instruction": "Explain recursion step by step.", "input": "",
     "output": "**Step 1:** define a base case.\n**Step 2:** call the function on a smaller input."},
    {"instruction": "Write an email inviting a colleague to lunch.", "input": "",
     "output": "Hi Jo, lunch on Friday? Let me know if you have any questions. Best, Sam"},
    {"instruction": "Fill in the blank.", "input": "She is good ___ maths.", "output": "at"},
    {"instruction": "Which command shows disk usage per folder?", "input": "", "output": "du -sh *"},
    {"instruction": "Is 7 a prime number?", "input": "", "output": "Yes."},
    {"instruction": "Give a one-word reply to a thank-you note.", "input": "", "output": "Okay"},
    {"instruction": "Compute 2*3*4.", "input": "", "output": "24"},
])
def test_clean_records_are_kept(record):
    assert F.reason(record) is None


def test_every_seed_task_passes():
    rows = [{"instruction": s.instruction, "input": i, "output": o} for s in load_seed_tasks() for i, o in s.instances]
    assert len(rows) >= 175 and F.check(rows, []) == [None] * len(rows)


def test_runs_at_both_stages_and_binds_from_config():
    flt = build("filter", {"name": "chat_wrapping", "markdown_output": False}, "filters.chat_wrapping")
    assert flt.stage == ("instruction", "instance")
    rows = [{"instruction": "Sure! Write a poem."}, {"instruction": "Write a poem about May."}]
    kept, rejects = apply_filters(rows, [flt], stage="instruction")
    assert kept == rows[1:] and rejects[0].filter == "chat_wrapping"
    rows = [{"instruction": "Explain.", "input": "", "output": "**Step 1:** think."},
            {"instruction": "Explain.", "input": "", "output": "Think first."}]
    kept, rejects = apply_filters(rows, [flt], stage="instance")
    assert kept == rows[1:] and "markdown" in rejects[0].reason  # markdown_output=false: none in outputs
    only = build("filter", {"name": "chat_wrapping", "fields": ["instruction"]}, "filters.chat_wrapping")
    assert only.reason({"instruction": "Rate it.", "output": "**Positive**"}) is None
