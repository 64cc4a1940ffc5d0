"""A distributed rank's loader (ShardSampler over the shuffled order) resumes at the exact example, in this
epoch and the next, as the single-process loader does."""
from __future__ import annotations

import pytest

from tuneforge.data.base import LoaderSettings
from tuneforge.lightning.loaders import make_loader
from tuneforge.render.encode import Encoded

DATA = [Encoded(input_ids=[i + 3] * (1 + i % 7), labels=[i + 3] * (1 + i % 7)) for i in range(40)]


def ids(batch) -> list[int]:
    return batch["input_ids"][:, 0].tolist()


def epochs(loader, n: int = 2) -> list[list[int]]:
    return [ids(b) for _ in range(n) for b in loader]


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("rank", [0, 1])
def test_a_rank_resumes_at_the_exact_batch(grouped, rank):
    settings = LoaderSettings(batch_size=4, group_by_length=grouped)
    make = lambda: make_loader(DATA, settings, 0, train=True, seed=7, num_replicas=2, rank=rank)
    whole = epochs(make())
    first = make()
    it = iter(first)
    seen = [ids(next(it)) for _ in range(3)]
    resumed = make()
    resumed.load_state_dict(first.state_dict())
    rest = [ids(b) for b in resumed] + [ids(b) for b in resumed]  # the rest of this epoch, then the next
    assert seen + rest == whole
    assert whole[:5] != epochs(make_loader(DATA, settings, 0, train=True, seed=7, num_replicas=2,
                                           rank=1 - rank))[:5]  # the ranks' shards differ
