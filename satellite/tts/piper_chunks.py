"""A sentence's phonemes cut into pieces short enough for one bounded run of a Piper voice.

A Piper voice's working memory grows with the audio one run makes: about 35 MB per second of
speech for a medium voice (`scripts/memory_breakdown.py`, docs/FULL_PROFILE.md), so a long
sentence made in one run is the satellite's memory peak. Cutting it bounds the peak, and the
first piece is heard sooner. Cuts go after a clause mark (`,` `;` `:`) where one is in reach,
else between words; a word longer than the limit is cut inside it only as a last resort.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

CLAUSE_MARKS: Final = frozenset(",;:\u2014\u2013")
"""Phonemes after which a cut sounds like a pause the speaker would make."""
WORD_GAP: Final = " "


def split_phonemes(phonemes: Sequence[str], limit: int) -> list[list[str]]:
    """`phonemes` in pieces of at most `limit`: its clauses (cut after `,` `;` `:`), joined
    while they fit; a clause longer than `limit` cut between words into pieces of about equal
    length. The gap at a cut is dropped (each piece is spoken on its own): the pieces joined
    with a gap give back the phonemes. No phonemes, no pieces."""
    if limit < 1:
        raise ValueError(f"limit: expected at least 1 phoneme, got {limit}")
    pieces: list[list[str]] = []
    for clause in _clauses(list(phonemes)):
        for unit in _even(clause, limit):
            if pieces and len(pieces[-1]) + 1 + len(unit) <= limit:
                pieces[-1] += [WORD_GAP, *unit]
            else:
                pieces.append(unit)
    return pieces


def _clauses(phonemes: list[str]) -> list[list[str]]:
    """Cut at each word gap that follows a clause mark."""
    clauses: list[list[str]] = [[]]
    for i, phoneme in enumerate(phonemes):
        if phoneme == WORD_GAP and i and phonemes[i - 1] in CLAUSE_MARKS:
            clauses.append([])
        else:
            clauses[-1].append(phoneme)
    return [clause for clause in clauses if clause]


def _even(clause: list[str], limit: int) -> list[list[str]]:
    """`clause` in pieces of at most `limit` and about equal length, cut between words (inside
    a word only when a word is longer than `limit`)."""
    pieces: list[list[str]] = []
    rest = clause
    while len(rest) > limit:
        count = -(-len(rest) // limit)
        target = -(-len(rest) // count)
        gaps = [i for i in range(1, limit + 1) if rest[i] == WORD_GAP]
        cut = min(gaps, key=lambda i: abs(i - target)) if gaps else limit
        pieces.append(rest[:cut])
        rest = rest[cut + 1 :] if rest[cut] == WORD_GAP else rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces
