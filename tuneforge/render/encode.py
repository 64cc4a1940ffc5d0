"""Example -> input_ids + labels: render with a template, tokenize with offsets, mask per token.

Trained positions come from the character spans the template reports for each turn (mapped to tokens
through the tokenizer's offsets), never from searching for the reply text, and never from the pad
token, so EOS is trained even when pad == EOS.

Work per record is bounded by `max_length`, not by the record's size: no token covers more characters than
the tokenizer's longest vocabulary entry, so the first `max_length + 1` tokens lie within a character budget
of (max_length + 1) x that length (doubled, and a margin added, for merges across the cut); text beyond it
is cut before tokenising. A 50 MB record then costs what 512 tokens cost.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuneforge.errors import TuneforgeError
from tuneforge.data.example import Example
from tuneforge.loss_mask.base import apply_turn_rules
from tuneforge.template.base import Span, Template

if TYPE_CHECKING:
    from tuneforge.loss_mask.base import LossMasker

IGNORE_INDEX = -100


@dataclass
class Encoded:
    input_ids: list[int]
    labels: list[int]
    truncated: bool = False
    length: int = 0  # tokens before truncation (a lower bound when `cut`)
    cut: bool = False  # the text was cut at the character budget before tokenising

    @property
    def num_trained(self) -> int:
        return sum(label != IGNORE_INDEX for label in self.labels)


def token_turns(offsets: list[tuple[int, int]], spans: list[Span]) -> list[Span | None]:
    """The turn span of each token (None for template text outside any turn).

    A token belongs to every span it overlaps; when it overlaps several (a token merged across a turn
    boundary), an assistant span wins, so a reply's first and last tokens are always trained (as in
    transformers' `return_assistant_tokens_mask`). Zero-width tokens belong to the span they sit in.
    """
    ordered = sorted((s for s in spans if s.end > s.start), key=lambda s: s.start)
    out: list[Span | None] = []
    j, n, previous = 0, len(ordered), -1
    for start, end in offsets:
        if start < previous:  # offsets out of order (unusual added tokens): scan from the beginning
            j = 0
        previous = start
        while j < n and ordered[j].end <= start:
            j += 1
        chosen, k, limit = None, j, end if end > start else start + 1
        while k < n and ordered[k].start < limit:  # the spans this token overlaps
            if chosen is None or ordered[k].role == "assistant":
                chosen = ordered[k]
                if chosen.role == "assistant":
                    break
            k += 1
        out.append(chosen)
    return out


def render(example: Example, tokenizer: Any, template: Template) -> tuple[str, list[Span]]:
    """The text of an example and its turn spans; raw text is `text + EOS`, one span of role `text`."""
    if example.is_text:
        text = (tokenizer.bos_token or "") + example.text + (tokenizer.eos_token or "")
        return text, [Span(0, len(text), "text", 0)]
    return template.render(example.messages, eos=tokenizer.eos_token or "", bos=tokenizer.bos_token or "")


def char_budget(tokenizer: Any, max_length: int) -> int:
    """Characters that surely hold the first `max_length + 1` tokens (see the module docstring)."""
    longest = getattr(tokenizer, "_tuneforge_longest_token", None)
    if longest is None:
        vocab = tokenizer.get_vocab() if hasattr(tokenizer, "get_vocab") else {}
        longest = max((len(t) for t in vocab), default=16)
        try:
            tokenizer._tuneforge_longest_token = longest  # once per tokenizer (a 49k vocabulary: ~0.05 s)
        except AttributeError:
            pass
    return 2 * (max_length + 1) * max(longest, 1) + 1024


def encode(example: Example, tokenizer: Any, template: Template, masker: LossMasker,
           max_length: int) -> Encoded:
    """Encode one example; sequences longer than `max_length` are cut (and flagged `truncated`).

    Raw-text examples train every token whatever the masker says."""
    text, spans = render(example, tokenizer, template)
    budget = char_budget(tokenizer, max_length)
    cut = len(text) > budget
    if cut:
        text = text[:budget]
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    return finish(example, ids, None if example.is_text else token_turns(offsets, spans), masker, max_length, cut)


def finish(example: Example, ids: list[int], turns: list[Span | None] | None, masker: LossMasker,
           max_length: int, cut: bool) -> Encoded:
    """The Encoded of a tokenised example from each token's turn span (`turns`; None for raw text, where
    every token is trained): the labels the masker keeps, cut to `max_length`. Shared with the batched
    path (render/batch.py)."""
    if turns is None:
        trained = [True] * len(ids)
    else:
        # tool turns never trained; a message's `train` flag wins over the masker (tuneforge/loss_mask/base.py)
        trained = apply_turn_rules(masker.trained(turns, len(example.messages)), turns, example.messages)
    if len(trained) != len(ids):
        raise TuneforgeError(f"loss masker returned {len(trained)} flags for {len(ids)} tokens")
    labels = [t if keep else IGNORE_INDEX for t, keep in zip(ids, trained)]
    truncated = cut or len(ids) > max_length
    return Encoded(ids[:max_length], labels[:max_length], truncated, len(ids), cut)


def encode_prompt(example: Example, tokenizer: Any, template: Template) -> str:
    """The text a model is given at inference: everything before the final reply, then the
    assistant prefix."""
    text, _ = template.render(example.prompt_messages, eos=tokenizer.eos_token or "",
                              bos=tokenizer.bos_token or "", add_generation_prompt=True)
    return text
