"""Example -> input_ids + labels: render with a template, tokenize with offsets, mask per token.

Trained positions come from the character spans the template reports for each turn (mapped to tokens
through the tokenizer's offsets), never from searching for the reply text, and never from the pad
token, so EOS is trained even when pad == EOS.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import TuneforgeError
from .example import Example
from .templates import Span, Template

if TYPE_CHECKING:
    from ..loss_mask.base import LossMasker

IGNORE_INDEX = -100


@dataclass
class Encoded:
    input_ids: list[int]
    labels: list[int]
    truncated: bool = False

    @property
    def num_trained(self) -> int:
        return sum(label != IGNORE_INDEX for label in self.labels)


def token_turns(offsets: list[tuple[int, int]], spans: list[Span]) -> list[Span | None]:
    """The span each token starts in (None for template text outside any turn)."""
    out, j = [], 0
    ordered = sorted(spans, key=lambda s: s.start)
    for start, end in offsets:
        while j < len(ordered) and ordered[j].end <= start:
            j += 1
        span = ordered[j] if j < len(ordered) and ordered[j].start <= start < ordered[j].end else None
        out.append(span if end > start or span is not None else None)
    return out


def encode(example: Example, tokenizer: Any, template: Template, masker: LossMasker,
           max_length: int) -> Encoded:
    """Encode one example; sequences longer than `max_length` are cut (and flagged `truncated`)."""
    text, spans = template.render(example.messages, eos=tokenizer.eos_token or "",
                                  bos=tokenizer.bos_token or "")
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    per_token = token_turns(offsets, spans)
    trained = masker.trained(per_token, len(example.messages))
    if len(trained) != len(ids):
        raise TuneforgeError(f"loss masker returned {len(trained)} flags for {len(ids)} tokens")
    labels = [t if keep else IGNORE_INDEX for t, keep in zip(ids, trained)]
    truncated = len(ids) > max_length
    return Encoded(ids[:max_length], labels[:max_length], truncated)


def encode_prompt(example: Example, tokenizer: Any, template: Template) -> str:
    """The text a model is given at inference: everything before the final reply, then the
    assistant prefix."""
    text, _ = template.render(example.prompt_messages, eos=tokenizer.eos_token or "",
                              bos=tokenizer.bos_token or "", add_generation_prompt=True)
    return text
