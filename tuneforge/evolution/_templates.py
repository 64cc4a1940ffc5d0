"""Evol-Instruct's prompt templates (WizardLM, Xu et al. 2023)."""
from __future__ import annotations

DEPTH = """I want you act as a Prompt Rewriter.
Your objective is to rewrite a given prompt into a more complex version to make those famous AI systems (e.g., ChatGPT and GPT4) a bit harder to handle.
But the rewritten prompt must be reasonable and must be understood and responded by humans.
Your rewriting cannot omit the non-text parts such as the table and code in #Given Prompt#:. Also, please do not omit the input in #Given Prompt#.
You SHOULD complicate the given prompt using the following method:
{method}
You should try your best not to make the #Rewritten Prompt# become verbose, #Rewritten Prompt# can only add 10 to 20 words into #Given Prompt#.
'#Given Prompt#', '#Rewritten Prompt#', 'given prompt' and 'rewritten prompt' are not allowed to appear in #Rewritten Prompt#
#Given Prompt#:
{instruction}
#Rewritten Prompt#:
"""

BREADTH = """I want you act as a Prompt Creator.
Your goal is to draw inspiration from the #Given Prompt# to create a brand new prompt.
This new prompt should belong to the same domain as the #Given Prompt# but be even more rare.
The LENGTH and difficulty level of the #Created Prompt# should be similar to that of the #Given Prompt#.
The #Created Prompt# must be reasonable and must be understood and responded by humans.
'#Given Prompt#', '#Created Prompt#', 'given prompt' and 'created prompt' are not allowed to appear in #Created Prompt#.
#Given Prompt#:
{instruction}
#Created Prompt#:
"""


class DepthOp:
    """Shared by the five in-depth operators: the rewriter template with one method sentence."""

    direction = "depth"

    def __init__(self, name: str, method: str):
        self.name, self.method = name, method

    def prompt(self, instruction: str, rng) -> str:  # noqa: ANN001 (random.Random)
        return DEPTH.format(method=self.method, instruction=instruction.strip())
