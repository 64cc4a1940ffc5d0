"""Free-form P-tuning internals: an input-embedding layer that replaces every placeholder token by
the next virtual token h_k = f_theta(P_k) (MLP or LSTM prompt encoder), in order of appearance."""
from __future__ import annotations

import torch
from torch import nn


class PromptEncoder(nn.Module):
    """P (num_virtual_tokens x hidden) -> h through an MLP or a bidirectional LSTM + MLP head."""

    def __init__(self, num_virtual_tokens: int, hidden: int, encoder: str, encoder_hidden: int):
        super().__init__()
        self.prompt = nn.Embedding(num_virtual_tokens, hidden)
        nn.init.normal_(self.prompt.weight, std=0.02)
        self.kind = encoder
        if encoder == "LSTM":
            self.lstm = nn.LSTM(hidden, encoder_hidden, num_layers=2, bidirectional=True, batch_first=True)
            self.head = nn.Sequential(nn.Linear(2 * encoder_hidden, encoder_hidden), nn.ReLU(),
                                      nn.Linear(encoder_hidden, hidden))
        else:
            self.head = nn.Sequential(nn.Linear(hidden, encoder_hidden), nn.ReLU(),
                                      nn.Linear(encoder_hidden, hidden))

    def forward(self) -> torch.Tensor:
        p = self.prompt.weight
        if self.kind == "LSTM":
            p = self.lstm(p.unsqueeze(0))[0].squeeze(0)
        return self.head(p)


class VirtualTokenEmbedding(nn.Module):
    """Wraps the model's token embedding; positions holding `placeholder_id` get h_0, h_1, ... in order
    (per row), every other position the ordinary embedding."""

    def __init__(self, base: nn.Embedding, placeholder_id: int, encoder: PromptEncoder):
        super().__init__()
        self.base, self.placeholder_id, self.encoder = base, placeholder_id, encoder

    @property
    def weight(self) -> torch.Tensor:  # tied LM heads and resize_token_embeddings look here
        return self.base.weight

    @property
    def num_embeddings(self) -> int:
        return self.base.num_embeddings

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        embeds = self.base(input_ids)
        mask = input_ids == self.placeholder_id
        if not bool(mask.any()):
            return embeds
        virtual = self.encoder().to(embeds.dtype)
        order = mask.long().cumsum(-1) - 1
        if int(order.max()) >= virtual.shape[0]:
            raise ValueError(f"a sequence holds {int(order.max()) + 1} virtual-token placeholders; "
                             f"the method has num_virtual_tokens={virtual.shape[0]}")
        return torch.where(mask.unsqueeze(-1), virtual[order.clamp(min=0)], embeds)
