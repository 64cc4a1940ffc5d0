"""`tuneforge nf4-table`: the QLoRA paper's NF4 quantile formula next to bitsandbytes' NF4 code book.

The QLoRA paper (k = 4): q_i = 1/2 (Q_X(i / (2^k + 1)) + Q_X((i + 1) / (2^k + 1))), i = 0..2^k, then
q'_i = -1 + 2 (q_i - q_0) / (q_{2^k} - q_0). Read literally, q_0 and q_{2^k} are infinite
(Q_X(0) = -inf, Q_X(1) = +inf), so the normalisation is undefined; and it gives 2^k + 1 = 17
values for 16 codes. The QLoRA paper and bitsandbytes therefore (a) clip the probabilities to
[1 - offset, offset] with offset = 1 - (1/30 + 1/32) / 2 = 0.9677, and (b) build an asymmetric code
book with an exact zero: 2^(k-1) quantiles for the negative half and 2^(k-1) + 1 for the positive
half, zero counted once, normalised by the absolute maximum (7 negative, 0, 8 positive values).
"""
from __future__ import annotations

from statistics import NormalDist

OFFSET = 1 - (1 / 30 + 1 / 32) / 2  # 0.96770833...


def _ppf(p: float) -> float:
    if p <= 0:
        return float("-inf")
    if p >= 1:
        return float("inf")
    return NormalDist().inv_cdf(p)


def lecture_quantiles(k: int = 4, offset: float | None = None) -> list[float]:
    """q_i of the QLoRA paper's formula, i = 0..2^k; with `offset`, Q_X's argument is clipped to
    [1 - offset, offset] (finite end points), otherwise the end points are -inf and +inf."""
    n = 2 ** k + 1

    def q(p: float) -> float:
        return _ppf(min(max(p, 1 - offset), offset) if offset is not None else p)

    return [0.5 * (q(i / n) + q((i + 1) / n)) for i in range(2 ** k + 1)]


def lecture_normalised(k: int = 4, offset: float = OFFSET) -> list[float]:
    """q'_i = -1 + 2 (q_i - q_0) / (q_{2^k} - q_0) on the clipped quantiles."""
    q = lecture_quantiles(k, offset)
    return [-1 + 2 * (v - q[0]) / (q[-1] - q[0]) for v in q]


def nf4_code_book(offset: float = OFFSET) -> list[float]:
    """The asymmetric NF4 construction (QLoRA appendix / bitsandbytes' create_normal_map)."""
    def linspace(a: float, b: float, n: int) -> list[float]:
        return [a + (b - a) * i / (n - 1) for i in range(n)]

    positive = [_ppf(p) for p in linspace(offset, 0.5, 9)[:-1]]
    negative = [-_ppf(p) for p in linspace(offset, 0.5, 8)[:-1]]
    values = sorted(positive + [0.0] + negative)
    top = max(abs(v) for v in values)
    return [v / top for v in values]


def bitsandbytes_code_book() -> list[float]:
    import logging

    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    from bitsandbytes.functional import get_4bit_type

    return [float(v) for v in get_4bit_type("nf4", device="cpu")]


def table() -> str:
    bnb = bitsandbytes_code_book()
    ours = nf4_code_book()
    raw = lecture_quantiles()
    lect = lecture_normalised()
    lines = ["QLoRA paper formula, k = 4: q_i = (Q_X(i/17) + Q_X((i+1)/17)) / 2, i = 0..16 (17 values)",
             f"  literal q_0 = {raw[0]}, q_16 = {raw[-1]}: the normalisation is undefined; below, Q_X's",
             f"  argument is clipped to [1 - offset, offset], offset = {OFFSET:.7f} (bitsandbytes' value).",
             "{:>3} {:>12} {:>13} {:>12} {:>11}".format("i", "paper q_i", "paper q'_i", "nearest bnb",
                                                       "difference")]
    for i, (q, v) in enumerate(zip(lecture_quantiles(offset=OFFSET), lect)):
        near = min(bnb, key=lambda b: abs(b - v))
        lines.append(f"{i:>3} {q:>12.7f} {v:>13.7f} {near:>12.7f} {v - near:>+11.7f}")
    lines += ["",
              "NF4 code book (asymmetric: 7 negative, exact 0, 8 positive; normalised by max |q|)",
              f"{'code':>4} {'formula':>12} {'bitsandbytes':>13} {'difference':>11}"]
    for j, (a, b) in enumerate(zip(ours, bnb)):
        lines.append(f"{j:>4} {a:>12.7f} {b:>13.7f} {a - b:>+11.1e}")
    lines.append(f"max |formula - bitsandbytes| = {max(abs(a - b) for a, b in zip(ours, bnb)):.1e}")
    return "\n".join(lines)


def main() -> None:
    print(table())
