"""Evolution operator `audience`: an Evol-Instruct in-depth rewrite that addresses the instruction to
a given audience (one drawn per instruction from `audiences`)."""
from __future__ import annotations

import random

from tuneforge.errors import ConfigError, ConfigIssue
from tuneforge.registry import register

# WizardLM's in-depth rewriter prompt, with this operator's method sentence.
REWRITER = """I want you act as a Prompt Rewriter.
Your objective is to rewrite a given prompt into a more complex version to make those famous AI systems (e.g., ChatGPT and GPT4) a bit harder to handle.
But the rewritten prompt must be reasonable and must be understood and responded by humans.
Your rewriting cannot omit the non-text parts such as the table and code in #Given Prompt#:. Also, please do not omit the input in #Given Prompt#.
You SHOULD complicate the given prompt using the following method:
Rewrite #Given Prompt# so that the answer is meant for {audience}: state the audience and ask for vocabulary, depth and examples suited to them.
You should try your best not to make the #Rewritten Prompt# become verbose, #Rewritten Prompt# can only add 10 to 20 words into #Given Prompt#.
'#Given Prompt#', '#Rewritten Prompt#', 'given prompt' and 'rewritten prompt' are not allowed to appear in #Rewritten Prompt#
#Given Prompt#:
{instruction}
#Rewritten Prompt#:
"""


@register("evolution_op", "audience")
class Audience:
    """In-depth: rewrite the instruction for a specific audience (drawn from `audiences`)."""

    direction = "depth"  # "depth" (rewrite harder) or "breadth" (a new instruction in the same domain)

    def __init__(self, audiences: list[str] = ["a ten-year-old", "a domain expert", "a busy manager"]):  # noqa: B006
        if not audiences:
            raise ConfigError(ConfigIssue("evolution.audience.audiences", "give at least one audience"))
        self.name, self.audiences = "audience", list(audiences)

    def prompt(self, instruction: str, rng: random.Random) -> str:
        return REWRITER.format(audience=rng.choice(self.audiences), instruction=instruction.strip())
