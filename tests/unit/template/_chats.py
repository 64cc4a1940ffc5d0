"""Conversations that break naive masks: replies repeating user text or the system prompt, empty turns,
Unicode, newlines and leading spaces."""
from __future__ import annotations

from tuneforge.render.encode import IGNORE_INDEX

U, A, S = "user", "assistant", "system"


def conv(*turns: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": r, "content": c} for r, c in turns]


CONVERSATIONS = {
    "single": conv((U, "reverse abc"), (A, "cba")),
    "system_multi": conv((S, "You are terse."), (U, "hello there"), (A, "hi"), (U, "how are you today?"),
                         (A, "fine, thanks")),
    "repeats_user": conv((U, "hello there"), (A, "hello there"), (U, "hello"), (A, "hello there")),
    "reply_in_system": conv((S, "answer: the quick brown fox"), (U, "answer"), (A, "the quick brown fox")),
    "empty_turns": conv((U, ""), (A, ""), (U, "say something"), (A, "something")),
    "unicode": conv((U, "naïve café über"), (A, "東京 😀 straße"), (U, "😀"), (A, "é")),
    "newlines": conv((U, "two\nlines"), (A, "\n leading space and\ntrailing \n")),
}


def trained_text(tok, enc) -> str:
    return tok.decode([t for t, label in zip(enc.input_ids, enc.labels) if label != IGNORE_INDEX])
