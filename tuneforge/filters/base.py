"""The filter protocol and `apply_filters`, which runs filters in order over a batch of records.

A record is an alpaca-style dict (`instruction`, `input`, `output`, plus anything else). A filter works
at one `stage`: "instruction" (only `instruction` is known yet, as right after Self-Instruct's
instruction generation) or "instance" (instruction, input and output); a filter whose `stage` is a
tuple of both runs at each (it checks the fields a record has).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, Sequence

Record = dict[str, Any]
Stage = Literal["instruction", "instance"]


class Filter(Protocol):
    name: str
    stage: Stage | tuple[Stage, ...]

    def check(self, records: Sequence[Record], pool: Sequence[Record]) -> list[str | None]:
        """Per record: None to keep it, or why it is dropped. `pool` holds the records accepted
        before this batch (seed tasks included); a record is also compared with the earlier records
        of the batch that were kept."""
        ...


@dataclass
class Reject:
    record: Record
    filter: str
    reason: str


def apply_filters(records: Sequence[Record], filters: Sequence[Filter], pool: Sequence[Record] = (),
                  stage: Stage | None = None) -> tuple[list[Record], list[Reject]]:
    """Run `filters` (those of `stage`, or all) in order; each sees the survivors of the previous."""
    kept, rejects = list(records), []
    for flt in filters:
        if stage is not None and stage not in ((flt.stage,) if isinstance(flt.stage, str) else flt.stage):
            continue
        if not kept:
            break
        reasons = flt.check(kept, pool)
        if len(reasons) != len(kept):
            raise RuntimeError(f"filter {flt.name} returned {len(reasons)} decisions for {len(kept)} records")
        rejects += [Reject(r, flt.name, why) for r, why in zip(kept, reasons) if why is not None]
        kept = [r for r, why in zip(kept, reasons) if why is None]
    return kept, rejects


def norm(text: Any) -> str:
    """Lower-case, whitespace-collapsed text (for exact-duplicate comparisons)."""
    return " ".join(str(text or "").lower().split())
