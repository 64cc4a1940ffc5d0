"""Encoded examples -> resumable data loaders (torchdata's StatefulDataLoader, which Lightning saves
and restores so a resume continues at the exact batch; a plain shuffled DataLoader restarts the epoch's
order and sees some batches twice and others never).

- batches are padded or packed by the collators of tuneforge/render/collate.py;
- `LengthGroupedSampler` (`data.group_by_length=true`): a seeded shuffle sorted by length within
  mega-batches, resumable like torchdata's RandomSampler.
The sampler decides which examples form a batch; packing only changes their layout, so a packed run
sees the same examples per optimizer step as an unpacked one (same loss, same resume position).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from tuneforge.data.base import LoaderSettings
from tuneforge.render.collate import make_collator
from tuneforge.render.encode import Encoded

if TYPE_CHECKING:
    import torch

MEGA_BATCH = 50  # batches per length-sorted group (as transformers' LengthGroupedSampler)


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
        from tuneforge.lightning.shard import ReplayIterator

        return ReplayIterator(self, self.generator)

    def __len__(self) -> int:
        return len(self.lengths)


def make_loader(encoded: list[Encoded], settings: LoaderSettings, pad_token_id: int, *,
                train: bool, seed: int, num_replicas: int = 1, rank: int = 0) -> Any:
    """A resumable loader; the training sampler and the loader each own a generator (exact resume).
    `settings.packing` packs each batch; `settings.group_by_length` groups training batches by length.
    With `num_replicas` > 1 (distributed training) each rank gets its shard of the training order."""
    import torch
    from torchdata.stateful_dataloader.sampler import RandomSampler

    from tuneforge.lightning.resume import ResumableDataLoader

    if settings.packing and settings.pack_length < 1:
        from tuneforge.errors import ConfigError, ConfigIssue

        raise ConfigError(ConfigIssue("data.pack_length", f"must be >= 1, got {settings.pack_length}"))
    batch_size = settings.batch_size if train else settings.eval_batch_size
    sampler: Any = None
    if train and settings.shuffle:
        generator = torch.Generator().manual_seed(seed)
        sampler = (LengthGroupedSampler([len(e.input_ids) for e in encoded], batch_size, generator)
                   if settings.group_by_length else RandomSampler(encoded, generator=generator))
    if train and num_replicas > 1:  # rank r takes every R-th example of the single-process order
        from torch.utils.data import SequentialSampler

        from tuneforge.lightning.shard import ShardSampler

        sampler = ShardSampler(sampler or SequentialSampler(encoded), num_replicas, rank)
    collate = make_collator(settings.packing, pad_token_id, settings.pack_length)
    return ResumableDataLoader(
        encoded, batch_size=batch_size, sampler=sampler, shuffle=False, collate_fn=collate,
        num_workers=settings.num_workers, generator=torch.Generator().manual_seed(seed + 1))
