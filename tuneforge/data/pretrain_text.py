"""Raw text (pretraining data) as examples whose every token is trained, to mix into instruction
tuning as a regulariser (instruction data combined with pretraining data)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tuneforge.registry import register
from tuneforge.data.example import Example
from tuneforge.data._file_source import FileSource
from tuneforge.data._records import RecordError, require_str


@register("data_builder", "pretrain_text")
@dataclass
class PretrainText(FileSource):
    """Documents from `.txt` (separated by blank lines) or records with a `text_field`; each becomes
    `text + EOS`, all tokens trained whatever `loss_mask` says."""

    val_fraction: float = 0.0  # pretraining text usually serves training only
    text_field: str = "text"
    min_chars: int = 1

    def parse(self, record: Any) -> Example:
        text = require_str(record, self.text_field, allow_empty=True)
        if len(text.strip()) < self.min_chars:
            raise RecordError("too_short", f"text shorter than min_chars={self.min_chars}")
        return Example.raw(text)
