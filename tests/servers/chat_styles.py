"""How chat models dress their answers, per pipeline stage: each function renders given content in a
named style, the way instruction-tuned models write it (preambles, bold labels, numbered lists,
bullets, code fences, JSON, sign-offs). The scripted LLM (scripts.py) answers chat prompts with these;
the tests check that the parsers recover exactly the content and the filter leaves nothing of the rest.
"""
from __future__ import annotations

import json

TASK_STYLES = ["task_lines", "bold_tasks", "bold_number", "numbered", "bullets", "inline_bullets", "headings",
               "json_fenced", "json"]
LABEL_STYLES = ["word", "yes_because", "bold", "question_echo", "sentence", "json"]
INSTANCE_STYLES = ["plain", "bold_labels", "numbered", "input_output", "json_fenced", "json"]
REWRITE_STYLES = ["header", "preamble_quoted", "bold_header", "plain", "json"]
ANSWER_STYLES = ["plain", "preamble_signoff", "interjection", "colon_intro"]
VERDICT_STYLES = ["plain", "bold", "sentence", "json"]


def tasks(style: str, items: list[str], first: int = 9) -> str:
    n = range(first, first + len(items))
    if style == "task_lines":  # blank lines between items: a "\n\n" stop would keep only the preamble
        return ("Sure! Here are some more tasks:\n\n" + "\n\n".join(f"Task {i}: {t}" for i, t in zip(n, items))
                + "\n\nI hope these help!")
    if style == "bold_tasks":
        return "\n".join(f"**Task {i}:** {t}" for i, t in zip(n, items)) + "\n\nLet me know if you need more tasks!"
    if style == "bold_number":
        return "Certainly!\n\n" + "\n".join(f"**Task {i}**: {t}" for i, t in zip(n, items))
    if style == "numbered":
        return f"Here are {len(items)} new tasks:\n\n" + "\n".join(f"{i}. {t}" for i, t in zip(n, items))
    if style == "bullets":
        return "Of course! Here are a few ideas:\n" + "\n".join(f"- {t}" for t in items) + "\n\nFeel free to ask for more."
    if style == "inline_bullets":
        return "Certainly. More tasks in the same spirit: " + " ".join(f"- {t}" for t in items)
    if style == "headings":
        return "\n\n".join(f"### Task {i}\n{t}" for i, t in zip(n, items))
    if style == "json_fenced":
        return "Here is the JSON you asked for:\n```json\n" + json.dumps({"tasks": items}, indent=2) + "\n```"
    if style == "json":
        return json.dumps({"tasks": items})
    raise ValueError(style)


def label(style: str, yes: bool) -> str:
    word = "Yes" if yes else "No"
    return {"word": word, "yes_because": f"{word}, because the task {'has' if yes else 'does not have'} a fixed "
            "set of output labels.", "bold": f"**{word}**", "question_echo": f"Is it classification? {word}",
            "sentence": f"The answer is: **{word}**.", "json": json.dumps({"classification": yes})}[style]


def instances(style: str, pairs: list[tuple[str, str]]) -> str:
    """Input-first instances: (input, output) pairs."""
    if style == "plain":
        return "\n".join(f"Example {i}\n{inp}\nOutput: {out}" for i, (inp, out) in enumerate(pairs, 1))
    if style == "bold_labels":
        return ("Sure! Here are some examples:\n\n" + "\n\n".join(
            f"**Example {i}:**\n**Input:** {inp}\n**Output:** {out}" for i, (inp, out) in enumerate(pairs, 1))
            + "\n\nLet me know if you need more examples!")
    if style == "numbered":
        return "\n".join(f"{i}. Input: {inp}\n   Output: {out}" for i, (inp, out) in enumerate(pairs, 1))
    if style == "input_output":
        return "\n\n".join(f"Input: {inp}\nOutput: {out}" for inp, out in pairs) + "\n\nI hope this helps!"
    if style == "json_fenced":
        rows = [{"input": i, "output": o} for i, o in pairs]
        return "```json\n" + json.dumps({"instances": rows}, indent=1) + "\n```"
    if style == "json":
        return json.dumps({"instances": [{"input": i, "output": o} for i, o in pairs]})
    raise ValueError(style)


def labelled(style: str, pairs: list[tuple[str, str]]) -> str:
    """Output-first instances: (label, input) pairs."""
    if style in ("plain", "numbered", "input_output"):
        return "\n".join(f"Class label: {lab}\n{inp}" for lab, inp in pairs)
    if style == "bold_labels":
        return ("Certainly! Here are the examples:\n\n" + "\n\n".join(
            f"**Class label:** {lab}\n**Input:** {inp}" for lab, inp in pairs) + "\n\nHope this helps!")
    if style in ("json_fenced", "json"):
        body = json.dumps({"instances": [{"class_label": lab, "input": inp} for lab, inp in pairs]})
        return f"```json\n{body}\n```" if style == "json_fenced" else body
    raise ValueError(style)


def rewrite(style: str, text: str, created: bool = False) -> str:
    what = "Created" if created else "Rewritten"
    return {"header": f"#{what} Prompt#:\n{text}",
            "preamble_quoted": f"Sure! Here's the {what.lower()} prompt:\n\n\"{text}\"\n\nLet me know if you want "
                               "any changes!",
            "bold_header": f"**{what} Prompt:** {text}", "plain": text,
            "json": json.dumps({"prompt": text})}[style]


def answer(style: str, text: str) -> str:
    return {"plain": text, "preamble_signoff": f"Sure! Here's a careful answer:\n\n{text}\n\nI hope this helps!",
            "interjection": f"Certainly! {text}", "colon_intro": f"Of course. Here is my answer:\n{text}"}[style]


def verdict(style: str, equal: bool) -> str:
    word = "Equal" if equal else "Not Equal"
    return {"plain": word, "bold": f"**{word}**", "sentence": f"The two prompts are {word.lower()}.",
            "json": json.dumps({"equal": equal})}[style]
