"""Encoding a list of examples in batches of `BATCH` records, on `num_proc` processes, with a progress bar.

With `num_proc` > 1 the batches go to forked worker processes that inherit the examples, the tokenizer, the
template and the masker (nothing is pickled on the way in; encoded batches come back in order). Each worker
tokenises on one thread (`TOKENIZERS_PARALLELISM=false` while the pool runs), so processes, not the
tokenizer's threads, share the cores. Where `fork` is missing, or in a daemon process (which may not start
workers), it runs in this process.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tuneforge.data.example import Example
from tuneforge.render.batch import encode_batch
from tuneforge.render.encode import Encoded
from tuneforge.template.base import Template

if TYPE_CHECKING:
    from tuneforge.loss_mask.base import LossMasker

log = logging.getLogger("tuneforge.data")

BATCH = 1000  # records per tokenizer call (datasets.map's default batch size)
PROGRESS_FROM = 5000  # records: a progress bar for longer work

_JOB: tuple[Any, ...] | None = None  # (examples, tokenizer, template, masker, max_length) in forked workers


def _encode_range(bounds: tuple[int, int]) -> list[Encoded]:
    examples, tokenizer, template, masker, max_length = _JOB
    return encode_batch(examples[bounds[0]:bounds[1]], tokenizer, template, masker, max_length)


@contextmanager
def _single_threaded_tokenizers() -> Iterator[None]:
    before = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # no fork-after-threads warning; one thread per worker
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = before


def _batches(examples: list[Example], tokenizer: Any, template: Template, masker: LossMasker, max_length: int,
             num_proc: int) -> Iterator[list[Encoded]]:
    global _JOB
    ranges = [(lo, min(lo + BATCH, len(examples))) for lo in range(0, len(examples), BATCH)]
    procs = min(num_proc, len(ranges))
    if procs > 1 and "fork" not in multiprocessing.get_all_start_methods():
        log.warning("data.num_proc=%d: this platform cannot fork; encoding in one process", num_proc)
        procs = 1
    if procs > 1 and multiprocessing.current_process().daemon:  # e.g. a sweep launcher's worker
        log.warning("data.num_proc=%d: a daemon process cannot start workers; encoding in one process", num_proc)
        procs = 1
    if procs <= 1:
        for lo, hi in ranges:
            yield encode_batch(examples[lo:hi], tokenizer, template, masker, max_length)
        return
    _JOB = (examples, tokenizer, template, masker, max_length)
    try:
        with _single_threaded_tokenizers(), multiprocessing.get_context("fork").Pool(procs) as pool:
            yield from pool.imap(_encode_range, ranges)
    finally:
        _JOB = None


def encode_examples(examples: list[Example], tokenizer: Any, template: Template, masker: LossMasker,
                    max_length: int, num_proc: int = 1, description: str = "encoding") -> list[Encoded]:
    """`[encode(e, ...) for e in examples]`, batched, on `num_proc` processes, in order."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    out: list[Encoded] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True, disable=len(examples) < PROGRESS_FROM) as progress:
        task = progress.add_task(description, total=len(examples))
        for encoded in _batches(examples, tokenizer, template, masker, max_length, num_proc):
            out += encoded
            progress.advance(task, len(encoded))
    return out
