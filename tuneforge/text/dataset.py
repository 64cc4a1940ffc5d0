"""Encoding whole splits, counting every example that is not kept with its reason."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.progress import track

from ..data.base import LoaderSettings
from ..loss_mask.base import LossMasker
from .encode import Encoded, encode
from .example import Example
from .templates import Template


@dataclass
class EncodeStats:
    read: int = 0
    kept: int = 0
    truncated: int = 0
    tokens: int = 0
    trained_tokens: int = 0
    dropped: Counter = field(default_factory=Counter)  # reason -> count

    def as_metrics(self, split: str) -> dict[str, int]:
        out = {f"data/{split}/{k}": getattr(self, k) for k in ("read", "kept", "truncated", "tokens",
                                                                "trained_tokens")}
        out |= {f"data/{split}/dropped/{reason}": n for reason, n in self.dropped.items()}
        return out


def encode_split(examples: list[Example], tokenizer: Any, template: Template, masker: LossMasker,
                 settings: LoaderSettings, split: str = "train") -> tuple[list[Encoded], EncodeStats]:
    """Encode every example; each one not kept is counted under its reason."""
    stats, kept = EncodeStats(read=len(examples)), []
    for example in track(examples, description=f"encoding {split}", transient=True,
                         disable=len(examples) < 5000):
        enc = encode(example, tokenizer, template, masker, settings.max_length)
        if enc.truncated and settings.truncation == "drop":
            stats.dropped["too_long"] += 1
            continue
        if enc.num_trained == 0:
            stats.dropped["no_trained_tokens"] += 1
            continue
        stats.truncated += enc.truncated
        stats.tokens += len(enc.input_ids)
        stats.trained_tokens += enc.num_trained
        kept.append(enc)
    stats.kept = len(kept)
    return kept, stats
