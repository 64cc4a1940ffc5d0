"""Chat wrapping left in generated data: what a chat-model teacher writes around the content it was
asked for. A kept instruction such as "Sure! Here are more tasks: - Simplify a joke. - ..." or an
output such as "positive\n\nLet me know if you need more examples!" trains a model to chatter.

The detectors below are shared with the reply parsers (tuneforge/pipeline/_parse.py), which strip
what they can; this filter drops whatever still carries wrapping, with the reason.
"""
from __future__ import annotations

import re
from typing import Sequence

from tuneforge.filters.base import Record
from tuneforge.registry import register

_I = re.I | re.X
# "Sure!", "Certainly.", "Of course," ... followed by more text (a bare "Okay" may be an answer)
_INTERJECTION = re.compile(r"""^\W{0,3}(sure(?:\s+thing)?|certainly|of\s+course|absolutely|okay|alright|
    all\s+right|gladly|no\s+problem|with\s+pleasure|happy\s+to\s+help)\s*[!.,:;\-–—]+(?=\s*\S)""", _I)
# "Here are some more tasks:", "Below is the rewritten prompt", "I'd be happy to ...": announcing the reply
_ANNOUNCE = re.compile(r"""^\W{0,3}(
    (?:here(?:'s|’s|\s+is|\s+are)|below\s+(?:is|are)|the\s+following\s+(?:is|are)|these\s+are)\s+
        (?:[\w'’-]+\s+){0,6}?(?:tasks?|examples?|instructions?|prompts?|answers?|responses?|outputs?|inputs?|
        versions?|ideas?|questions?|instances?|labels?|options?|suggestions?|more|the\s+(?:rewritten|new|created|revised))\b
  | i(?:'d|’d|\s+would)\s+be\s+(?:happy|glad)\b
  | i(?:'ll|’ll|\s+will)\s+(?:help|create|generate|write|provide|come\s+up)\b
  | i\s+can\s+help\b | let['’]?s\s+(?:create|generate|come\s+up|write|brainstorm)\b
  | (?:great|good|excellent|interesting)\s+(?:question|idea|task|request)\b)""", _I)
# a bare "Sure!" / "Certainly." (a reply's first line), and the assistant declining
BARE = re.compile(r"^\W{0,3}(?:sure(?:\s+thing)?|certainly|of\s+course|absolutely|okay|alright|gladly)\W*$", re.I)
REFUSAL = re.compile(r"^\W{0,3}(?:i['’]?m\s+sorry|i\s+am\s+sorry|sorry\b"
                     r"|i\s+(?:can['’]?t|cannot|am\s+unable|['’]m\s+unable)|unfortunately,?\s+i\b|as\s+an\s+ai\b"
                     r"|i(?:['’]m|\s+am)\s+(?:a|an|your)\b[^.\n]{0,40}?\b(?:assistant|ai|language\s+model|chatbot)\b)",
                     re.I)
# "I hope these help!", "Let me know if you need more examples", "Feel free to ask ..."
SIGN_OFF = re.compile(r"""(
    \bi\s+hope\s+(?:this|these|that|it|you)\b[^.!?\n]{0,40}?\b(?:helps?|useful|enjoy|find)
  | \bhope\s+(?:this|these|that)\s+helps?\b
  | \blet\s+me\s+know\s+if\s+you(?:'d|\s+would)?\s+(?:need|want|like|have)\s+(?:any\s+|some\s+)?
        (?:more|other|additional|further|different|another|changes|modifications|adjustments|help|anything)\b
  | \bfeel\s+free\s+to\s+(?:ask|let\s+me\s+know|request)\b
  | \bif\s+you(?:'d|\s+would)?\s+(?:need|want|like)\s+(?:any\s+|some\s+)?(?:more|additional|further|other|different)\s+
        (?:examples?|tasks?|help|ideas?|assistance|information|instructions?|prompts?|options?)\b
  | \b(?:is\s+there\s+)?anything\s+else\s+(?:i\s+can|you(?:'d|\s+would)\s+like)\b
  | \bwould\s+you\s+like\s+(?:me\s+to|more|any\s+(?:more|other|changes))\b
  | \bhappy\s+to\s+help\b
  | \bi\s+can\s+(?:also\s+)?(?:provide|generate|create|write|give)\s+(?:you\s+)?
        (?:more|additional|another|some\s+more)\b)""",
                      _I)
EMPHASIS = re.compile(r"\*\*|(?<!_)__(?=[^\s_])|(?<![\w*])\*(?=[^\s*])[^*\n]+(?<=[^\s*])\*(?![\w*])")
HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+\S", re.M)
FENCE = re.compile(r"```")
LIST_START = re.compile(r"^\s*(?:[-*•+][ \t]+|\d{1,2}[.)][ \t]+(?=\D))")
LIST_LINE = re.compile(r"^[ \t]*(?:[-*•+]|\d{1,2}[.)])[ \t]+\S", re.M)
INLINE_BULLET = re.compile(r"(?:^|[.!?:;])\s+[-•*][ \t]+(?=\w)")
TASK_LABEL = re.compile(r"(?:^|[\s*_#])(?:task|instruction)\s*#?\s*\d+\s*(?:\*\*|__)?\s*[:.)\-–—]", re.I)
INSTRUCTION_LABEL = re.compile(r"^\W{0,4}(?:new\s+)?(?:task|instruction|prompt|rewritten\s+prompt|created\s+prompt)"
                               r"\s*#?\s*\d*\s*(?:\*\*|__|#)?\s*:", re.I)
INNER_LABEL = re.compile(r"^\W{0,4}(?:output|class\s+label|example\s*\d+|task)\s*\d*\s*(?:\*\*|__)?\s*:", re.I | re.M)
FIELD_LABEL = re.compile(r"^\W{0,4}(?:input|output|class\s+label|label|example\s*\d*|answer|response)\s*\d*\s*"
                         r"(?:\*\*|__)?\s*:", re.I)
WRAPPED = re.compile(r"^\s*(\*\*?|__?)[^*_\n].*?\1\s*$", re.S)


def dangling(text: str) -> bool:
    """An unpaired `**` or `__` ("a recipe number 52\\n**"); a blank `___` or a glob `*` is not one."""
    return (len(re.findall(r"(?<!\*)\*\*(?!\*)", text)) % 2 == 1
            or len(re.findall(r"(?<!_)__(?!_)", text)) % 2 == 1)


def _clause(text: str, start: int, end: int) -> str:
    """The matched words up to the end of their clause (for a readable reason)."""
    stop = re.search(r"[:.!?\n]", text[end:end + 60])
    return text[start:end + (stop.end() if stop and text[end + stop.start()] != "\n" else 0)].strip()


def preamble(text: str) -> str | None:
    """The assistant preamble that opens `text` ("Sure!", "Here are some tasks:"), or None."""
    if hit := _INTERJECTION.match(text):
        return hit.group(0).strip()
    hit = _ANNOUNCE.match(text)
    return _clause(text, hit.start(), hit.end()) if hit else None


def bare(text: str) -> bool:
    """A reply line that is only "Sure!" or "Certainly." (as an answer, "Okay" may be content)."""
    return bool(BARE.match(text))


def refusal(text: str) -> str | None:
    """The assistant declining ("I'm sorry, I can't ...") or talking about itself ("I am a helpful AI
    assistant"), or None."""
    hit = REFUSAL.match(text)
    return hit.group(0).strip() if hit else None


def sign_off(text: str) -> str | None:
    """A closing remark anywhere in `text` ("I hope this helps", "Let me know if you need more ...")."""
    hit = SIGN_OFF.search(text)
    return _clause(text, hit.start(), hit.end()) if hit else None


def several_tasks(text: str) -> str | None:
    """Why `text` holds several tasks (a list, "Task N:" labels), or None."""
    if TASK_LABEL.search(text):
        return f"a task label {TASK_LABEL.search(text).group(0).strip()!r}"
    lines = len(LIST_LINE.findall(text))
    inline = len(INLINE_BULLET.findall(text))
    if lines >= 2 or inline >= 2:
        return f"a list of {max(lines, inline)} items"
    return None


@register("filter", "chat_wrapping")
class ChatWrapping:
    """Drop records still carrying chat wrapping (preambles, sign-offs, refusals, markdown emphasis, list
    markers, several tasks in one, labels left in a value), with the reason."""

    stage = ("instruction", "instance")  # drop early (before instances are asked for) and re-check rows

    def __init__(self, fields: list[str] = ["instruction", "input", "output"],  # noqa: B006
                 markdown_output: bool = True):
        # markdown_output: an output (a chat answer) may use markdown inside it ("**Step 1:** ..."); only
        # emphasis around the whole output, or left dangling, counts then
        self.name, self.fields, self.markdown_output = "chat_wrapping", list(fields), markdown_output

    def reason(self, rec: Record) -> str | None:
        for field in self.fields:
            text = str(rec.get(field) or "").strip()
            if text and (why := self.field_reason(field, text)):
                return f"{field} {why}"
        return None

    def field_reason(self, field: str, text: str) -> str | None:
        if hit := preamble(text):
            return f"opens with an assistant preamble {hit!r}"
        if hit := sign_off(text):
            return f"holds a sign-off {hit!r}"
        if hit := refusal(text):
            return f"opens with a refusal or self-talk {hit!r}"
        if dangling(text) or (field == "output" and WRAPPED.match(text)):
            return "has markdown emphasis around it or left dangling"
        if FENCE.search(text) and (field == "instruction" or text.count("```") % 2):
            return "holds a code fence"
        if field == "instruction":
            if hit := several_tasks(text):
                return f"holds several tasks ({hit})"
            if LIST_START.match(text):
                return f"starts with a list marker {LIST_START.match(text).group(0).strip()!r}"
            if INSTRUCTION_LABEL.match(text):
                return f"starts with a label {INSTRUCTION_LABEL.match(text).group(0).strip()!r}"
        elif FIELD_LABEL.match(text):
            return f"starts with a label {FIELD_LABEL.match(text).group(0).strip()!r}"
        elif field == "input" and (hit := INNER_LABEL.search(text)):  # another example run into this input
            return f"holds a label {hit.group(0).strip()!r}"
        if (field != "output" or not self.markdown_output) and (EMPHASIS.search(text) or HEADING.search(text)):
            hit = EMPHASIS.search(text) or HEADING.search(text)
            return f"holds markdown emphasis {hit.group(0).strip()[:20]!r}"
        return None

    def check(self, records: Sequence[Record], pool: Sequence[Record]) -> list[str | None]:
        return [self.reason(r) for r in records]
