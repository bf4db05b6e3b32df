"""Which words the free decode heard confidently, and how many of them a sentence says.

A near-miss snaps onto the grammar with most of its words ("what time is it in tokyo" →
"what time is it"): the sentence's scores stay good, but the free decode heard "tokyo" with
confidence and the sentence does not say it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from satellite.stt.automaton import number_words
from satellite.stt.moonshine import normalize
from satellite.stt.moonshine_steps import Scored, Steps


@dataclass(frozen=True)
class Word:
    text: str
    logprob: float
    """The least likely of its tokens."""
    confident: bool


def _canonical(word: str) -> list[str]:
    """A word as compared: digits spelled out (so "5" and "five" agree), hyphens split."""
    if word.isdigit() and len(word) <= 4:
        return number_words(int(word))[0].split()
    return word.replace("-", " ").split()


def free_words(steps: Steps, free: Scored, confident: float) -> list[Word]:
    """The free decode's words with the log-probability of their least likely token."""
    words: list[Word] = []
    current, worst = "", 0.0
    for token, logprob in zip(free.tokens, free.logprobs, strict=False):
        piece = steps.tokenizer.piece(token) or ""
        if piece.startswith("▁") and current:
            words += _words(current, worst, confident)
            current, worst = "", 0.0
        current += piece.replace("▁", " ")
        worst = min(worst, logprob)
    if current:
        words += _words(current, worst, confident)
    return words


def _words(text: str, worst: float, confident: float) -> list[Word]:
    return [Word(w, worst, worst >= confident) for w in normalize(text).split()]


def coverage(words: list[Word], sentence: str) -> float:
    """The share of the confident words that `sentence` (as matched) says; 1 with none."""
    said = Counter(w for part in sentence.split() for w in _canonical(part))
    sure = [c for w in words if w.confident for c in _canonical(w.text)]
    if not sure:
        return 1.0
    covered = 0
    for word in sure:
        if said[word] > 0:
            said[word] -= 1
            covered += 1
    return covered / len(sure)
