"""Reading records from local files, with the 1-based line of each, and logging rejected records.

Formats (by extension, or `format=`): `jsonl` (one object a line), `json` (an array of objects, or
an object holding one under `data` / `train` ...), `csv` / `tsv` (a header row), `parquet`, `txt`
(documents separated by blank lines, as {"text": ...}), and `hf`: anything `datasets.load_dataset`
reads (a hub dataset id, a local dataset repository: data files with a README.md `configs:` list, a
directory of data files) or a dataset saved with `save_to_disk`, with a subset (config name) and a split,
optionally streamed. For parquet and hf records, `line` is the 1-based row number.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tuneforge.errors import TuneforgeError
from tuneforge.hub import looks_like_hub_id, unreachable_reason

FORMATS = ("auto", "jsonl", "json", "csv", "tsv", "parquet", "txt", "hf")
_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
              ".parquet": "parquet", ".txt": "txt", ".text": "txt"}
#: Longest line (a JSONL record, a CSV row, a text line) and whole JSON file read, in characters: beyond them a
#: file is refused with its position instead of being read until memory runs out (a link to /dev/zero, say).
MAX_LINE_CHARS = 64 * 2**20
MAX_JSON_CHARS = 512 * 2**20
#: "utf-8-sig": UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8" writes one).
ENCODING = "utf-8-sig"
HF_SPLITS = {"train": "train", "validation": "val", "valid": "val", "val": "val", "dev": "val",
             "test": "test"}


class RecordError(Exception):
    """A malformed record: `kind` is a short category (metrics key), the message says what."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class RejectLog:
    """Every rejected record with its file, 1-based line and reason; `strict` stops at the first."""

    strict: bool = False
    read: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, file: str, line: int, error: RecordError) -> None:
        if self.strict:
            raise TuneforgeError(f"{file}:{line}: {error}")
        self.rejects.append({"file": file, "line": line, "reason": str(error), "kind": error.kind})


def detect_format(path: Path, fmt: str = "auto") -> str:
    if fmt != "auto":
        if fmt not in FORMATS:
            raise TuneforgeError(f"unknown data format {fmt!r}; known: {', '.join(FORMATS)}")
        return fmt
    if path.is_dir() or is_hub_id(path):
        return "hf"
    return _BY_SUFFIX.get(path.suffix.lower(), "hf")


def is_hub_id(path: Path | str) -> bool:
    """A hub dataset id (`namespace/name`) rather than a local path: nothing there and it reads as one."""
    return not Path(path).expanduser().exists() and looks_like_hub_id(str(path))


def check_readable(path: Path) -> None:
    if is_hub_id(path):
        return
    if not path.exists():
        raise TuneforgeError(f"data file {path} does not exist")
    if not (path.is_file() or path.is_dir()):  # a device, a FIFO, a socket: no end to read towards
        raise TuneforgeError(f"data file {path} is not a regular file or a directory "
                             f"({path.resolve()}); give the file itself")
    if path.is_file():
        try:
            with path.open("rb") as f:
                f.read(1)
        except OSError as err:
            raise TuneforgeError(f"data file {path} is unreadable: {err}") from None


def read_records(path: Path, fmt: str, log: RejectLog, *, streaming: bool = False,
                 subset: str | None = None) -> Iterator[tuple[int, Any]]:
    """Yield (line, record) for each record of `path` (which `check_readable` has accepted); unparseable
    records go to `log`. For a dataset (`hf`), the records of its train split or, for a dataset without
    splits, all of them."""
    fmt = detect_format(path, fmt)
    reader = {"jsonl": _jsonl, "json": _json, "csv": _csv, "tsv": _csv, "parquet": _parquet,
              "txt": _txt}.get(fmt)
    if reader is _csv:
        yield from _csv(path, log, "\t" if fmt == "tsv" else ",")
    elif reader is not None:
        yield from reader(path, log)
    else:
        splits = hf_source(path, subset, None, streaming)
        yield from hf_rows(splits.get("train", []), log)


def _jsonl(path: Path, log: RejectLog) -> Iterator[tuple[int, Any]]:
    with path.open("r", encoding=ENCODING, errors="strict") as f:
        for number, line in enumerate(_lines(f, path), start=1):
            if not line.strip():
                continue
            log.read += 1
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as err:
                log.reject(str(path), number, RecordError("invalid_json", f"invalid JSON: {err.msg} "
                                                                          f"(column {err.colno})"))


def _lines(f: Any, path: Path) -> Iterator[str]:
    """The lines of `f`, each at most MAX_LINE_CHARS long (a longer one is refused with its number)."""
    number = 0
    try:
        while line := f.readline(MAX_LINE_CHARS + 1):
            number += 1
            if len(line) > MAX_LINE_CHARS:
                raise TuneforgeError(f"{path}:{number}: a line longer than {MAX_LINE_CHARS:,} characters; "
                                     "is this a data file?")
            yield line
    except UnicodeDecodeError as err:
        raise TuneforgeError(f"data file {path} is not UTF-8 text: {err}") from None


def _json(path: Path, log: RejectLog) -> Iterator[tuple[int, Any]]:
    with path.open("r", encoding=ENCODING) as f:
        try:
            text = f.read(MAX_JSON_CHARS + 1)
        except UnicodeDecodeError as err:
            raise TuneforgeError(f"data file {path} is not UTF-8 text: {err}") from None
    if len(text) > MAX_JSON_CHARS:
        raise TuneforgeError(f"{path}: a JSON file is read whole and this one is over {MAX_JSON_CHARS:,} "
                             "characters; write it as JSONL (one record a line)")
    decoder = json.JSONDecoder()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as err:
        raise TuneforgeError(f"{path}:{err.lineno}: invalid JSON: {err.msg} (column {err.colno})") from None
    if isinstance(whole, dict):
        key = next((k for k in ("data", "train", "examples", "records") if isinstance(whole.get(k), list)), None)
        if key is None:
            raise TuneforgeError(f"{path}: expected a JSON array of records (or an object with a "
                                 f"'data' array), got an object with keys {sorted(whole)[:8]}")
        start = text.index("[", text.index(json.dumps(key)))
    elif isinstance(whole, list):
        start = text.index("[")
    else:
        raise TuneforgeError(f"{path}: expected a JSON array of records, got {type(whole).__name__}")
    pos = start + 1  # walk the array to know each element's line
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return
        obj, end = decoder.raw_decode(text, pos)
        log.read += 1
        yield text.count("\n", 0, pos) + 1, obj
        pos = end


def _csv(path: Path, log: RejectLog, delimiter: str) -> Iterator[tuple[int, Any]]:
    with path.open("r", encoding=ENCODING, newline="") as f:
        reader = csv.reader(_lines(f, path), delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                log.read += 1
                log.reject(str(path), line, RecordError("invalid_csv", f"invalid CSV: {err}"))
                continue
            if not row:
                continue
            log.read += 1
            if len(row) != len(header):
                log.reject(str(path), line, RecordError(
                    "invalid_csv", f"row has {len(row)} field(s), the header has {len(header)}"))
                continue
            yield line, dict(zip(header, row))


def _txt(path: Path, log: RejectLog) -> Iterator[tuple[int, Any]]:
    block, first = [], 0
    with path.open("r", encoding=ENCODING) as f:
        for number, line in enumerate(_lines(f, path), start=1):
            if line.strip():
                first = first or number
                block.append(line)
            elif block:
                log.read += 1
                yield first, {"text": "".join(block).rstrip("\n")}
                block, first = [], 0
    if block:
        log.read += 1
        yield first, {"text": "".join(block).rstrip("\n")}


def _parquet(path: Path, log: RejectLog) -> Iterator[tuple[int, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path)
    except Exception as err:
        raise TuneforgeError(f"data file {path} is not a readable Parquet file: {err}") from None
    row = 0
    for batch in table.iter_batches(batch_size=1024):
        for record in batch.to_pylist():
            row += 1
            log.read += 1
            yield row, record


def hf_source(path: Path, subset: str | None, split: str | None, streaming: bool) -> dict[str, Any]:
    """A dataset's splits by tuneforge's name (train / val / test; other split names are not read). With
    `split` (datasets' syntax: `train`, `train[:1000]`, `train+validation`), that split alone, as "train"."""
    dataset = _load_hf(path, subset, split, streaming)
    if split is not None or not hasattr(dataset, "keys"):  # one split asked for, or a Dataset without splits
        return {"train": dataset}
    return {HF_SPLITS[k]: dataset[k] for k in dataset.keys() if k in HF_SPLITS}


def hf_rows(dataset: Any, log: RejectLog) -> Iterator[tuple[int, Any]]:
    for row, record in enumerate(dataset, start=1):
        log.read += 1
        yield row, dict(record)


def _load_hf(path: Path, subset: str | None = None, split: str | None = None, streaming: bool = False) -> Any:
    import datasets

    where = f"data.path={path}"
    if is_hub_id(path):
        reason = unreachable_reason()
        if reason and not reason.startswith("HF_"):  # no network: the libraries would retry for long
            raise TuneforgeError(f"{where}: no such local path, and the hub cannot be reached for a dataset of "
                                 f"that id ({reason}): give a local copy (data.path=DIR), or set HF_HUB_OFFLINE=1 "
                                 "to use the cached copy")
    else:
        reason = None
    try:
        if path.is_dir() and ((path / "dataset_dict.json").exists() or (path / "state.json").exists()):
            if subset is not None:
                raise TuneforgeError(f"{where} is a dataset saved with save_to_disk: it has no subsets "
                                     f"(remove data.subset={subset})")
            loaded = datasets.load_from_disk(str(path))
            return loaded[split] if split is not None and hasattr(loaded, "keys") else loaded
        return datasets.load_dataset(str(path), name=subset, split=split, streaming=streaming)
    except TuneforgeError:
        raise
    except ConnectionError:  # offline (HF_HUB_OFFLINE=1) and not in the cache
        raise TuneforgeError(f"{where}: no such local path, and no hub dataset of that id in the local cache "
                             f"({reason or 'offline'}): download it where there is network (`hf download {path} "
                             "--repo-type dataset --local-dir DIR`) and give data.path=DIR") from None
    except Exception as err:
        raise TuneforgeError(_load_error(where, subset, split, err)) from None


def _load_error(where: str, subset: str | None, split: str | None, err: Exception) -> str:
    """datasets' error as one line naming the key to change."""
    text = " ".join(str(err).split())
    if "Config name is missing" in text or "BuilderConfig" in text and "not found" in text:
        choices = re.search(r"\[([^\]]*)\]", text)
        named = f" ({choices.group(1)})" if choices else ""
        given = f"data.subset={subset} is not one of its subsets" if subset else "it has several subsets"
        return f"{where}: {given}{named}; choose one with data.subset=NAME"
    if "Unknown split" in text or "Bad split" in text:
        return f"{where}: data.split={split}: {text}"
    if type(err).__name__ in ("DatasetNotFoundError", "FileNotFoundError", "EmptyDatasetError"):
        return f"{where}: no such dataset (a local path, or a hub id namespace/name): {text}"
    return f"datasets could not read {where.split('=', 1)[1]}: {text}"


def require_str(record: Any, key: str, *, allow_empty: bool = False, optional: bool = False) -> str:
    """`record[key]` as a string, or a RecordError saying what is wrong."""
    if not isinstance(record, dict):
        raise RecordError("not_an_object", f"expected a JSON object, got {type(record).__name__}")
    if key not in record or record[key] is None:
        if optional:
            return ""
        raise RecordError("missing_field", f"missing field {key!r}")
    value = record[key]
    if not isinstance(value, str):
        raise RecordError("wrong_type", f"field {key!r} must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise RecordError("empty_field", f"field {key!r} is empty")
    return value
