"""Teacher-forced log-likelihood of the trained tokens of encoded examples (labels != -100)."""
from __future__ import annotations

from typing import Any

from tuneforge.render.encode import IGNORE_INDEX, Encoded


def token_logprobs(model: Any, pad_token_id: int, encoded: list[Encoded], batch_size: int = 16
                   ) -> list[list[float]]:
    """For each example, log p(label_t | tokens < t) of every position whose label is kept."""
    import torch

    from tuneforge.render.collate import Collator

    collate, out = Collator(pad_token_id), []
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            for i in range(0, len(encoded), batch_size):
                batch = {k: v.to(device) for k, v in collate(encoded[i:i + batch_size]).items()}
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                               use_cache=False).logits.float()
                logp = torch.log_softmax(logits[:, :-1], dim=-1)
                labels = batch["labels"][:, 1:]
                keep = labels != IGNORE_INDEX
                picked = logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
                out += [picked[row][keep[row]].tolist() for row in range(labels.shape[0])]
    finally:
        model.train(was_training)
    return out
