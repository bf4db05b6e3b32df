"""Which of a tokenizer's pieces keep a text inside the skills' automaton.

A vocabulary of tens of thousands of pieces is put in a trie of their characters (as the
automaton reads them: lower case, `▁` as a space); from a walked state the trie and the
automaton are walked together, so a branch dies at its first character outside the grammar.
The allowed pieces of a state are kept (many hypotheses and utterances share states).
"""

from __future__ import annotations

import re
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


class _Node:
    __slots__ = ("children", "tokens")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.tokens: list[int] = []


def piece_texts(vocabulary: Mapping[str, int]) -> dict[int, str]:
    """Token id → its text as the automaton reads it (special and byte pieces left out)."""
    out = {}
    for piece, token in vocabulary.items():
        if _SPECIAL.match(piece) or not piece:
            continue
        out[token] = spoken(piece)
    return out


class TokenGrammar:
    """The automaton with a vocabulary: `allowed(state)` per walked state."""

    def __init__(self, automaton: Automaton, pieces: Mapping[int, str]) -> None:
        self.automaton = automaton
        self._root = _Node()
        for token, text in pieces.items():
            self._add(token, text)
        self._cache: dict[int, Allowed] = {}
        self.trims = 0
        """Times the walked states were forgotten (their numbers change)."""

    def _add(self, token: int, text: str) -> None:
        node = self._root
        for char in text:
            child = node.children.get(char)
            if child is None:
                child = node.children[char] = _Node()
            node = child
        node.tokens.append(token)

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
            self._collect(self._root, state, tokens, states)
            found = Allowed(
                np.array(tokens, dtype=np.int64),
                np.array(states, dtype=np.int64),
                self.automaton.accepting(state),
            )
            self._cache[state] = found
        return found

    def _collect(self, root: _Node, state: int, tokens: list[int], states: list[int]) -> None:
        pending = [(root, state)]
        step = self.automaton.step
        while pending:
            node, at = pending.pop()
            for char, child in node.children.items():
                nxt = step(at, char)
                if nxt == DEAD:
                    continue
                if child.tokens:
                    tokens += child.tokens
                    states += [nxt] * len(child.tokens)
                if child.children:
                    pending.append((child, nxt))

    def walk(self, state: int, texts: Iterable[str]) -> int:
        """The state after the pieces `texts` (DEAD when they leave the grammar)."""
        for text in texts:
            state = self.automaton.walk(state, text)
        return state
