"""Errors that the CLI prints as one clear message instead of a traceback."""
from __future__ import annotations

from dataclasses import dataclass


class TuneforgeError(Exception):
    """Base class: the message says what was wrong and where."""


@dataclass(frozen=True)
class ConfigIssue:
    path: str  # dotted config path, e.g. "peft.r"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigError(TuneforgeError):
    """One or more bad keys or values in the composed config."""

    def __init__(self, issues: list[ConfigIssue] | ConfigIssue):
        self.issues = [issues] if isinstance(issues, ConfigIssue) else list(issues)
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        super().__init__(f"invalid config ({len(self.issues)} problem(s)):\n{lines}")


class UnknownComponentError(TuneforgeError):
    """A registry name that no built-in component or plugin provides."""


class DuplicateComponentError(TuneforgeError):
    """Two providers registered the same kind and name."""
