"""The model-builder protocol."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


class ModelBuilder(Protocol):
    def build(self) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        """Build (or load) the model and its tokenizer; the tokenizer has pad and EOS tokens."""
        ...

    def build_tokenizer(self) -> PreTrainedTokenizerBase:
        """Only the tokenizer (for previews and data preparation)."""
        ...
