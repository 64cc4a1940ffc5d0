"""Batched encoding: the input_ids and labels of `encode`, from one fast-tokenizer call per batch.

Per batch: render every example (cut at the same character budget as `encode`), tokenise all texts in one
`tokenizer(texts, return_offsets_mapping=True)` call, then find each token's turn span for the whole batch
at once with numpy (`batch_token_turns`, the rule of `token_turns`), and finish each record with `encode`'s
own `finish` (loss masker, per-turn rules, labels, truncation). A record whose spans overlap each other is
handled by `token_turns` itself. tests/unit/render/test_batched.py checks that both paths agree.
"""
from __future__ import annotations

from itertools import chain, pairwise
from typing import TYPE_CHECKING, Any

from tuneforge.data.example import Example
from tuneforge.errors import TuneforgeError
from tuneforge.render.encode import Encoded, char_budget, finish, render, token_turns
from tuneforge.template.base import Span, Template

if TYPE_CHECKING:
    from tuneforge.loss_mask.base import LossMasker


def batch_token_turns(offsets: list[list[tuple[int, int]]], spans: list[list[Span]], lengths: list[int],
                      skip: set[int] = frozenset()) -> list[list[Span | None] | None]:
    """`token_turns(offsets[r], spans[r])` for every record r of text length `lengths[r]` (None for records
    in `skip`).

    With a record's non-empty spans sorted and disjoint, the spans a token overlaps are a contiguous run:
    from the first span ending after the token's start to the last starting before its end (its start + 1
    when zero-width). Both ends are found for every token of the batch by two `searchsorted` calls over
    coordinates shifted per record; tokens overlapping several spans (rare) pick as `token_turns` does.
    """
    import numpy as np

    table: list[Span | None] = []
    starts, ends, fallback = [], [], {}
    shift = 2 + max(lengths, default=0)  # above any offset or span end (+1 for zero-width tokens)
    for r, record_spans in enumerate(spans):
        if r in skip:
            continue
        ordered = sorted((s for s in record_spans if s.end > s.start), key=lambda s: s.start)
        if any(a.end > b.start for a, b in pairwise(ordered)):
            fallback[r] = token_turns(offsets[r], record_spans)
            continue
        base, top = r * shift, lengths[r] + 1  # spans past a cut text end there: no token lies beyond
        table += ordered
        starts += [base + min(s.start, top) for s in ordered]
        ends += [base + min(s.end, top) for s in ordered]
    table.append(None)  # index -1: no span
    counts = [len(o) for o in offsets]
    total = sum(counts)
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(offsets)), dtype=np.int64, count=2 * total)
    tok_start, tok_end = flat[0::2], flat[1::2]
    base = np.repeat(np.arange(len(offsets), dtype=np.int64) * shift, counts)
    limit = np.where(tok_end > tok_start, tok_end, tok_start + 1) + base
    first = np.searchsorted(np.asarray(ends, dtype=np.int64), tok_start + base, side="right")
    stop = np.searchsorted(np.asarray(starts, dtype=np.int64), limit, side="left")
    chosen = np.where(stop > first, first, -1)
    for i in np.nonzero(stop - first >= 2)[0].tolist():  # several spans: an assistant one wins
        k = next((k for k in range(first[i], stop[i]) if table[k].role == "assistant"), first[i])
        chosen[i] = k
    chosen_list = chosen.tolist()
    out: list[list[Span | None] | None] = []
    lo = 0
    for r, n in enumerate(counts):
        if r in skip:
            out.append(None)
        elif r in fallback:
            out.append(fallback[r])
        else:
            out.append([table[g] for g in chosen_list[lo:lo + n]])
        lo += n
    return out


def encode_batch(examples: list[Example], tokenizer: Any, template: Template, masker: LossMasker,
                 max_length: int) -> list[Encoded | TuneforgeError]:
    """`encode(e, ...)` for each example with one tokenizer call: identical results, and in place of a
    record whose rendering or masking fails, the TuneforgeError that `encode` would raise."""
    budget = char_budget(tokenizer, max_length)
    out: list[Encoded | TuneforgeError | None] = [None] * len(examples)
    texts, spans, cuts, rows = [], [], [], []
    for r, example in enumerate(examples):
        try:
            text, record_spans = render(example, tokenizer, template)
        except TuneforgeError as err:
            out[r] = err
            continue
        cut = len(text) > budget
        texts.append(text[:budget] if cut else text)
        spans.append(record_spans)
        cuts.append(cut)
        rows.append(r)
    if texts:
        enc = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, return_attention_mask=False,
                        return_token_type_ids=False)
        raw = {i for i, r in enumerate(rows) if examples[r].is_text}
        turns = batch_token_turns(enc["offset_mapping"], spans, [len(t) for t in texts], raw)
        for i, (r, ids) in enumerate(zip(rows, enc["input_ids"])):
            try:
                out[r] = finish(examples[r], ids, turns[i], masker, max_length, cuts[i])
            except TuneforgeError as err:
                out[r] = err
    return out
