"""Summaries of timing samples, and word accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Stats:
    """Summary of one stage's samples, in milliseconds."""

    n: int
    min: float
    max: float
    mean: float
    p50: float
    p99: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(samples: Sequence[float]) -> Stats | None:
    """min, max, mean and percentiles (linear interpolation) of `samples`; None when empty."""
    if not samples:
        return None
    x = np.asarray(samples, dtype=np.float64)
    return Stats(
        n=len(x),
        min=_round(x.min()),
        max=_round(x.max()),
        mean=_round(x.mean()),
        p50=_round(np.percentile(x, 50)),
        p99=_round(np.percentile(x, 99)),
    )


def _round(value: Any) -> float:
    return round(float(value), 3)


def word_errors(reference: str, hypothesis: str) -> int:
    """Word-level edit distance (substitutions + insertions + deletions)."""
    ref, hyp = reference.split(), hypothesis.split()
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1]


def word_accuracy(pairs: Sequence[tuple[str, str]]) -> float | None:
    """1 - WER over (reference, hypothesis) pairs; None without reference words."""
    words = sum(len(ref.split()) for ref, _ in pairs)
    if words == 0:
        return None
    errors = sum(word_errors(ref, hyp) for ref, hyp in pairs)
    return round(1.0 - errors / words, 4)
