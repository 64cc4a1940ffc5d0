"""`tuneforge generate`: synthetic instruction data into <run_dir>/generated.jsonl (resumable).

Assembles the `llm`, `pipeline`, `filters` and `evolution` components, runs the pipeline (which resumes
from the run directory's generated.jsonl), writes generate_stats.json (cumulative over resumes) and
prints a table of requests, retries, failures, kept and dropped per filter.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tuneforge.artifacts import write_json, write_resolved_config
from tuneforge.config.assemble import assemble
from tuneforge.errors import TuneforgeError

STATS_FILE = "generate_stats.json"


def generate(cfg: Any) -> dict[str, Any]:
    from tuneforge.pipeline.base import RunContext

    started = time.perf_counter()
    parts = assemble("generate", cfg)
    run_dir = parts.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    write_resolved_config(cfg, run_dir / "config.yaml")
    ctx = RunContext(run_dir, parts.llm, parts.filters, parts.evolution, seed=parts.seed)
    ctx.pipeline_name = parts.pipeline.name
    resumed = len(ctx.generated.records)
    earlier = json.loads((run_dir / STATS_FILE).read_text()) if (run_dir / STATS_FILE).exists() else {}

    def flush(error: Exception | None = None) -> dict:  # after every batch: a killed run's counts survive
        stats = _merge_stats(earlier, ctx, resumed, time.perf_counter() - started, error)
        write_json(run_dir / STATS_FILE, stats)
        return stats

    ctx.after_batch = flush
    error: TuneforgeError | None = None
    try:
        parts.pipeline.run(ctx)
    except TuneforgeError as err:
        error = err
    finally:
        parts.llm.close()
    stats = flush(error)
    print_table(stats, run_dir)
    if error is not None:
        raise error
    return stats


def _merge_stats(old: dict, ctx: Any, resumed: int, seconds: float, error: Exception | None) -> dict:
    """The earlier runs' stats (`old`, read once at the start) plus this run's so far."""
    llm = ctx.llm.stats.as_dict()
    errors = Counter(old.get("llm", {}).get("errors", {})) + Counter(llm["errors"])
    stats = {
        "pipeline": getattr(ctx, "pipeline_name", None) or old.get("pipeline"),
        "model": ctx.llm.model_name,
        "runs": old.get("runs", 0) + 1,
        "records": len(ctx.generated.records),
        "resumed_from": resumed,
        "repaired_bytes": old.get("repaired_bytes", 0) + ctx.generated.repaired_bytes + ctx.rejects.repaired_bytes,
        "llm": {k: old.get("llm", {}).get(k, 0) + llm[k] for k in ("requests", "retries", "failures")}
        | {"errors": dict(errors)},
        "prompts": dict(Counter(old.get("prompts", {})) + ctx.stages),
        "kept": old.get("kept", 0) + ctx.kept,
        "dropped": dict(Counter(old.get("dropped", {})) + ctx.dropped),
        "unparseable": dict(Counter(old.get("unparseable", {})) + ctx.unparseable),
        "cut": dict(Counter(old.get("cut", {})) + ctx.cut),
        "seconds": round(old.get("seconds", 0.0) + seconds, 2),
        "stopped": str(error) if error else None,
    }
    return stats


_DROP_NOTES = {"parse": " (unparseable, or copies the prompt)", "chat_wrapping": " (chat wrapping left)"}


def print_table(stats: dict, run_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"tuneforge generate: {stats['records']} records in {run_dir / 'generated.jsonl'}")
    table.add_column("what")
    table.add_column("count", justify="right")
    llm = stats["llm"]
    rows = [("LLM requests", llm["requests"]), ("LLM retries", llm["retries"]), ("LLM failures", llm["failures"])]
    rows += [(f"  errors: {k}", v) for k, v in sorted(llm["errors"].items())]
    rows += [(f"prompts: {k}", v) for k, v in stats["prompts"].items()]
    rows += [("kept", stats["kept"])]
    rows += [(f"dropped: {k}" + _DROP_NOTES.get(k, ""), v)
             for k, v in sorted(stats["dropped"].items(), key=lambda kv: -kv[1])]
    # replies the parsers could not read, per stage (instruction and instance replies are the `parse`
    # drops; an unreadable classification or equality verdict falls back and is only counted)
    rows += [(f"unparseable replies: {k}", v) for k, v in sorted(stats.get("unparseable", {}).items())]
    if stats["resumed_from"]:
        rows.append(("resumed from", stats["resumed_from"]))
    if stats["repaired_bytes"]:
        rows.append(("torn bytes repaired", stats["repaired_bytes"]))
    rows += [(f"cut to 64 KiB: {k}", v) for k, v in sorted(stats.get("cut", {}).items())]
    for what, count in rows:
        table.add_row(what, str(count))
    console = Console()
    console.print(table)
    if stats["stopped"]:
        console.print(f"[red]{stats['stopped']}[/red]")
