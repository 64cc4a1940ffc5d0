"""The NF4 table: our quantile construction reproduces bitsandbytes' code book."""
from __future__ import annotations

import math

from tuneforge.analysis import nf4


def test_code_book_matches_bitsandbytes():
    ours, bnb = nf4.nf4_code_book(), nf4.bitsandbytes_code_book()
    assert len(ours) == len(bnb) == 16
    assert max(abs(a - b) for a, b in zip(ours, bnb)) < 1e-6
    assert sum(v < 0 for v in ours) == 7 and ours.count(0.0) == 1 and sum(v > 0 for v in ours) == 8


def test_lecture_formula_literal_and_clipped():
    raw = nf4.lecture_quantiles()
    assert len(raw) == 17 and math.isinf(raw[0]) and math.isinf(raw[-1])
    normalised = nf4.lecture_normalised()
    assert normalised[0] == -1 and normalised[-1] == 1 and abs(normalised[8]) < 1e-12
    assert all(a < b for a, b in zip(normalised, normalised[1:]))


def test_cli_prints_table(capsys):
    from tuneforge.cli import main

    main(["nf4-table"])
    out = capsys.readouterr().out
    assert "bitsandbytes" in out and "-0.6961928" in out and "max |formula - bitsandbytes|" in out
