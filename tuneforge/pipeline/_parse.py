"""Parsers for what chat models really reply: the content without the wrapping.

A reply may be JSON (asked for, or forced by `llm.structured`), JSON inside a code fence or after a
preamble, or text: "Task 9:" lines with or without markdown bold, numbered lists, bullets, headings,
"Example 1 / Input: / Output:" blocks with bold labels, "Yes, because ...", "**No**", a
"#Rewritten Prompt#:" header; before it a preamble ("Sure! Here are ...:"), after it a sign-off
("I hope these help!"). A reply cut by the token limit (`truncated`) loses only its unfinished last
item. Every parser returns an empty result (or None) when it finds nothing: the caller records the
reply as unparseable.
"""
from __future__ import annotations

import json
import re
from typing import Any

from tuneforge.filters.chat_wrapping import bare, preamble, refusal, sign_off

FENCE_LINE = re.compile(r"^[ \t]*```[\w+.-]*[ \t]*$", re.M)
BOLD = re.compile(r"\*\*|__")
# an item marker at the start of a line: "Task 9:", "**Task 9:**", "**Task 9**:", "### Task 9", "9.", "9)",
# "-", "*", "•" (a closing bold is taken only after an opening one: "9. **Title:** ..." keeps its title's)
ITEM = re.compile(r"""^[ \t]*(?:\#{1,6}[ \t]*)?(?P<b>\*\*|__)?[ \t]*(?:
      (?:task|instruction|new\s+task)[ \t]*\#?[ \t]*\d+[ \t]*(?:\*\*|__)?[ \t]*(?:[:.)\-–—]|$)
    | \d{1,2}[ \t]*[.)](?=[ \t])
    | [-*•+](?=[ \t]))[ \t]*(?(b)(?:\*\*|__)?)[ \t]*""", re.I | re.M | re.X)
PARTIAL_MARK = re.compile(r"\n[ \t]*(?:\*\*|__)?[ \t]*(?:t|ta|tas|task(?:[ \t]*\d*)?|\d{1,2})[ \t]*$", re.I)
RULE = re.compile(r"^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$", re.M)  # a horizontal rule separates like a blank line
# "**Creative writing:** Write a poem" -> "Write a poem"; "**Write** a poem" -> "Write a poem"
TITLE = re.compile(r"^(?:\*\*|__)[^*_\n]{1,60}?(?::(?:\*\*|__)|(?:\*\*|__):)\s*(?=\S)")
# "Task 10:" (or its bold forms) in the middle of a line starts a new item too
INLINE_TASK = re.compile(r"(?<=\S)[ \t]+(?=(?:\*\*|__)?(?:task|instruction)[ \t]*#?\d+[ \t]*(?:\*\*|__)?"
                         r"[ \t]*[:.\-–—])", re.I)
INLINE_BULLET = re.compile(r"(?<=[.!?:;])[ \t]+(?=[-•][ \t]+\w)")
EXAMPLE = re.compile(r"^[ \t]*(?:\#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*Example[ \t]*\d+[ \t]*(?:\*\*|__)?[ \t]*[:.\-–—]?"
                     r"[ \t]*(?:\*\*|__)?[ \t]*", re.I | re.M)
OUTPUT = re.compile(r"(?:^|(?<=\s))[ \t]*(?:[-*•][ \t]+)?(?:\*\*|__)?[ \t]*Output[ \t]*\d*[ \t]*(?:\*\*|__)?[ \t]*:"
                    r"[ \t]*(?:\*\*|__)?", re.I)
INPUT = re.compile(r"^[ \t]*(?:\d{1,2}[.)][ \t]+)?(?:[-*•][ \t]+)?(?:\*\*|__)?[ \t]*Input[ \t]*"
                   r"(?:\d+[ \t]*-|\d*[ \t]*(?:\*\*|__)?[ \t]*:)[ \t]*(?:\*\*|__)?[ \t]*", re.I)
INPUT_LINE = re.compile(r"^[ \t]*(?:\d{1,2}[.)][ \t]+)?(?:[-*•][ \t]+)?(?:\*\*|__)?[ \t]*Input[ \t]*\d*[ \t]*"
                        r"(?:\*\*|__)?[ \t]*:", re.I | re.M)
LABEL = re.compile(r"^[ \t]*(?:\d{1,2}[.)][ \t]+)?(?:[-*•][ \t]+)?(?:\*\*|__)?[ \t]*Class[ \t]+label[ \t]*"
                   r"(?:\*\*|__)?[ \t]*:[ \t]*(?:\*\*|__)?", re.I | re.M)
# the prompt's "Task: ..." line: echoed first, or the model moving on to another task (the paper's stop)
TASK_LINE = re.compile(r"^[ \t]*(?:\*\*|__)?Task(?:\*\*|__)?[ \t]*:", re.I | re.M)
HEADER = re.compile(r"^[ \t]*(?:\#{1,6}[ \t]*)?(?:\*\*|__|\#)?[ \t]*(?:the[ \t]+)?"
                    r"(?:rewritten|created|new|evolved|revised)[ \t]+prompt[ \t]*(?:\*\*|__|\#)?[ \t]*:?[ \t]*"
                    r"(?:\*\*|__)?[ \t]*", re.I | re.M)


# ---------------------------------------------------------------------- JSON
def json_value(text: str) -> Any:
    """The first JSON object or array in `text` (fenced, after a preamble, ...), or None."""
    body = FENCE_LINE.sub("", text).strip()
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[{\[]", body):
        try:
            value, _ = decoder.raw_decode(body, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, (dict, list)):
            return value
    return None


def json_items(text: str, key: str) -> list[Any] | None:
    """The elements of the array under `key` (or a top-level array), decoded one by one so that a reply
    cut mid-array keeps every finished element; None when there is no such array."""
    body = FENCE_LINE.sub("", text)
    start = re.search(rf'"{re.escape(key)}"\s*:\s*\[', body) or re.match(r"\s*\[", body)
    if not start:
        return None
    decoder, pos, items = json.JSONDecoder(), start.end(), []
    while True:
        while pos < len(body) and body[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(body) or body[pos] == "]":
            return items
        try:
            value, pos = decoder.raw_decode(body, pos)
        except json.JSONDecodeError:
            return items  # the unfinished last element
        items.append(value)


def json_field(text: str, *keys: str) -> Any:
    """The value under the first of `keys` in the reply's JSON object, or None."""
    value = json_value(text)
    if isinstance(value, dict):
        for key in keys:
            if key in value:
                return value[key]
    return None


# ---------------------------------------------------------------------- text
def clean(text: str) -> str:
    """One list item without wrapping: whitespace collapsed; a bold title, emphasis markers, a quote
    marker, surrounding quotes and trailing sign-off sentences off."""
    text = " ".join(re.sub(r"^[ \t]*>[ \t]?", "", text, flags=re.M).split())
    text = TITLE.sub("", text)
    if text.count("**") % 2 == 0 and text.count("__") % 2 == 0:
        text = re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__", lambda m: m.group(1) or m.group(2),
                      text)
    text = re.sub(r"^(?:\*\*|__)\s*|\s*(?:\*\*|__)$", "", text).strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'`":
        text = text[1:-1].strip()
    return strip_sign_off(text)


def strip_sign_off(text: str) -> str:
    """Cut a trailing sign-off ("... I hope these help!") from a single-paragraph value."""
    for sentence in re.finditer(r"(?:^|(?<=[.!?]))\s+[^.!?]*[.!?]*\s*$", text):
        if sign_off(sentence.group(0)):
            return text[:sentence.start()].rstrip()
    return text


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def strip_chatter(text: str) -> str:
    """A chat answer without its opening preamble and closing sign-off paragraphs:
    "Sure! Here's a haiku:\\n\\n<haiku>\\n\\nI hope you enjoy it!" -> "<haiku>"."""
    paras = paragraphs(text.strip())
    while paras and sign_off(paras[-1]) and len(paras[-1]) < 300:
        paras.pop()
    first = paras[0].strip() if paras else ""
    if len(paras) > 1 and (preamble(first) or first.endswith(":")) and "\n" not in first:
        paras.pop(0)
    out = "\n\n".join(p.strip("\n") for p in paras).strip()
    if out and (hit := preamble(out)) and "\n" not in hit:
        first, _, rest = out.partition("\n")
        if first.rstrip().endswith(":") and rest.strip():  # "Sure! Here is the answer:\n..."
            out = rest.strip()
        else:  # "Sure! The capital of France is Paris."
            out = out[len(hit):].lstrip(" !.,:;-–—").strip() if len(out) > len(hit) else out
    return out


def _split_inline(text: str) -> str:
    """One item per line: "Task 10:" or a bullet glued to the previous sentence starts a new line
    (looked for after the line's own marker, so "2. **Task 10:** ..." stays one item)."""
    lines = []
    for line in text.split("\n"):
        mark = ITEM.match(line)
        head, rest = (line[:mark.end()], line[mark.end():]) if mark else ("", line)
        rest = INLINE_TASK.sub("\n", rest)
        if len(INLINE_BULLET.findall(rest)) >= 2 or (mark and INLINE_BULLET.search(rest)):
            rest = INLINE_BULLET.sub("\n", rest)
        lines.append(head + rest)
    return "\n".join(lines)


def items(text: str, truncated: bool = False) -> list[str]:
    """The items of a list-shaped reply: "Task N:" lines, numbered lines, bullets (one paragraph each;
    text before the first item and after a blank line that follows the last is chatter). Without any
    marker, every line that is not a preamble, sign-off or refusal is an item. In-context examples
    echoed back are kept here: the pipeline drops them with its reason ("copies the prompt")."""
    body = _split_inline(RULE.sub("", FENCE_LINE.sub("", text)))
    if truncated and PARTIAL_MARK.search(body):  # cut inside the next item's marker: those before are whole
        body, truncated = PARTIAL_MARK.sub("", body), False
    marks = list(ITEM.finditer(body))
    found: list[tuple[str, bool]] = []  # (text, runs to the end of the reply)
    if marks:
        for i, mark in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
            chunk = body[mark.end():end]
            blank = re.search(r"\n[ \t]*\n", chunk.lstrip("\n"))
            para = chunk.lstrip("\n")[:blank.start()] if blank else chunk
            found.append((para, i + 1 == len(marks) and not blank))
    else:
        lines = [ln for ln in body.split("\n") if ln.strip()]
        for i, line in enumerate(lines):
            plain = BOLD.sub("", line).strip()
            if preamble(plain) or bare(plain) or sign_off(plain) or refusal(plain) or plain.endswith(":"):
                continue
            found.append((line, i + 1 == len(lines)))
    if truncated and found and found[-1][1]:
        found.pop()
    out = []
    for chunk, _ in found:
        value = clean(chunk)
        if value:
            out.append(value[0].upper() + value[1:])
    return out


def yes_no(text: str) -> bool | None:
    """Yes / No in any dress: JSON, "**No**", "Yes, because ...", "Is it classification? Yes"."""
    value = json_field(text, "classification", "is_classification", "answer")
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value
    plain = BOLD.sub("", text).lower()
    plain = re.sub(r"is it (?:a )?classification\??", " ", plain)
    word = re.search(r"\b(yes|no|true|false)\b", plain)
    if word:
        return word.group(1) in ("yes", "true")
    if re.search(r"\bnot\b[^.\n]{0,20}\bclassification\b", plain):
        return False
    if re.search(r"\b(?:is|it's|it is)\b[^.\n]{0,20}\bclassification\b", plain):
        return True
    return None


def equal(text: str) -> bool | None:
    """The equality judge's verdict: True (equal), False (not equal) or None (neither said)."""
    value = json_field(text, "equal", "equality", "answer", "judgement", "judgment")
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value
    plain = BOLD.sub("", text).lower()
    if re.search(r"\bnot\s+(?:the\s+same|equal|equivalent|identical)\b|\bunequal\b|\bdiffer", plain):
        return False
    if re.search(r"\bequal\b|\bthe\s+same\b|\bequivalent\b|\bidentical\b", plain):
        return True
    return None


def rewritten(text: str, truncated: bool = False) -> str | None:
    """The rewritten (or created) prompt: JSON {"prompt": ...}, the text after a "#Rewritten Prompt#:"
    header, or the reply without its preamble, quotes and sign-off. None when nothing is left or the
    reply was cut by the token limit (a cut prompt is not a prompt)."""
    if truncated:
        return None
    value = json_field(text, "prompt", "rewritten_prompt", "created_prompt", "new_prompt")
    if isinstance(value, str) and value.strip():
        return value.strip()
    body = FENCE_LINE.sub("", text).strip()
    header = None
    for header in HEADER.finditer(body):
        pass
    if header is not None:
        body = body[header.end():]
    body = re.sub(r"^[ \t]*>[ \t]?", "", strip_chatter(body), flags=re.M)  # a blockquote
    body = re.sub(r"^(?:\*\*|__)\s*|\s*(?:\*\*|__)$", "", body.strip()).strip()
    if len(body) > 1 and body[0] == body[-1] and body[0] in "\"'":
        body = body[1:-1].strip()
    return body or None


# ---------------------------------------------------------------------- instances
def _pair(block: str) -> tuple[str, str] | None:
    """(input, output) of one example block; the input keeps field names such as "List:" (as the
    paper's parser does) but not an "Input:" label."""
    parts = OUTPUT.split(block, maxsplit=1)
    if len(parts) == 1:
        return None
    inp, out = parts
    out = INPUT_LINE.split(out)[0]  # several pairs run together: keep the first
    inp = INPUT.sub("", inp.strip(), count=1)
    return _value(inp), _value(out)


def _value(text: str) -> str:
    text = text.strip().strip("\n")
    text = re.sub(r"^(?:\*\*|__)\s*|\s*(?:\*\*|__)$", "", text).strip()
    paras = paragraphs(text)
    while len(paras) > 1 and sign_off(paras[-1]):
        paras.pop()
    text = "\n\n".join(p.strip() for p in paras)
    text = strip_sign_off(text) if "\n" not in text else text
    if len(text) > 1 and text[0] == text[-1] and text[0] == '"' and text.count('"') == 2:
        text = text[1:-1]
    return text.strip()


def _blocks(body: str, pattern: re.Pattern) -> list[str]:
    """The text after each header `pattern` matches, up to the next (what precedes the first is chatter)."""
    marks = list(pattern.finditer(body))
    return [body[m.end():(marks[i + 1].start() if i + 1 < len(marks) else len(body))] for i, m in enumerate(marks)]


def _one_task(body: str) -> tuple[str, bool]:
    """The reply up to the model's moving on to another "Task:" (an echo of the task first is skipped);
    True when it moved on (the rest is not this task's, and what came before is whole)."""
    first = TASK_LINE.match(body.lstrip("\n"))
    if first:
        body = body.lstrip("\n").split("\n", 1)[1] if "\n" in body.lstrip("\n") else ""
    nxt = TASK_LINE.search(body)
    return (body[:nxt.start()], True) if nxt else (body, False)


def _drop_trailing_chatter(body: str) -> tuple[str, bool]:
    """The reply without closing sign-off paragraphs and without what belongs to another task; True
    when something followed the content."""
    body, moved_on = _one_task(body)
    paras = re.split(r"(\n[ \t]*\n)", body.rstrip())
    cut = False
    while len(paras) > 2 and (sign_off(paras[-1]) or preamble(paras[-1].strip())):
        paras = paras[:-2]
        cut = True
    return "".join(paras), cut or moved_on


def input_first(text: str, truncated: bool = False) -> list[tuple[str, str]]:
    """Instances of an input-first reply: JSON {"instances": [{"input", "output"}]}, or "Example N" blocks
    (a header starts a line and has a number, so an input holding the word "Example" stays whole), or
    Input:/Output: pairs (bold labels or not), or one lone "Output:"."""
    rows = json_items(text, "instances")
    if rows is not None:
        return [(str(r.get("input") or "").strip(), str(r.get("output") or "").strip()) for r in rows
                if isinstance(r, dict) and str(r.get("output") or "").strip()]
    body, after = _drop_trailing_chatter(FENCE_LINE.sub("", text))
    blocks = _blocks(body, EXAMPLE)
    if not blocks:
        starts = [m.start() for m in INPUT_LINE.finditer(body)]
        if starts:
            blocks = [body[a:b] for a, b in zip(starts, starts[1:] + [len(body)])]
        elif OUTPUT.search(body):
            blocks = [_strip_intro(body)]
    if truncated and not after:  # the reply ended inside its last example
        blocks = blocks[:-1]
    return [p for p in (_pair(b) for b in blocks) if p is not None and p[1]]


def _strip_intro(body: str) -> str:
    """A lone pair without the preamble before it ("Sure! Here is an example:")."""
    paras = paragraphs(body)
    while len(paras) > 1 and (preamble(paras[0].strip()) or paras[0].strip().endswith(":")) \
            and not OUTPUT.search(paras[0]):
        paras.pop(0)
    return "\n\n".join(paras)


def output_first(text: str, truncated: bool = False) -> list[tuple[str, str]]:
    """Instances of an output-first reply as (input, label): JSON {"instances": [{"class_label", "input"}]}
    or "Class label:" blocks (bold or not), the input being the lines after the label."""
    rows = json_items(text, "instances")
    if rows is not None:
        rows = [r for r in rows if isinstance(r, dict)]
        pairs = [(str(r.get("input") or "").strip(), str(r.get("class_label") or r.get("label") or "").strip())
                 for r in rows]
        return [p for p in pairs if p[1]]
    body, after = _drop_trailing_chatter(FENCE_LINE.sub("", text))
    blocks = _blocks(body, LABEL)
    if truncated and not after:  # the reply ended inside its last example
        blocks = blocks[:-1]
    pairs = []
    for block in blocks:
        label, _, rest = block.strip().partition("\n")
        label = _value(label)
        inp = INPUT.sub("", rest.strip(), count=1) if INPUT.match(rest.strip()) else rest
        # the input ends at a blank line or at a label of another example run into it
        inp = re.split(r"\n[ \t]*\n|\n(?=[ \t]*(?:\*\*|__)?(?:Output|Example[ \t]*\d*)\b)", inp.strip(),
                       maxsplit=1)[0]
        if label:
            pairs.append((_value(inp), label))
    return pairs
