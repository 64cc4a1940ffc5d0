"""Encoded examples -> resumable data loaders (torchdata's StatefulDataLoader, STACK-NOTES 17)."""
from __future__ import annotations

from typing import Any

from ..data.base import LoaderSettings
from ..text.encode import IGNORE_INDEX, Encoded


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


def make_loader(encoded: list[Encoded], settings: LoaderSettings, pad_token_id: int, *,
                train: bool, seed: int) -> Any:
    """A resumable loader; the training sampler and the loader each own a generator (exact resume)."""
    import torch
    from torchdata.stateful_dataloader.sampler import RandomSampler

    from .resume import ResumableDataLoader

    shuffle = train and settings.shuffle
    sampler = RandomSampler(encoded, generator=torch.Generator().manual_seed(seed)) if shuffle else None
    return ResumableDataLoader(
        encoded, batch_size=settings.batch_size if train else settings.eval_batch_size,
        sampler=sampler, shuffle=False, collate_fn=Collator(pad_token_id),
        num_workers=settings.num_workers, generator=torch.Generator().manual_seed(seed + 1))
