"""`output_only`: the seed's sequence-to-sequence loss, an alias of `multi_turn`.

The seed trains "only the output part" of an instruction and, for dialogue, "only each turn's model
output": that is one rule, so `output_only` is `multi_turn` under the seed's name (the default in
conf/train.yaml). Use `last_turn` to train only the final reply of a dialogue.
"""
from __future__ import annotations

from tuneforge.registry import register
from tuneforge.loss_mask.multi_turn import MultiTurn


@register("loss_masker", "output_only")
class OutputOnly(MultiTurn):
    """Alias of multi_turn: every assistant reply with its EOS (for single-turn data: the output)."""
