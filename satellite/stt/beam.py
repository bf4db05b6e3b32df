"""Beam search over Moonshine's tokens held to the skills' sentences.

Every hypothesis of the beam is one decoder row (all of them in one call per step); a token is
allowed only when the text stays inside the automaton, the end token only where a sentence may
end. Scores are total log-probabilities over the whole vocabulary, so they only fall as a
hypothesis grows: once the best finished sentence scores above every live hypothesis, nothing
can beat it and the search stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np

from satellite.stt.moonshine import END_TOKEN
from satellite.stt.moonshine_steps import Scored, Steps
from satellite.stt.tokens import Allowed

PRUNE: Final = 8.0
"""Hypotheses this much (log-probability) behind the best one are dropped."""


class TokenGrammar(Protocol):
    """What the search needs of a grammar (`satellite.stt.tokens`, `satellite.stt.prefixes`)."""

    def start(self) -> int: ...

    def allowed(self, state: int) -> Allowed: ...


@dataclass(frozen=True)
class _Hypothesis:
    tokens: tuple[int, ...]
    logprobs: tuple[float, ...]
    state: int

    @property
    def total(self) -> float:
        return float(sum(self.logprobs))


def _candidates(
    beam: list[_Hypothesis],
    probs: np.ndarray,
    grammar: TokenGrammar,
    width: int,
    min_tokens: int = 0,
) -> tuple[list[tuple[float, int, int, int]], list[Scored]]:
    """(score, row, token, state) of the best extensions, and the sentences ending here (of
    at least `min_tokens` tokens)."""
    found: list[tuple[float, int, int, int]] = []
    finished: list[Scored] = []
    for row, hypothesis in enumerate(beam):
        allowed = grammar.allowed(hypothesis.state)
        base = hypothesis.total
        if allowed.end and len(hypothesis.tokens) >= min_tokens:
            end = float(probs[row, END_TOKEN])
            finished.append(Scored(hypothesis.tokens, (*hypothesis.logprobs, end), True))
        if not len(allowed.tokens):
            continue
        scores = probs[row, allowed.tokens]
        best = np.argsort(-scores)[:width]
        found += [
            (base + float(scores[i]), row, int(allowed.tokens[i]), int(allowed.states[i]))
            for i in best
        ]
    found.sort(key=lambda c: -c[0])
    if found:  # far behind the best, a hypothesis only costs a decoder row
        found = [c for c in found if c[0] > found[0][0] - PRUNE]
    return found[:width], finished


def search(
    steps: Steps,
    hidden: np.ndarray,
    grammar: TokenGrammar,
    width: int,
    max_tokens: int,
    min_tokens: int = 0,
) -> Scored | None:
    """The likeliest sentence of the grammar of `min_tokens` to `max_tokens` tokens for the
    encoded audio; None when the beam found none."""
    first, cache = steps.first(hidden)
    probs = first[np.newaxis, :]
    beam = [_Hypothesis((), (), grammar.start())]
    best: Scored | None = None
    for _ in range(max_tokens + 1):
        extensions, finished = _candidates(beam, probs, grammar, width, min_tokens)
        for sentence in finished:
            if best is None or sentence.total > best.total:
                best = sentence
        live = [c for c in extensions if best is None or c[0] > best.total]
        if not live:
            break
        rows = np.array([c[1] for c in live], dtype=np.int64)
        beam = [
            _Hypothesis(
                (*beam[row].tokens, token),
                (*beam[row].logprobs, score - beam[row].total),
                state,
            )
            for score, row, token, state in live
        ]
        tokens = np.array([c[2] for c in live], dtype=np.int64)
        probs, cache = steps.step(tokens, steps.take(cache, rows), hidden)
    return best


def widening_search(
    steps: Steps,
    hidden: np.ndarray,
    grammar: TokenGrammar,
    widths: tuple[int, ...],
    max_tokens: int,
    min_tokens: int = 0,
) -> Scored | None:
    """`search` with each width in turn until one finds a sentence."""
    for width in widths:
        found = search(steps, hidden, grammar, width, max_tokens, min_tokens)
        if found is not None:
            return found
    return None
