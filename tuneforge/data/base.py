"""The data-builder protocol and the loader settings every `data` config shares."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal, Protocol

from tuneforge.data.example import Example

Splits = dict[str, list[Example]]  # "train", "val" and optionally "test"


class DataBuilder(Protocol):
    def build(self) -> Splits:
        """Read / make the examples of each split."""
        ...


@dataclass
class LoaderSettings:
    """Keys of every `data` node that configure encoding and batching, not the builder. These defaults
    are the only ones: the train / preview / eval configs take them from here (`_loader_settings` in
    Hydra's ConfigStore, tuneforge/config/signature_defaults.py); a data option may set its own. The prompt
    template is not one of them: it is a component of its own (`template=alpaca`, conf/template/)."""

    batch_size: int = 64
    eval_batch_size: int = 64
    max_length: int = 512
    truncation: Literal["truncate", "drop"] = "truncate"
    num_workers: int = 0
    shuffle: bool = True
    # several examples per row, no attention across them (docs/performance.md); padding_free: the batch in
    # one row isolated by its position ids alone (flash_attention_2's varlen path)
    packing: bool | Literal["padding_free"] = False
    pack_length: int = 512  # tokens per packed row (a longer example gets a row of its own)
    group_by_length: bool = False  # batches of similar lengths (sorted within seeded mega-batches)
    # data preparation (tuneforge/render/parallel.py, cache.py): processes that encode; prepared data cached by
    # content hash (data files, tokenizer, template, mask, settings, code) in cache_dir (null: $TUNEFORGE_DATA_CACHE
    # or ~/.cache/tuneforge/data)
    num_proc: int = 1
    cache: bool = True
    cache_dir: str | None = None


LOADER_KEYS = frozenset(f.name for f in fields(LoaderSettings))
