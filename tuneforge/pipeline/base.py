"""The pipeline protocol and the run context every pipeline receives (backend, filters, outputs)."""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from tuneforge.errors import TuneforgeError
from tuneforge.filters.base import Filter, Record, Reject, apply_filters
from tuneforge.pipeline._store import JsonlLog

if TYPE_CHECKING:
    from tuneforge.evolution.base import EvolutionOp
    from tuneforge.llm.base import LLM


#: The longest reply kept and the longest string a reject row stores, in characters.
MAX_FIELD_CHARS = 64 * 1024


@dataclass
class RunContext:
    """What a pipeline works with. `generated` and `rejects` are the run's JSONL files (resumed)."""

    run_dir: Path
    llm: LLM
    filters: list[Filter]
    evolution: list[EvolutionOp]
    seed: int = 42
    generated: JsonlLog = field(init=False)
    rejects: JsonlLog = field(init=False)
    stages: Counter = field(default_factory=Counter)  # stage -> prompts sent
    dropped: Counter = field(default_factory=Counter)  # filter -> candidates dropped (this run)
    unparseable: Counter = field(default_factory=Counter)  # stage -> replies the parser could not read
    kept: int = 0  # records accepted in this run
    cut: Counter = field(default_factory=Counter)  # what was cut to MAX_FIELD_CHARS: "reply" / "reject"
    after_batch: Any = None  # called after each committed batch (the command flushes its stats there)

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir)
        self.generated = JsonlLog(self.run_dir / "generated.jsonl")
        self.rejects = JsonlLog(self.run_dir / "rejects.jsonl")

    def ask(self, stage: str, prompts: Sequence[str], **params: Any):  # noqa: ANN201
        """Send `prompts` to the backend, counting them under `stage`; a reply longer than MAX_FIELD_CHARS
        (a teacher that ignores max_tokens) is cut there and counted."""
        self.stages[stage] += len(prompts)
        completions = self.llm.generate(prompts, **params)
        for completion in completions:
            text = getattr(completion, "text", None)
            if isinstance(text, str) and len(text) > MAX_FIELD_CHARS:
                completion.text = text[:MAX_FIELD_CHARS]
                self.cut["reply"] += 1
        return completions

    def unparsed(self, stage: str, reply: str, lineage: dict, **extra: Any) -> dict:
        """Count an unparseable reply of `stage`; the reject row that records it with the raw reply."""
        self.unparseable[stage] += 1
        return {"filter": "parse", "reason": "unparseable", "stage": stage, "reply": reply, **extra,
                "lineage": lineage}

    def filter(self, records: Sequence[Record], pool: Sequence[Record],
               stage: str) -> tuple[list[Record], list[Reject]]:
        return apply_filters(records, self.filters, pool, stage=stage)  # type: ignore[arg-type]

    def commit(self, accepted: Sequence[Record], rejects: Sequence[Reject | dict]) -> None:
        """Persist one batch: rejects first, then the accepted records (each file fsynced)."""
        rows = []
        for rej in rejects:
            row = rej if isinstance(rej, dict) else {"filter": rej.filter, "reason": rej.reason, **_strip(rej.record)}
            rows.append(self._capped(row))
            self.dropped[row["filter"]] += 1
        self.rejects.append(rows)
        self.generated.append(accepted)
        self.kept += len(accepted)
        if self.after_batch is not None:
            self.after_batch()

    def _capped(self, row: dict) -> dict:
        """A reject row whose strings each hold at most MAX_FIELD_CHARS (a raw reply can be megabytes)."""
        capped = {k: (v[:MAX_FIELD_CHARS] + "...[cut]" if isinstance(v, str) and len(v) > MAX_FIELD_CHARS else v)
                  for k, v in row.items()}
        if capped != row:
            self.cut["reject"] += 1
        return capped


def _strip(record: Record) -> Record:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def prompt_hash(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:16]


class Stalled(TuneforgeError):
    """The pipeline stopped before its target, with the reason."""


class Pipeline(Protocol):
    name: str

    def run(self, ctx: RunContext) -> None:
        """Generate until the target is reached (resuming from ctx.generated) or raise Stalled."""
        ...


@dataclass
class Progress:
    """Bounds a pipeline: stops after `max_stall` batches in a row that keep nothing, or
    `max_failed` batches in a row where every LLM request failed."""

    max_stall: int | None
    max_failed: int
    stall: int = 0
    failed: int = 0
    last_error: str = ""

    def update(self, kept: int, completions: Sequence[Any], dropped: Counter) -> None:
        errors = [c.error for c in completions if not c.ok]
        if completions and len(errors) == len(completions):
            self.failed += 1
            self.last_error = errors[-1] or "unknown error"
        else:
            self.failed = 0
        self.stall = 0 if kept else self.stall + 1
        if self.failed >= self.max_failed:
            raise Stalled(f"stopped: every LLM request failed in {self.failed} batches in a row "
                          f"(last error: {self.last_error})")
        if self.max_stall is not None and self.stall >= self.max_stall:
            top = ", ".join(f"{k}: {v}" for k, v in dropped.most_common(4)) or "none"
            raise Stalled(f"stopped: {self.stall} batches in a row kept nothing (drops so far: {top}); "
                          "loosen the filters or check the LLM's replies in rejects.jsonl")
