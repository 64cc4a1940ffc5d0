"""Elimination evolving (WizardLM): the four ways an evolution fails.

1. No information gain over the parent: judged by the LLM with the equality prompt below.
2. The evolved instruction is one the model cannot answer: the response says "sorry" and has fewer
   than 80 words.
3. The response holds only punctuation and stop words.
4. The evolved instruction copies words of the evolving prompt ("given prompt", "#Rewritten Prompt#", ...).
"""
from __future__ import annotations

import re

EQUAL_PROMPT = """Here are two Instructions to ChatGPT AI, do you think they are equal to each other, which meet the following requirements:
1. They have same constraints and requirments.
2. They have same depth and breadth of the inquiry.
The First Prompt: {first}
The Second Prompt: {second}
Your Judgement (Just answer: Equal or Not Equal. No need to explain the reason.):"""

COPIED = ["#given prompt#", "#rewritten prompt#", "#created prompt#", "given prompt", "rewritten prompt",
          "created prompt", "prompt rewriter", "prompt creator"]

STOP_WORDS = frozenset("""a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more most my
myself no nor not now of off on once only or other our ours ourselves out over own same she should so some
such than that the their theirs them themselves then there these they this those through to too under until
up very was we were what when where which while who whom why will with would you your yours yourself
yourselves ok okay yes well oh""".split())


def copied_words(instruction: str) -> str | None:
    low = instruction.lower()
    hit = next((w for w in COPIED if w in low), None)
    return f"copies {hit!r} from the evolving prompt" if hit else None


def cannot_answer(response: str, max_words: int = 80) -> str | None:
    n = len(response.split())
    if "sorry" in response.lower() and n < max_words:
        return f"the model could not answer (says sorry, {n} words < {max_words})"
    return None


def only_stop_words(response: str) -> str | None:
    words = re.findall(r"[^\W_]+", response.lower())
    if all(w in STOP_WORDS for w in words):
        return "the response holds only punctuation and stop words"
    return None


def judged_equal(reply: str) -> bool:
    """True when the judge says the two prompts are equal (no information gain)."""
    text = reply.strip().lower()
    return not text.startswith("not") and "not equal" not in text and "equal" in text
