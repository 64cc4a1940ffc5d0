"""Batches of encoded examples: right-padded (`Collator`) or packed (`PackingCollator`).

- `Collator`: right-padded batches (2D attention mask).
- `PackingCollator` (`data.packing=true`): the batch's examples packed into rows of `pack_length`
  tokens; position ids restart per example, `segment_ids` say which example each token belongs to
  (-1: padding) and `packed_attention_mask` turns them into the block-diagonal causal mask.
- `PaddingFreeCollator` (`data.packing=padding_free`): the whole batch in one row, no padding, no
  attention mask; position ids restarting per example are all transformers needs to isolate them
  (varlen kernels on flash_attention_2, a block-diagonal mask built from the position ids on sdpa and
  eager), provided the forward runs with `use_cache=False`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuneforge.render.encode import IGNORE_INDEX, Encoded

if TYPE_CHECKING:
    import torch


class Collator:
    """Right-pads a batch: pad id for inputs, -100 for labels, 0 in the attention mask."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, batch: list[Encoded]) -> dict[str, Any]:
        import torch

        width = max(len(e.input_ids) for e in batch)
        ids = torch.full((len(batch), width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, e in enumerate(batch):
            n = len(e.input_ids)
            ids[i, :n] = torch.tensor(e.input_ids)
            labels[i, :n] = torch.tensor(e.labels)
            mask[i, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def pack_rows(lengths: list[int], capacity: int) -> list[list[int]]:
    """First-fit decreasing: indices of `lengths` grouped into rows of at most `capacity` tokens (an
    item longer than `capacity` gets a row of its own). Deterministic (ties keep input order)."""
    rows: list[list[int]] = []
    free: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda k: -lengths[k]):
        for r, room in enumerate(free):
            if lengths[i] <= room:
                rows[r].append(i)
                free[r] -= lengths[i]
                break
        else:
            rows.append([i])
            free.append(capacity - lengths[i])
    return rows


class PackingCollator:
    """Packs a batch's examples into rows of up to `pack_length` tokens (padded to the longest row).

    Per token: `position_ids` restart at 0 for each example, `segment_ids` number the examples of a
    row (-1 on padding). Each example's first label is -100: the previous example's last token must
    not be trained to predict it. No 2D `attention_mask` is returned (a 2D mask would let examples
    attend to each other); the module builds the 4D mask with `packed_attention_mask`.
    """

    def __init__(self, pad_token_id: int, pack_length: int):
        self.pad_token_id, self.pack_length = pad_token_id, pack_length

    def __call__(self, batch: list[Encoded]) -> dict[str, Any]:
        import torch

        rows = pack_rows([len(e.input_ids) for e in batch], self.pack_length)
        width = max(sum(len(batch[i].input_ids) for i in row) for row in rows)
        shape = (len(rows), width)
        ids = torch.full(shape, self.pad_token_id, dtype=torch.long)
        labels = torch.full(shape, IGNORE_INDEX, dtype=torch.long)
        positions = torch.zeros(shape, dtype=torch.long)
        segments = torch.full(shape, -1, dtype=torch.long)
        for r, row in enumerate(rows):
            at = 0
            for s, i in enumerate(row):
                e, n = batch[i], len(batch[i].input_ids)
                ids[r, at:at + n] = torch.tensor(e.input_ids)
                labels[r, at + 1:at + n] = torch.tensor(e.labels[1:])
                positions[r, at:at + n] = torch.arange(n)
                segments[r, at:at + n] = s
                at += n
        return {"input_ids": ids, "labels": labels, "position_ids": positions, "segment_ids": segments,
                "num_examples": len(batch)}


class PaddingFreeCollator:
    """Concatenates a batch's examples into one row of shape (1, total tokens) with `position_ids`
    restarting at 0 per example and no attention mask (transformers' padding-free format, as
    DataCollatorWithFlattening). Each example's first label is -100. A 2D mask, even all ones, or a
    cache would make transformers treat the row as one sequence (examples would see each other)."""

    def __init__(self, pad_token_id: int | None = None):
        self.pad_token_id = pad_token_id  # unused: nothing is padded

    def __call__(self, batch: list[Encoded]) -> dict[str, Any]:
        import torch

        ids, labels, positions = [], [], []
        for e in batch:
            ids += e.input_ids
            labels += [IGNORE_INDEX, *e.labels[1:]]
            positions += range(len(e.input_ids))
        return {"input_ids": torch.tensor([ids]), "labels": torch.tensor([labels]),
                "position_ids": torch.tensor([positions]), "num_examples": len(batch)}


#: Attention implementations that build per-example attention from restarting position ids (flex too,
#: but it has no backward on CPU); others (paged, hub kernels) would let packed examples see each other.
PADDING_FREE_ATTENTION = ("sdpa", "sdpa_fp32", "eager", "flash_attention_2", "flash_attention_3", "flex_attention")


def padding_free_problem(attn_implementation: str | None, prompt_learning: bool) -> str | None:
    """Why `data.packing=padding_free` cannot isolate the examples of a row with this model, or None."""
    if prompt_learning:
        return ("padding-free packing does not work with prompt-learning PEFT methods (prefix, prompt, ptuning, "
                "ptuning_free add virtual tokens per row): use data.packing=false or data.group_by_length=true")
    if (attn_implementation or "sdpa") not in PADDING_FREE_ATTENTION:
        return (f"padding-free packing needs an attention implementation that reads position ids "
                f"({', '.join(PADDING_FREE_ATTENTION)}), not {attn_implementation!r}: set model.attn_implementation "
                f"or use data.packing=true")
    return None


def make_collator(packing: bool | str, pad_token_id: int, pack_length: int) -> Any:
    """The collator of `data.packing`: false (padded rows), true (packed rows with a 4D mask) or padding_free."""
    if packing == "padding_free":
        return PaddingFreeCollator(pad_token_id)
    return PackingCollator(pad_token_id, pack_length) if packing else Collator(pad_token_id)


def packed_attention_mask(segment_ids: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The additive (B, 1, T, T) mask of packed rows: 0 where a token may attend (an earlier or the
    same token of its own example), `finfo(dtype).min` elsewhere. A float mask, not a bool one: eager
    attention adds the mask to the scores, so a bool mask would mask nothing (measured on transformers
    5.23: logits leaked across examples by 1.98, no error); the
    finite minimum (not -inf) keeps padding rows from turning into NaN. Padding attends to itself."""
    import torch

    t = segment_ids.shape[-1]
    same = segment_ids[:, :, None] == segment_ids[:, None, :]
    causal = torch.ones(t, t, dtype=torch.bool, device=segment_ids.device).tril()
    allowed = (same & causal) | torch.eye(t, dtype=torch.bool, device=segment_ids.device)
    mask = torch.zeros(allowed.shape, dtype=dtype, device=segment_ids.device)
    return mask.masked_fill_(~allowed, torch.finfo(dtype).min)[:, None]
