"""Does the beginning of a sentence of the skills fit a partial utterance? ("turn on the …",
"set a timer for …"): the fast turn then waits longer for the rest (`satellite.voice.endpoint`).

The beam search of `satellite.stt.beam` is run with the end token allowed at every word boundary
inside a sentence (never where one may end: a whole sentence is not a beginning), and the
best beginning is scored against the free decode as a whole sentence is: the same floors of
LR and worst token (`satellite.stt.rejection.HoldConfig`), but not of the end token, which
Moonshine finds unlikely after a sentence broken off ("set a timer for": -2 to -5). Taking a
question for a beginning only costs waiting longer; taking a beginning for a command cuts the
user off.
"""

from __future__ import annotations

import numpy as np

from satellite.stt.automaton import DEAD
from satellite.stt.beam import widening_search
from satellite.stt.moonshine_steps import Scored, Steps
from satellite.stt.rejection import HoldConfig
from satellite.stt.tokens import Allowed, TokenGrammar


class PrefixGrammar:
    """`TokenGrammar` whose sentences are the strict beginnings of its sentences, cut between
    two words."""

    def __init__(self, grammar: TokenGrammar) -> None:
        self.grammar = grammar
        self._cache: dict[int, Allowed] = {}
        self._trims = grammar.trims

    def start(self) -> int:
        state = self.grammar.start()
        if self.grammar.trims != self._trims:
            self._cache.clear()  # the walked states were renumbered
            self._trims = self.grammar.trims
        return state

    def allowed(self, state: int) -> Allowed:
        found = self._cache.get(state)
        if found is None:
            whole = self.grammar.allowed(state)
            automaton = self.grammar.automaton
            between = automaton.step(state, " ") != DEAD and state != automaton.start
            found = Allowed(whole.tokens, whole.states, between and not whole.end)
            self._cache[state] = found
        return found


def beginning_fits(
    steps: Steps,
    hidden: np.ndarray,
    grammar: PrefixGrammar,
    free: Scored,
    config: HoldConfig,
    limit: int,
    sentence: float | None = None,
    min_tokens: int = 0,
) -> bool:
    """True when a beginning of a sentence of `min_tokens` to `limit` tokens fits the audio
    as well as a sentence must, and better than the whole `sentence` accepted (its total
    log-probability; None: none was). With a sentence accepted the caller asks for beginnings
    longer than it (the user said it and goes on): a short one ("Set" for "set the volume to
    fifty percent") with an unlikely end token can score above the whole sentence without
    explaining the rest of the audio. (Without one, no such floor: Moonshine's free decode of
    a broken-off command runs on with words nobody said, "turn off the fucking fucking", so
    its length says nothing.)"""
    best = widening_search(
        steps, hidden, grammar, (config.beam,), max(limit, min_tokens), min_tokens
    )
    if best is None or (sentence is not None and best.total <= sentence):
        return False
    lr = (best.total - free.total) / max(1, len(free.tokens))
    return lr >= config.min_lr and best.worst >= config.min_token
