"""Encoded examples -> resumable data loaders (torchdata's StatefulDataLoader, STACK-NOTES 17).

- `Collator`: right-padded batches (2D attention mask).
- `PackingCollator` (`data.packing=true`): the batch's examples packed into rows of `pack_length`
  tokens; position ids restart per example, `segment_ids` say which example each token belongs to
  (-1: padding) and `packed_attention_mask` turns them into the block-diagonal causal mask.
- `LengthGroupedSampler` (`data.group_by_length=true`): a seeded shuffle sorted by length within
  mega-batches, resumable like torchdata's RandomSampler.
The sampler decides which examples form a batch; packing only changes their layout, so a packed run
sees the same examples per optimizer step as an unpacked one (same loss, same resume position).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from ..data.base import LoaderSettings
from ..text.encode import IGNORE_INDEX, Encoded

if TYPE_CHECKING:
    import torch

MEGA_BATCH = 50  # batches per length-sorted group (as transformers' LengthGroupedSampler)


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


def packed_attention_mask(segment_ids: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The additive (B, 1, T, T) mask of packed rows: 0 where a token may attend (an earlier or the
    same token of its own example), `finfo(dtype).min` elsewhere. A float mask, not a bool one: eager
    attention adds the mask to the scores, so a bool mask would mask nothing (STACK-NOTES 9); the
    finite minimum (not -inf) keeps padding rows from turning into NaN. Padding attends to itself."""
    import torch

    t = segment_ids.shape[-1]
    same = segment_ids[:, :, None] == segment_ids[:, None, :]
    causal = torch.ones(t, t, dtype=torch.bool, device=segment_ids.device).tril()
    allowed = (same & causal) | torch.eye(t, dtype=torch.bool, device=segment_ids.device)
    mask = torch.zeros(allowed.shape, dtype=dtype, device=segment_ids.device)
    return mask.masked_fill_(~allowed, torch.finfo(dtype).min)[:, None]


class _GroupedIterator:
    """State as torchdata's random sampler iterator: the generator state at the start of the epoch
    and how many indices were yielded (replayed on load)."""

    def __init__(self, sampler: LengthGroupedSampler):
        self.sampler = sampler
        self.generator_state = sampler.generator.get_state()
        self.order = sampler.order()
        self.yielded = 0

    def __iter__(self) -> _GroupedIterator:
        return self

    def __next__(self) -> int:
        if self.yielded == len(self.order):
            raise StopIteration
        self.yielded += 1
        return self.order[self.yielded - 1]

    def state_dict(self) -> dict[str, Any]:
        return {"yielded": self.yielded, "generator": self.generator_state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator_state = state["generator"]
        self.sampler.generator.set_state(self.generator_state)
        self.order = self.sampler.order()
        self.yielded = state["yielded"]


class LengthGroupedSampler:
    """Each epoch: a seeded random permutation, cut into mega-batches of `MEGA_BATCH` batches, each
    sorted by length (longest first); consecutive batches then hold examples of similar lengths, so
    padding shrinks while the order stays random across mega-batches."""

    def __init__(self, lengths: list[int], batch_size: int, generator: torch.Generator):
        self.lengths, self.batch_size, self.generator = lengths, batch_size, generator

    def order(self) -> list[int]:
        import torch

        perm = torch.randperm(len(self.lengths), generator=self.generator).tolist()
        size = self.batch_size * MEGA_BATCH
        return [i for s in range(0, len(perm), size)
                for i in sorted(perm[s:s + size], key=lambda k: -self.lengths[k])]

    def __iter__(self) -> Iterator[int]:
        return _GroupedIterator(self)

    def __len__(self) -> int:
        return len(self.lengths)


def make_loader(encoded: list[Encoded], settings: LoaderSettings, pad_token_id: int, *,
                train: bool, seed: int, num_replicas: int = 1, rank: int = 0) -> Any:
    """A resumable loader; the training sampler and the loader each own a generator (exact resume).
    `settings.packing` packs each batch; `settings.group_by_length` groups training batches by length.
    With `num_replicas` > 1 (distributed training) each rank gets its shard of the training order."""
    import torch
    from torchdata.stateful_dataloader.sampler import RandomSampler

    from .resume import ResumableDataLoader

    if settings.packing and settings.pack_length < 1:
        from ..errors import ConfigError, ConfigIssue

        raise ConfigError(ConfigIssue("data.pack_length", f"must be >= 1, got {settings.pack_length}"))
    batch_size = settings.batch_size if train else settings.eval_batch_size
    sampler: Any = None
    if train and settings.shuffle:
        generator = torch.Generator().manual_seed(seed)
        sampler = (LengthGroupedSampler([len(e.input_ids) for e in encoded], batch_size, generator)
                   if settings.group_by_length else RandomSampler(encoded, generator=generator))
    if train and num_replicas > 1:  # rank r takes every R-th example of the single-process order
        from torch.utils.data import SequentialSampler

        from .shard import ShardSampler

        sampler = ShardSampler(sampler or SequentialSampler(encoded), num_replicas, rank)
    collate = PackingCollator(pad_token_id, settings.pack_length) if settings.packing else Collator(pad_token_id)
    return ResumableDataLoader(
        encoded, batch_size=batch_size, sampler=sampler, shuffle=False, collate_fn=collate,
        num_workers=settings.num_workers, generator=torch.Generator().manual_seed(seed + 1))
