"""Filters over instruction records (group `filters`): every drop comes with the filter and a reason."""
from __future__ import annotations

from tuneforge.filters.base import Filter, Record, Reject, apply_filters

__all__ = ["Filter", "Record", "Reject", "apply_filters"]
