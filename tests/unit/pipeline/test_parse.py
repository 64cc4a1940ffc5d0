"""The chat-reply parsers: every style of chat_styles.py and every model family of families.py gives back
exactly the content, nothing of the wrapping (checked with the chat filter too); a reply cut by the
token limit loses only its unfinished last item; what cannot be read gives nothing."""
from __future__ import annotations

import pytest

from tests.servers import chat_styles as S
from tests.servers.families import FAMILIES
from tuneforge.filters.chat_wrapping import ChatWrapping
from tuneforge.pipeline import _parse as X
from tuneforge.pipeline._modes import Chat, Completion

CHAT = Chat()
CLEAN = ChatWrapping()
TASKS = ["Write a haiku about the first frost.", "Sort the numbers from smallest to largest.",
         "Explain why bread goes stale."]
PAIRS = [("Sentence: the cat sat", "Le chat était assis."), ("Text: Example sentences are short.", "Short.")]
LABELS = [("Positive", "Review: Works great."), ("Negative", "Review: Broke at once.")]


def parse(stage: str, reply: str, truncated: bool = False):
    return {"tasks": lambda: CHAT.parse_instructions(reply, truncated),
            "classification": lambda: CHAT.parse_classification(reply),
            "input_first": lambda: CHAT.parse_instances(reply, False, truncated),
            "output_first": lambda: CHAT.parse_instances(reply, True, truncated),
            "rewrite": lambda: CHAT.parse_evolved(reply, truncated),
            "answer": lambda: CHAT.parse_response(reply), "judge": lambda: CHAT.parse_judge(reply)}[stage]()


def assert_clean(stage: str, value) -> None:
    """What the parser returns passes the chat-data filter, field by field."""
    if stage == "tasks":
        records = [{"instruction": t} for t in value]
    elif stage in ("input_first", "output_first"):
        records = [{"input": i, "output": o} for i, o in value]
    elif stage == "rewrite":
        records = [{"instruction": value}]
    elif stage == "answer":
        records = [{"output": value}]
    else:
        return
    assert CLEAN.check(records, []) == [None] * len(records), value


@pytest.mark.parametrize("family,stage", [(f, s) for f, stages in FAMILIES.items() for s in stages])
def test_real_family_styles(family, stage):
    reply, expected, finish = FAMILIES[family][stage]
    got = parse(stage, reply, truncated=finish == "length")
    assert got == expected
    assert_clean(stage, got)


@pytest.mark.parametrize("style", S.TASK_STYLES)
def test_task_styles(style):
    reply = S.tasks(style, TASKS)
    assert CHAT.parse_instructions(reply, truncated=False) == TASKS
    # cut by the token limit inside the last task: only that task is lost
    cut = reply[:reply.index(TASKS[-1]) + 12]
    assert CHAT.parse_instructions(cut, truncated=True) == TASKS[:-1]


@pytest.mark.parametrize("style", S.LABEL_STYLES)
def test_label_styles(style):
    assert CHAT.parse_classification(S.label(style, True)) is True
    assert CHAT.parse_classification(S.label(style, False)) is False


@pytest.mark.parametrize("style", S.INSTANCE_STYLES)
def test_instance_styles(style):
    reply = S.instances(style, PAIRS)
    assert CHAT.parse_instances(reply, False, truncated=False) == PAIRS
    cut = reply[:reply.rindex("Short.") - 3]  # inside the last output
    assert CHAT.parse_instances(cut, False, truncated=True) == PAIRS[:1]
    labelled = S.labelled(style, LABELS)
    assert CHAT.parse_instances(labelled, True, truncated=False) == [(i, lab) for lab, i in LABELS]


@pytest.mark.parametrize("style", S.REWRITE_STYLES)
def test_rewrite_styles(style):
    text = "List three uses of salt, with one dish for each."
    assert CHAT.parse_evolved(S.rewrite(style, text), truncated=False) == text
    assert CHAT.parse_evolved(S.rewrite(style, text, created=True), truncated=False) == text
    assert CHAT.parse_evolved(S.rewrite(style, text), truncated=True) is None  # a cut prompt is no prompt


@pytest.mark.parametrize("style", S.ANSWER_STYLES)
def test_answer_styles(style):
    text = "Salt seasons food and preserves fish."
    assert CHAT.parse_response(S.answer(style, text)) == text


@pytest.mark.parametrize("style", S.VERDICT_STYLES)
def test_verdict_styles(style):
    assert CHAT.parse_judge(S.verdict(style, True)) is True
    assert CHAT.parse_judge(S.verdict(style, False)) is False


def test_the_issue_replies():
    """The contaminations the issue found: a bulleted list glued into one reply, bold input labels, a
    sign-off after an output, a "\\n\\n"-separated list behind a preamble."""
    glued = ("Certainly. More tasks in the same spirit: - Simplify a joke as a table. - Translate a poem for a "
             "manager. - Rank three fruits by sweetness.")
    assert CHAT.parse_instructions(glued, False) == ["Simplify a joke as a table.", "Translate a poem for a manager.",
                                                     "Rank three fruits by sweetness."]
    bold = "**Input:** a recipe number 52\n**Output:** positive\n\nLet me know if you need more examples!"
    assert CHAT.parse_instances(bold, False, False) == [("a recipe number 52", "positive")]
    spaced = "Sure! Here are some more tasks:\n\nTask 9: Name a river in Asia.\n\nTask 10: Write a limerick."
    assert CHAT.parse_instructions(spaced, False) == ["Name a river in Asia.", "Write a limerick."]


def test_example_inside_an_input_is_not_split():
    reply = "Example 1\nText: Example: a short one. For example, this.\nOutput: A short one."
    assert X.input_first(reply) == [("Text: Example: a short one. For example, this.", "A short one.")]
    assert X.input_first("Input: Example sentence here.\nOutput: Done.") == [("Example sentence here.", "Done.")]


def test_json_cut_mid_array_keeps_finished_items():
    assert X.json_items('{"tasks": ["One task.", "Two tasks.", "Thr', "tasks") == ["One task.", "Two tasks."]
    cut = '```json\n{"instances": [{"input": "a", "output": "b"}, {"input": "c", "outp'
    assert X.input_first(cut, truncated=True) == [("a", "b")]
    assert X.json_items("no json here", "tasks") is None


@pytest.mark.parametrize("reply", ["", "   ", "I'm sorry, I can't help with that!", "Sure!", "Here are some tasks:"])
def test_unreadable_replies_give_nothing(reply):
    assert CHAT.parse_instructions(reply, False) == []
    assert CHAT.parse_instances(reply, False, False) == [] and CHAT.parse_instances(reply, True, False) == []
    assert CHAT.parse_classification(reply) is None and CHAT.parse_judge(reply) is None


def test_completion_mode_reads_the_papers_continuations():
    """Completion mode keeps the paper's parsing: the continuation after "Task 9:" is a task."""
    comp = Completion()
    assert comp.parse_instructions(" Name three rivers in Asia.\nTask 10: Write a limerick about tea.", False) == [
        "Name three rivers in Asia.", "Write a limerick about tea."]
    assert comp.parse_classification(" Yes") is True and comp.parse_judge("Not Equal") is False
    assert comp.parse_evolved(" A rewritten prompt.\n", False) == "A rewritten prompt."
