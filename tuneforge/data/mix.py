"""Several data builders mixed into one training set by a mixer (balanced, ratio, temperature, concat).

Each source is any data builder config (`sources: {name: {name: alpaca, path: ...}, ...}`); the mixer
(`mixer@data.mixer=temperature`, or `data.mixer.cap=...`) decides how many training examples each
source gives. Validation and test splits are the sources' own, concatenated. The realised shares are
logged and written to metrics.json (`data/mix/<source>/...`).
"""
from __future__ import annotations

import random
from typing import Any

from tuneforge.errors import ConfigError, ConfigIssue, TuneforgeError
from tuneforge.binding import bind
from tuneforge.registry import register
from tuneforge.data.example import Example
from tuneforge.data._records import RejectLog
from tuneforge.data.base import Splits


@register("data_builder", "mix")
class Mix:
    """Training data from several sources, mixed by a `mixer`; val / test are concatenated."""

    def __init__(self, sources: dict[str, Any], mixer: dict[str, Any], strict: bool = False, seed: int = 0):
        if not sources:
            raise ConfigError(ConfigIssue("data.sources", "give at least one source: {name: {name: BUILDER, ...}}"))
        issues, self.sources, self.weights = [], {}, {}
        for name, node in sources.items():
            node = dict(node) if isinstance(node, dict) else node
            if isinstance(node, dict):
                weight = node.pop("weight", 1.0)
                if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
                    issues.append(ConfigIssue(f"data.sources.{name}.weight", f"expected a number >= 0, got {weight!r}"))
                self.weights[name] = float(weight) if isinstance(weight, (int, float)) else 0.0
                params = _params(node.get("name"))
                node |= {k: v for k, v in (("strict", strict), ("seed", seed)) if k not in node and k in params}
            try:
                self.sources[name] = bind("data_builder", node, f"data.sources.{name}").build()
            except ConfigError as err:
                issues += err.issues
        try:
            self.mixer = bind("mixer", mixer, "data.mixer").build()
        except ConfigError as err:
            issues += err.issues
        if issues:
            raise ConfigError(issues)
        self.seed = seed
        self.last_metrics: dict[str, float] = {}

    @property
    def report(self) -> RejectLog:
        merged = RejectLog()
        for source in self.sources.values():
            log = getattr(source, "report", None)
            if log is not None:
                merged.read += log.read
                merged.rejects += log.rejects
        return merged

    def build_sources(self) -> dict[str, Splits]:
        """Each source's splits; every example is tagged with its source name."""
        built = {}
        for name, source in self.sources.items():
            try:
                splits = source.build()
            except ConfigError:
                raise
            except TuneforgeError as err:
                raise TuneforgeError(f"data.sources.{name}: {err}") from None
            for examples in splits.values():
                for example in examples:
                    example.meta["source"] = name
            built[name] = splits
        return built

    def mix(self, train: dict[str, list[Any]]) -> tuple[list[Any], dict[str, float]]:
        """Mix per-source training lists (Examples or encoded examples); returns the mixed list and
        the metrics: available, target share, picked count and realised share per source."""
        sizes = {name: len(items) for name, items in train.items()}
        picks = self.mixer.select(sizes, self.weights, random.Random(self.seed))
        mixed = [train[name][i] for name, i in picks]
        target = self.mixer.target(sizes, self.weights)
        metrics: dict[str, float] = {"data/mix/total": len(mixed)}
        for name in train:
            count = sum(1 for n, _ in picks if n == name)
            metrics |= {f"data/mix/{name}/available": sizes[name], f"data/mix/{name}/count": count,
                        f"data/mix/{name}/target": round(target.get(name, 0.0), 6),
                        f"data/mix/{name}/share": round(count / len(mixed), 6) if mixed else 0.0}
        self.last_metrics = metrics
        return mixed, metrics

    def build(self) -> Splits:
        built = self.build_sources()
        train, _ = self.mix({name: splits.get("train", []) for name, splits in built.items()})
        splits: Splits = {"train": train}
        for split in ("val", "test"):
            joined: list[Example] = [ex for s in built.values() for ex in s.get(split, [])]
            if joined or split == "val":
                splits[split] = joined
        return splits


def _params(name: Any) -> set[str]:
    from tuneforge.registry import get

    try:
        return set(get("data_builder", name).signature.parameters)
    except Exception:
        return set()
