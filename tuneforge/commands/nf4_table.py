"""`tuneforge nf4-table`: the NF4 quantile formula (4-bit NormalFloat: quantiles of N(0, 1) normalised to
[-1, 1], with an exact zero) next to bitsandbytes' code book, value by value."""
from __future__ import annotations

from tuneforge.errors import TuneforgeError


def main(argv: list[str]) -> None:
    from tuneforge.analysis.nf4 import table

    if argv:
        raise TuneforgeError("usage: tuneforge nf4-table (no arguments)")
    print(table())
