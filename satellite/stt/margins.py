"""Slot margins: how much better the sentence scores with its own slot value than with the
best rival value (`satellite.stt.slot_rivals`), from the sentence's own decoder pass.

The sentence is teacher-forced once; that pass gives the log-probability of every token a
rival could put after each prefix of the sentence. A rival shares the sentence's tokens up to
its first different one, so its score up to and including that token is read from the pass,
and a rival cannot score more than that (every later token costs). A rival already further
behind than the margin needed (with some slack) is settled; the few others are scored to
their end from the shared prefix's cache, a few per decoder call, each call beside the
sentence's own continuation: the decoder quantises its activations per call, so a score is
compared only with the sentence's own from the same call (they differ by up to 0.2 between
calls of different sizes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from satellite.stt.moonshine import END_TOKEN
from satellite.stt.moonshine_steps import Steps, prefix_cache
from satellite.stt.slot_rivals import Place, Rival

POSITIONS_PER_CALL: Final = 96
"""Most token positions (rows x length) scored in one decoder call. A call's logits are
positions x vocabulary floats and its outputs hold the encoder's keys and values once per
row: a number slot's hundred rivals in one call took 220 MiB for a moment, in calls of this
size about 12 MiB of logits."""
SLACK: Final = 0.5
"""The cached and uncached passes differ by up to a few tenths: rivals within the margin plus
this are scored in full."""


@dataclass(frozen=True)
class Contest:
    """One slot value against its best rival."""

    place: Place
    rival: str
    margin: float


def _diverge(own: Sequence[int], other: Sequence[int]) -> int:
    """The first index where the two (each ending with the end token) differ."""
    for i, (a, b) in enumerate(zip(own, other, strict=False)):
        if a != b:
            return i
    return min(len(own), len(other)) - 1


def contests(
    steps: Steps,
    hidden: np.ndarray,
    sentence: str,
    places: Sequence[tuple[Place, Sequence[Rival]]],
    needed: float,
) -> list[Contest]:
    """Each slot's margin over its best rival (inf when it has none)."""
    own = [*steps.encode_text(sentence), END_TOKEN]
    probs, cache = steps.rows(hidden, own[:-1])
    picked = probs[np.arange(len(own)), own]
    own_total = float(picked.sum())
    bounds: list[list[tuple[float, list[int], int, str]]] = []
    for _place, rivals in places:
        scored = []
        for rival in rivals:
            tokens = [*steps.encode_text(rival.text), END_TOKEN]
            q = _diverge(own, tokens)
            bound = float(picked[:q].sum() + probs[q, tokens[q]])
            scored.append((bound, tokens, q, rival.value))
        bounds.append(scored)
    close = [s for b in bounds for s in b if own_total - s[0] < needed + SLACK]
    full = _score_close(steps, hidden, cache, own, close, picked)
    out = []
    for (place, _rivals), scored in zip(places, bounds, strict=True):
        best, name = -math.inf, ""
        for bound, tokens, _q, value in scored:
            total = full.get(tuple(tokens), bound)
            if total > best:
                best, name = total, value
        margin = full.get(tuple(own), own_total) - best if name else math.inf
        out.append(Contest(place, name, margin))
    return out


def chunks(count: int, length: int) -> list[range]:
    """Rows of rivals per call: with the sentence's own row, at most `POSITIONS_PER_CALL`
    positions (and at least one rival)."""
    size = max(1, POSITIONS_PER_CALL // max(1, length) - 1)
    return [range(start, min(count, start + size)) for start in range(0, count, size)]


def _score_close(
    steps: Steps,
    hidden: np.ndarray,
    cache: dict[str, np.ndarray],
    own: list[int],
    close: list[tuple[float, list[int], int, str]],
    picked: np.ndarray,
) -> dict[tuple[int, ...], float]:
    """Whole scores of the close rivals and of the sentence itself, from their shared prefix;
    each call's rivals are moved by the difference between the sentence's score in that call
    and in the first."""
    if not close:
        return {}
    shared = min(q for _, _, q, _ in close)
    rivals = [tokens for _, tokens, _, _ in close]
    length = max(len(s) for s in [own, *rivals]) - max(0, shared - 1)
    scores: dict[tuple[int, ...], float] = {}
    for rows in chunks(len(rivals), length):
        batch = [own, *(rivals[i] for i in rows)]
        totals = _whole(steps, hidden, cache, batch, shared, picked)
        offset = scores.setdefault(tuple(own), totals[0]) - totals[0]
        for sequence, total in zip(batch[1:], totals[1:], strict=True):
            scores[tuple(sequence)] = total + offset
    return scores


def _whole(
    steps: Steps,
    hidden: np.ndarray,
    cache: dict[str, np.ndarray],
    sequences: list[list[int]],
    shared: int,
    picked: np.ndarray,
) -> list[float]:
    """The whole score of each sequence (each ending with the end token), in one call."""
    if shared == 0:
        return [f.total for f in steps.force(hidden, [s[:-1] for s in sequences])]
    head = prefix_cache(cache, shared)
    prefix = float(picked[:shared].sum())
    rests = steps.carry_on(hidden, head, [s[shared - 1 : -1] for s in sequences])
    return [prefix + sum(r) for r in rests]
