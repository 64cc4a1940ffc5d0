"""Encoding splits, counting every example not kept with its reason, and the whole data preparation
of a run (`prepare_data`): build, encode, mix, write `rejects.jsonl`, account for every record."""
from __future__ import annotations

import gc
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneforge.data.base import LoaderSettings
from tuneforge.errors import TuneforgeError
from tuneforge.loss_mask.base import LossMasker
from tuneforge.render.encode import Encoded
from tuneforge.render.parallel import encode_examples
from tuneforge.data.example import Example
from tuneforge.template.base import Template, UnrenderableMessage

log = logging.getLogger("tuneforge.data")


@dataclass
class EncodeStats:
    read: int = 0
    kept: int = 0
    truncated: int = 0
    tokens: int = 0
    trained_tokens: int = 0
    dropped: Counter = field(default_factory=Counter)  # reason -> count
    rejects: list[dict[str, Any]] = field(default_factory=list)  # dropped examples with file / line
    kept_index: list[int] = field(default_factory=list)  # index in the input of each kept example

    def as_metrics(self, split: str) -> dict[str, int]:
        out = {f"data/{split}/{k}": getattr(self, k) for k in ("read", "kept", "truncated", "tokens",
                                                                "trained_tokens")}
        out |= {f"data/{split}/dropped/{reason}": n for reason, n in self.dropped.items()}
        return out


def encode_split(examples: list[Example], tokenizer: Any, template: Template, masker: LossMasker,
                 settings: LoaderSettings, split: str = "train", strict: bool = False
                 ) -> tuple[list[Encoded], EncodeStats]:
    """Encode every example (batched, on `settings.num_proc` processes: render/parallel.py); each one not
    kept is counted under its reason (and, with `strict`, stops the run with `file:line: reason`)."""
    stats, kept = EncodeStats(read=len(examples)), []
    encoded = encode_examples(examples, tokenizer, template, masker, settings.max_length, settings.num_proc,
                              f"encoding {split}")
    for index, (example, enc) in enumerate(zip(examples, encoded)):
        unrenderable = None
        if isinstance(enc, UnrenderableMessage):  # e.g. tool messages under template=alpaca: the record's fault
            enc, unrenderable = None, enc
        elif isinstance(enc, TuneforgeError):
            raise enc
        reason, trained = None, enc.num_trained if enc is not None else 0
        if unrenderable is not None:
            reason = (unrenderable.kind, str(unrenderable))
        elif enc.truncated and settings.truncation == "drop":
            count = f"more than {enc.length}" if enc.cut else str(enc.length)
            reason = ("too_long", f"too long: {count} tokens > data.max_length={settings.max_length}")
        elif trained == 0:
            reason = ("no_trained_tokens", "no trained tokens (nothing for the loss mask to train"
                                           + (" after truncation)" if enc.truncated else ")"))
        if reason is not None:
            where = (f"{example.meta['file']}:{example.meta['line']}" if "file" in example.meta
                     else f"{split} example {index}")
            if strict:
                raise TuneforgeError(f"{where}: {reason[1]}")
            stats.dropped[reason[0]] += 1
            stats.rejects.append({"file": example.meta.get("file", f"<{split}>"),
                                  "line": example.meta.get("line", index + 1),
                                  "reason": reason[1], "kind": reason[0]})
            continue
        stats.truncated += enc.truncated
        stats.tokens += len(enc.input_ids)
        stats.trained_tokens += trained
        stats.kept_index.append(index)
        kept.append(enc)
    stats.kept = len(kept)
    return kept, stats


def summarize(encoded: list[Encoded]) -> EncodeStats:
    """Counts of an already encoded list (e.g. the mixed training set)."""
    return EncodeStats(read=len(encoded), kept=len(encoded), truncated=sum(e.truncated for e in encoded),
                       tokens=sum(len(e.input_ids) for e in encoded),
                       trained_tokens=sum(e.num_trained for e in encoded))


@dataclass
class PreparedData:
    encoded: dict[str, list[Encoded]]  # "train", "val"
    eval_examples: list[Example]  # test split (else val), kept and evaluable: for exact match
    metrics: dict[str, Any]
    rejects: list[dict[str, Any]]
    val_examples: list[Example] = field(default_factory=list)  # val split, kept and evaluable


SPLITS = ("train", "val", "test")


def write_rejects(run_dir: Path, rejects: list[dict[str, Any]]) -> None:
    from tuneforge.artifacts import write_text

    write_text(Path(run_dir) / "rejects.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects))


def _built(builder: Any, run_dir: Path | None) -> Any:
    """The builder's splits (a mix: its sources'); when building fails after records were rejected (e.g.
    every record was bad), rejects.jsonl is still written, so that no reason is lost."""
    try:
        return builder.build_sources() if hasattr(builder, "build_sources") else builder.build()
    except TuneforgeError as err:
        report = getattr(builder, "report", None)  # a mix merges its sources' reports
        rejects = list(report.rejects) if report is not None else []
        if not rejects or run_dir is None:
            raise
        write_rejects(run_dir, rejects)
        raise TuneforgeError(f"{err} (every rejected record, with its reason: {Path(run_dir) / 'rejects.jsonl'})") \
            from None


def prepare_data(builder: Any, tokenizer: Any, template: Template, masker: LossMasker,
                 settings: LoaderSettings, run_dir: Path | None = None) -> PreparedData:
    """Build the splits, encode them (per source, then mix, for `data=mix`), write `rejects.jsonl`
    under `run_dir` and count every record: data/read = data/kept + data/rejected.

    With `settings.cache` (the default), the result is looked up by content hash in the cache directory
    first, and stored there after preparing (render/cache.py)."""
    from tuneforge.render import cache

    key = directory = None
    if settings.cache:
        directory = cache.cache_dir(settings.cache_dir)
        key = cache.cache_key(builder, tokenizer, template, masker, settings)
    if key is not None:
        start = time.perf_counter()
        entry = cache.load(directory, key)
        if entry is not None:
            with _no_gc():
                data = _unpack(entry)
            m = data.metrics
            log.info("data: read %d, kept %d, rejected %d: prepared data loaded from the cache in %.1f s (%s)",
                     m["data/read"], m["data/kept"], m["data/rejected"], time.perf_counter() - start,
                     directory / f"{key}.pkl")
            if run_dir is not None:
                write_rejects(run_dir, data.rejects)
            return data
    data = _prepare(builder, tokenizer, template, masker, settings, run_dir)
    if key is not None and data.metrics["data/read"] >= cache.MIN_RECORDS:
        try:
            path = cache.store(directory, key, _pack(data))
        except cache.Undescribable as why:
            log.info("data cache: not stored (%s)", why)
        else:
            if path is not None:
                log.info("data cache: stored %s", path)
    return data


@contextmanager
def _no_gc() -> Iterator[None]:
    """Python's cyclic collector off while millions of lists are made (no cycles among them): its full
    passes over the growing heap cost a quarter of the CPU time of preparing 50k records."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _pack(data: PreparedData) -> dict[str, Any]:
    from tuneforge.render.cache import pack_encoded

    return {"encoded": {split: pack_encoded(items) for split, items in data.encoded.items()},
            "eval_examples": data.eval_examples, "metrics": data.metrics, "rejects": data.rejects,
            "val_examples": data.val_examples}


def _unpack(entry: dict[str, Any]) -> PreparedData:
    from tuneforge.render.cache import unpack_encoded

    return PreparedData({split: unpack_encoded(packed) for split, packed in entry["encoded"].items()},
                        entry["eval_examples"], entry["metrics"], entry["rejects"], entry["val_examples"])


def _prepare(builder: Any, tokenizer: Any, template: Template, masker: LossMasker,
             settings: LoaderSettings, run_dir: Path | None) -> PreparedData:
    strict = bool(getattr(builder, "strict", False))

    def encode_all(splits: dict[str, list[Example]]) -> tuple[dict, dict, dict]:
        encoded, stats, kept_examples = {}, {}, {}
        with _no_gc():  # encoding only: building (datasets, pyarrow) runs with the collector as usual
            for split in SPLITS:
                examples = splits.get(split, [])
                encoded[split], stats[split] = encode_split(examples, tokenizer, template, masker, settings,
                                                            split, strict)
                kept_examples[split] = [examples[i] for i in stats[split].kept_index]
        return encoded, stats, kept_examples

    metrics: dict[str, Any] = {}
    if hasattr(builder, "build_sources"):  # a mix: encode each source, then mix encoded examples
        per_source = {name: encode_all(splits) for name, splits in _built(builder, run_dir).items()}
        train, mix_metrics = builder.mix({name: enc["train"] for name, (enc, _, _) in per_source.items()})
        metrics |= mix_metrics
        encoded = {"train": train, "val": [e for enc, _, _ in per_source.values() for e in enc["val"]]}
        stats_list = [stats for _, stats, _ in per_source.values()]
        kept = {s: [ex for _, _, k in per_source.values() for ex in k[s]] for s in SPLITS}
        split_stats = {"train": summarize(train), "val": summarize(encoded["val"])}
        for split in ("train", "val"):
            for stats in stats_list:
                split_stats[split].dropped += stats[split].dropped
        for name, (enc, _, _) in per_source.items():
            log.info("mix: %-14s %6d available  target %.3f  picked %6d  share %.3f", name,
                     len(enc["train"]), mix_metrics[f"data/mix/{name}/target"],
                     mix_metrics[f"data/mix/{name}/count"], mix_metrics[f"data/mix/{name}/share"])
    else:
        encoded_all, stats, kept = encode_all(_built(builder, run_dir))
        encoded = {"train": encoded_all["train"], "val": encoded_all["val"]}
        stats_list, split_stats = [stats], {"train": stats["train"], "val": stats["val"]}
    for split in ("train", "val"):
        metrics |= split_stats[split].as_metrics(split)

    report = getattr(builder, "report", None)
    rejects = list(report.rejects) if report is not None else []
    rejects += [r for stats in stats_list for s in SPLITS for r in stats[s].rejects]
    kept_count = sum(len(stats[s].kept_index) for stats in stats_list for s in SPLITS)
    read = report.read if report is not None else kept_count + len(rejects)
    metrics |= {"data/read": read, "data/kept": kept_count, "data/rejected": len(rejects)}
    metrics |= {f"data/rejected/{k}": n for k, n in sorted(Counter(r["kind"] for r in rejects).items())}
    if read != kept_count + len(rejects):
        log.warning("data accounting: read %d != kept %d + rejected %d", read, kept_count, len(rejects))
    log.info("data: read %d, kept %d, rejected %d%s", read, kept_count, len(rejects),
             f" (see {Path(run_dir) / 'rejects.jsonl'})" if rejects and run_dir else "")
    if run_dir is not None:
        write_rejects(run_dir, rejects)
    if not encoded["train"]:
        first = f"; first: {rejects[0]['file']}:{rejects[0]['line']}: {rejects[0]['reason']}" if rejects else ""
        raise TuneforgeError(f"no training examples left (read {read}, rejected {len(rejects)}{first}); "
                             "see rejects.jsonl")
    evaluable = [ex for ex in (kept["test"] or kept["val"]) if ex.evaluable]
    return PreparedData(encoded, evaluable, metrics, rejects, [ex for ex in kept["val"] if ex.evaluable])
