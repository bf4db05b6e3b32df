"""Which of a tokenizer's pieces keep a text inside the skills' automaton.

A vocabulary of tens of thousands of pieces is put in a trie of their characters (`PieceTrie`,
as the automaton reads them: lower case, `▁` as a space); from a walked state the trie and the
automaton are walked together, so a branch dies at its first character outside the grammar.
The allowed pieces of a state are kept (many hypotheses and utterances share states).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np

from satellite.stt.automaton import DEAD, Automaton, spoken

_SPECIAL: Final = re.compile(r"^<.*>$")
"""`<s>`, `</s>`, `<unk>`, byte pieces `<0x41>`: never part of a written sentence."""


@dataclass(frozen=True)
class Allowed:
    """The pieces allowed from one state, and the state each leads to."""

    tokens: np.ndarray
    states: np.ndarray
    end: bool
    """True when the sentence may end here (the end token is allowed)."""


def piece_texts(vocabulary: Mapping[str, int]) -> dict[int, str]:
    """Token id → its text as the automaton reads it (special and byte pieces left out)."""
    out = {}
    for piece, token in vocabulary.items():
        if _SPECIAL.match(piece) or not piece:
            continue
        out[token] = spoken(piece)
    return out


class PieceTrie:
    """A vocabulary's pieces in a trie of their characters, in flat arrays: node n's children
    are numbered `first[n]`, `first[n] + 1`, ... and labelled by the characters of
    `labels[n]`; the pieces ending at n are `tokens[at[n]:at[n + 1]]`. Built once per
    vocabulary (a reload of the skills keeps it); 32,768 pieces take a few MiB."""

    def __init__(self, pieces: Mapping[int, str]) -> None:
        ordered = sorted((text, token) for token, text in pieces.items())
        self.labels: list[str] = []
        self.first = array("I")
        self.at = array("I", [0])
        self.tokens = array("I")
        spans = [(0, len(ordered), 0)]  # the pieces [lo, hi) share their first `depth` chars
        for lo, hi, depth in spans:  # breadth first: each node's children numbered together
            while lo < hi and len(ordered[lo][0]) == depth:
                self.tokens.append(ordered[lo][1])
                lo += 1
            self.at.append(len(self.tokens))
            self.first.append(len(spans))
            chars = []
            while lo < hi:
                char = ordered[lo][0][depth]
                end = lo
                while end < hi and ordered[end][0][depth] == char:
                    end += 1
                chars.append(char)
                spans.append((lo, end, depth + 1))
                lo = end
            self.labels.append("".join(chars))


class TokenGrammar:
    """The automaton with a vocabulary: `allowed(state)` per walked state."""

    def __init__(self, automaton: Automaton, pieces: PieceTrie | Mapping[int, str]) -> None:
        self.automaton = automaton
        self.trie = pieces if isinstance(pieces, PieceTrie) else PieceTrie(pieces)
        self._cache: dict[int, Allowed] = {}
        self.trims = 0
        """Times the walked states were forgotten (their numbers change)."""

    def start(self) -> int:
        """The state before the first piece (walked states forgotten if there are too many)."""
        if self.automaton.trim():
            self._cache.clear()
            self.trims += 1
        return self.automaton.start

    def allowed(self, state: int) -> Allowed:
        found = self._cache.get(state)
        if found is None:
            tokens: list[int] = []
            states: list[int] = []
            self._collect(state, tokens, states)
            found = Allowed(
                np.array(tokens, dtype=np.int64),
                np.array(states, dtype=np.int64),
                self.automaton.accepting(state),
            )
            self._cache[state] = found
        return found

    def _collect(self, state: int, tokens: list[int], states: list[int]) -> None:
        trie = self.trie
        labels, first, at, ids = trie.labels, trie.first, trie.at, trie.tokens
        step, next_chars = self.automaton.step, self.automaton.next_chars
        pending = [(0, state)]
        while pending:
            node, where = pending.pop()
            chars = labels[node]
            options = next_chars(where)
            if len(options) < len(chars):
                places = [(k, c) for c in options if (k := chars.find(c)) >= 0]
            else:
                places = list(enumerate(chars))
            for k, char in places:
                nxt = step(where, char)
                if nxt == DEAD:
                    continue
                child = first[node] + k
                ending = ids[at[child] : at[child + 1]]
                if ending:
                    tokens += ending
                    states += [nxt] * len(ending)
                if labels[child]:
                    pending.append((child, nxt))

    def walk(self, state: int, texts: Iterable[str]) -> int:
        """The state after the pieces `texts` (DEAD when they leave the grammar)."""
        for text in texts:
            state = self.automaton.walk(state, text)
        return state
