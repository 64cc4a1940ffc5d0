"""ROUGE-L similarity filter: drop a text whose ROUGE-L F-measure with any pool text or any earlier
kept text is above the threshold (Self-Instruct: 0.7).

`dedup(texts, threshold=0.7, pool=())` gives exactly the decisions of rouge_score's
`RougeScorer(["rougeL"])` (default tokenizer, no stemmer): same tokens (rouge_score's own tokenizer),
LCS lengths from rapidfuzz's LCSseq over the whole matrix at once, and rouge_score's arithmetic
p = L/len(pred), r = L/len(target), f = 2pr/(p+r) (not 2L/(m+n), which differs in the last bit).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

import numpy as np

from tuneforge.registry import register
from tuneforge.filters.base import Record

Tokenizer = Literal["default", "unicode"]
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_UNICODE_RE = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
_BLOCK = 1024


def default_tokens(text: str) -> list[str]:
    """rouge_score's tokenizer: lower-case, [a-z0-9]+ runs (drops non-ASCII letters: 'Café' -> 'caf')."""
    from rouge_score.tokenize import tokenize

    return tokenize(text, None)


def unicode_tokens(text: str) -> list[str]:
    """Unicode-aware: letter/digit runs in any script, each CJK character a token of its own."""
    return _UNICODE_RE.findall(text.lower())


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"default": default_tokens, "unicode": unicode_tokens}


@dataclass
class Match:
    keep: bool
    score: float  # the highest F-measure found (0.0 with nothing to compare)
    closest: str | None  # the text that scored it


class RougeIndex:
    """Tokenizes texts once and encodes each token as one character, so rapidfuzz compares strings."""

    def __init__(self, tokenizer: Tokenizer = "default"):
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {sorted(TOKENIZERS)}, got {tokenizer!r}")
        self.tokenize = TOKENIZERS[tokenizer]
        self.vocab: dict[str, int] = {}
        self.cache: dict[str, str] = {}

    def _char(self, token: str) -> str:
        idx = self.vocab.setdefault(token, len(self.vocab))
        code = 0x100 + idx
        return chr(code + 0x800 if code >= 0xD800 else code)  # skip the surrogate range

    def encode(self, text: str) -> str:
        enc = self.cache.get(text)
        if enc is None:
            enc = self.cache[text] = "".join(self._char(t) for t in self.tokenize(text))
        return enc

    def fmeasure(self, rows: Sequence[str], cols: Sequence[str]) -> np.ndarray:
        """F-measure matrix between encoded texts, rouge_score's arithmetic."""
        if not rows or not cols:
            return np.zeros((len(rows), len(cols)))
        from rapidfuzz.distance import LCSseq
        from rapidfuzz.process import cdist

        lcs = cdist(rows, cols, scorer=LCSseq.similarity, dtype=np.int32, workers=-1).astype(np.float64)
        len_r = np.array([len(s) for s in rows], dtype=np.float64)[:, None]
        len_c = np.array([len(s) for s in cols], dtype=np.float64)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            p = lcs / len_r  # precision: the row text is the prediction
            r = lcs / len_c
            f = 2 * p * r / (p + r)
        return np.where(lcs > 0, f, 0.0)

    def matches(self, texts: Sequence[str], threshold: float, pool: Sequence[str] = ()) -> list[Match]:
        """Sequential decisions: text i is compared with the pool and with every earlier kept text."""
        pool_enc = [self.encode(t) for t in pool]
        kept_enc: list[str] = []
        kept_txt: list[str] = []
        out: list[Match] = []
        for start in range(0, len(texts), _BLOCK):
            block = list(texts[start:start + _BLOCK])
            enc = [self.encode(t) for t in block]
            best = np.zeros(len(block))
            who: list[str | None] = [None] * len(block)
            for cols, names in ((pool_enc, list(pool)), (kept_enc, kept_txt)):
                if cols:
                    f = self.fmeasure(enc, cols)
                    arg = f.argmax(axis=1)
                    top = f[np.arange(len(block)), arg]
                    for i in np.nonzero(top > best)[0]:
                        best[i], who[i] = top[i], names[arg[i]]
            # only texts that pass the pool and earlier blocks can be kept, or block later ones
            alive = [i for i in range(len(block)) if best[i] <= threshold]
            inner = self.fmeasure([enc[i] for i in alive], [enc[i] for i in alive])
            kept_here: list[int] = []  # positions in `alive`
            decided: dict[int, Match] = {}
            for a, i in enumerate(alive):
                score, closest = float(best[i]), who[i]
                if kept_here:
                    row = inner[a, kept_here]
                    j = int(row.argmax())
                    if row[j] > score:
                        score, closest = float(row[j]), block[alive[kept_here[j]]]
                decided[i] = Match(score <= threshold, score, closest)
                if score <= threshold:
                    kept_here.append(a)
            out += [decided.get(i) or Match(False, float(best[i]), who[i]) for i in range(len(block))]
            kept_here = [alive[a] for a in kept_here]
            kept_enc += [enc[i] for i in kept_here]
            kept_txt += [block[i] for i in kept_here]
        return out


def dedup(texts: Sequence[str], threshold: float = 0.7, pool: Sequence[str] = (),
          tokenizer: Tokenizer = "default") -> list[bool]:
    """Keep text i when its ROUGE-L F-measure with every pool text and every earlier kept text is
    <= `threshold`. Same decisions as rouge_score's RougeScorer(["rougeL"]) with the default tokenizer."""
    return [m.keep for m in RougeIndex(tokenizer).matches(texts, threshold, pool)]


@register("filter", "rouge_l")
class RougeL:
    """Drop records whose field is too similar (ROUGE-L F > threshold) to the pool or earlier kept."""

    stage = "instruction"

    def __init__(self, threshold: float = 0.7, field: str = "instruction", tokenizer: Tokenizer = "default"):
        self.name, self.threshold, self.field = "rouge_l", threshold, field
        self.stage = "instruction" if field == "instruction" else "instance"
        self.index = RougeIndex(tokenizer)

    def check(self, records: Sequence[Record], pool: Sequence[Record]) -> list[str | None]:
        texts = [str(r.get(self.field) or "") for r in records]
        found = self.index.matches(texts, self.threshold, [str(p.get(self.field) or "") for p in pool])
        return [None if m.keep else f"ROUGE-L {m.score:.3f} > {self.threshold} with {m.closest!r:.120}"
                for m in found]
